package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfs.op.OpRules;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.RemoveXattr;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.Stat;
import dev.tfs.tools.verify.TreeVerifier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Device nodes in the mirror: tfs.special.files=skip (the default) and create. */
class MirrorApplierDeviceTest {
  @TempDir Path tmp;

  static final long NULL = Posix.makedev(1, 3);
  static final long SDA = Posix.makedev(8, 0);

  static Stream<Arguments> devices() {
    return Stream.of(
        Arguments.of(OpRules.S_IFCHR, false),
        Arguments.of(OpRules.S_IFCHR, true),
        Arguments.of(OpRules.S_IFBLK, false),
        Arguments.of(OpRules.S_IFBLK, true));
  }

  /**
   * What the hostile table asked of "char/block device via mknod" before: under skip such a record
   * creates nothing (not in the root, not outside it) and is counted; a re-application counts it
   * once.
   */
  @ParameterizedTest(name = "type {0} (walk fallback: {1})")
  @MethodSource("devices")
  void underSkipADeviceIsNotCreatedAndIsCounted(int type, boolean walkFallback) throws Exception {
    Path root = tmp.resolve("mirror");
    Path outside = tmp.resolve("outside");
    Files.createDirectories(root.resolve("d"));
    Files.createDirectories(outside.resolve("d"));
    Files.writeString(outside.resolve("secret"), "secret");
    Files.createSymbolicLink(root.resolve("ln"), outside);
    Path before = Trees.snapshot(outside, tmp.resolve("outside-before"));
    setWalkFallback(walkFallback);
    try (MirrorApplier a = new MirrorApplier(root, MirrorApplier.OwnerPolicy.AUTO)) {
      assertThat(a.specialFiles()).isEqualTo(MirrorApplier.SpecialFiles.SKIP);
      OpRecord dev = MirrorApplierTest.raw("dev", new Mknod(type | 0666, 0, 0, SDA));
      OpRecord inDir = MirrorApplierTest.raw("d/dev", new Mknod(type | 0666, 0, 0, NULL));
      a.apply(dev);
      a.apply(inDir);
      a.apply(dev); // re-application
      assertThat(a.skippedSpecialFiles()).isEqualTo(2);
      // Through a symlink in the mirror the skip does not loosen confinement.
      OpRecord through = MirrorApplierTest.raw("ln/dev", new Mknod(type | 0666, 0, 0, SDA));
      assertThatThrownBy(() -> a.apply(through))
          .isInstanceOfSatisfying(
              ApplyException.class,
              e -> assertThat(e.kind()).isEqualTo(ApplyException.Kind.REFUSED));
      assertThat(a.skippedSpecialFiles()).isEqualTo(2);
    } finally {
      setWalkFallback(false);
    }
    assertThat(Files.exists(root.resolve("dev"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .isFalse();
    try (Stream<Path> l = Files.list(root.resolve("d"))) {
      assertThat(l).isEmpty();
    }
    Trees.assertSame(before, outside, true);
    assertThat(Files.exists(outside.resolve("dev"))).isFalse();
  }

  /**
   * Every later op a source can record on a device node's name, applied twice each (G3), with a
   * restart of the applier in the middle (the skipped names come back from their file): the mirror
   * neither fails nor diverges, and equals a mirror that created the nodes in all but them.
   */
  @Test
  void laterOpsOnASkippedNodeFollowTheSkip() throws Exception {
    assumeTrue(Posix.geteuid() == 0, "the reference mirror creates device nodes: needs root");
    History h = new History("vol", 1L, 4);
    h.add("d", new Mkdir(0755, 0, 0));
    h.add("d/null", new Mknod(OpRules.S_IFCHR | 0666, 0, 0, NULL));
    h.add("d/null", new SetAttr(0600, 7, 8, null, History.T0 + 3));
    h.add("d/null", new SetXattr(History.buf("trusted.k"), History.buf("v")));
    h.add("d/null", new RemoveXattr(History.buf("trusted.k")));
    h.add("d/null", new Link(History.buf("d/null2"), History.T0 + 4));
    h.add("d/f", new Create(0644, 0, 0));
    h.add("d/f", new Write(0L, History.buf("replaced by the node")));
    h.add("d/null", new Rename(History.buf("d/f"), History.T0 + 5)); // over a real file
    h.add("d/sda", new Mknod(OpRules.S_IFBLK | 0660, 0, 6, SDA));
    h.add("d/g", new Create(0644, 0, 0));
    h.add("d/g", new Rename(History.buf("d/sda"), History.T0 + 6)); // a file over the node
    h.add("e", new Mkdir(0755, 0, 0));
    h.add("d", new Rename(History.buf("e/d"), History.T0 + 7)); // the skips move with d
    h.add("e/d/null2", new Unlink());
    h.add("e/d/zero", new Mknod(OpRules.S_IFCHR | 0666, 0, 0, Posix.makedev(1, 5)));
    Path ref = Files.createDirectories(tmp.resolve("ref"));
    try (MirrorApplier a =
        new MirrorApplier(
            ref,
            MirrorApplier.OwnerPolicy.AUTO,
            MirrorApplier.SpecialFiles.CREATE,
            SkippedNodes.inMemory())) {
      for (OpRecord op : h.ops) {
        a.apply(op);
      }
    }
    Path root = Files.createDirectories(tmp.resolve("mirror"));
    Path file = tmp.resolve("m.skipped");
    int half = h.ops.size() / 2;
    for (List<OpRecord> part : List.of(h.ops.subList(0, half), h.ops.subList(half, h.ops.size()))) {
      try (MirrorApplier a =
          new MirrorApplier(
              root,
              MirrorApplier.OwnerPolicy.AUTO,
              MirrorApplier.SpecialFiles.SKIP,
              SkippedNodes.open(file, false))) {
        for (OpRecord op : part) {
          a.apply(op);
          a.apply(op);
        }
      }
    }
    SkippedNodes left = SkippedNodes.open(file, false);
    assertThat(left.names().stream().map(n -> new String(n, StandardCharsets.UTF_8)))
        .containsExactly("e/d/f", "e/d/zero");
    assertThat(Files.readString(root.resolve("e/d/sda"))).isEmpty(); // the file that replaced it
    TreeVerifier.Result r =
        TreeVerifier.compare(ref, root, Trees.g4(true).withSkippedDevicesAccepted(true));
    assertThat(r.differences()).isEmpty();
    assertThat(r.identical()).isTrue();
    assertThat(r.skippedDevices())
        .extracting(TreeVerifier.Difference::path)
        .containsExactly("e/d/f", "e/d/zero");
    assertThat(TreeVerifier.compare(ref, root, Trees.g4(true)).identical()).isFalse();
  }

  @Test
  void aWriteToASkippedNodeIsDivergence() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("mirror"));
    try (MirrorApplier a = new MirrorApplier(root, MirrorApplier.OwnerPolicy.AUTO)) {
      a.apply(MirrorApplierTest.raw("null", new Mknod(OpRules.S_IFCHR | 0666, 0, 0, NULL)));
      assertThatThrownBy(() -> a.apply(MirrorApplierTest.raw("null", new Truncate(0L))))
          .isInstanceOfSatisfying(
              ApplyException.class,
              e -> assertThat(e.kind()).isEqualTo(ApplyException.Kind.DIVERGED))
          .hasMessageContaining("tfs.special.files=skip");
    }
  }

  /** create as root: the same node (type, major:minor, mode, owner, mtime); never opened. */
  @Test
  void createMakesTheSameNodeAsRoot() throws Exception {
    assumeTrue(Posix.geteuid() == 0, "creating device nodes needs root");
    Path root = Files.createDirectories(tmp.resolve("mirror"));
    History h = new History("vol", 1L, 1);
    h.add("null", new Mknod(OpRules.S_IFCHR | 0620, 1234, 5678, NULL));
    h.add("sda", new Mknod(OpRules.S_IFBLK | 0640, 0, 6, SDA));
    try (MirrorApplier a =
        new MirrorApplier(
            root,
            MirrorApplier.OwnerPolicy.AUTO,
            MirrorApplier.SpecialFiles.CREATE,
            SkippedNodes.inMemory())) {
      for (OpRecord op : h.ops) {
        a.apply(op);
        a.apply(op); // re-application
      }
      assertThat(a.skippedSpecialFiles()).isZero();
      Stat n = MirrorApplierTest.stat(root, "null");
      assertThat(n.type()).isEqualTo(Flags.S_IFCHR);
      assertThat(n.rdevMajor()).isEqualTo(1);
      assertThat(n.rdevMinor()).isEqualTo(3);
      assertThat(n.permissions()).isEqualTo(0620);
      assertThat(n.uid()).isEqualTo(1234);
      assertThat(n.gid()).isEqualTo(5678);
      assertThat(n.mtimeNs()).isEqualTo(h.ops.get(0).getMtime());
      Stat s = MirrorApplierTest.stat(root, "sda");
      assertThat(s.type()).isEqualTo(Flags.S_IFBLK);
      assertThat(s.rdev()).isEqualTo(SDA);
      assertThat(s.permissions()).isEqualTo(0640);
      assertThat(s.gid()).isEqualTo(6);
      // Another device at the same name is divergence, not a silent re-application.
      OpRecord other = MirrorApplierTest.raw("null", new Mknod(OpRules.S_IFCHR | 0620, 0, 0, SDA));
      assertThatThrownBy(() -> a.apply(other))
          .isInstanceOfSatisfying(
              ApplyException.class,
              e -> assertThat(e.kind()).isEqualTo(ApplyException.Kind.DIVERGED));
      // A write to a device node is refused before any open (opening /dev/null would succeed).
      OpRecord w = MirrorApplierTest.raw("null", new Write(0L, History.buf("x")));
      assertThatThrownBy(() -> a.apply(w))
          .isInstanceOfSatisfying(
              ApplyException.class,
              e -> assertThat(e.kind()).isEqualTo(ApplyException.Kind.DIVERGED))
          .hasMessageContaining("a char device 1:3");
    }
  }

  /** create by a worker that is not root: a loud failure that says why and what to do. */
  @Test
  void createAsNonRootFailsLoudly() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("mirror"));
    try (MirrorApplier a =
        new MirrorApplier(
            root,
            MirrorApplier.OwnerPolicy.IGNORE,
            MirrorApplier.SpecialFiles.CREATE,
            SkippedNodes.inMemory(),
            1000)) {
      OpRecord op = MirrorApplierTest.raw("sda", new Mknod(OpRules.S_IFBLK | 0660, 0, 0, SDA));
      assertThatThrownBy(() -> a.apply(op))
          .isInstanceOfSatisfying(
              ApplyException.class,
              e -> assertThat(e.kind()).isEqualTo(ApplyException.Kind.PERMISSION))
          .hasMessageContaining("block device node sda (8:0")
          .hasMessageContaining("does not run as root")
          .hasMessageContaining("Run the worker as root, or set tfs.special.files=skip");
      // FIFOs are still made.
      a.apply(MirrorApplierTest.raw("fifo", new Mknod(OpRules.S_IFIFO | 0644, 0, 0, 0L)));
    }
    assertThat(Files.exists(root.resolve("sda"))).isFalse();
    assertThat(MirrorApplierTest.stat(root, "fifo").isFifo()).isTrue();
  }

  @Test
  void skippedNamesSurviveAndADamagedFileIsRefused() throws Exception {
    Path file = tmp.resolve("x.skipped");
    SkippedNodes s = SkippedNodes.open(file, false);
    s.add("a/b".getBytes(StandardCharsets.UTF_8));
    s.add(new byte[] {'c', (byte) 0xe9});
    s.save();
    assertThat(SkippedNodes.open(file, false).names())
        .containsExactly("a/b".getBytes(StandardCharsets.UTF_8), new byte[] {'c', (byte) 0xe9});
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 6] ^= 1;
    Files.write(file, bytes);
    assertThatThrownBy(() -> SkippedNodes.open(file, false))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("damaged")
        .hasMessageContaining("Rebuild");
    // A fresh mirror (new state) starts from nothing.
    assertThat(SkippedNodes.open(file, true).size()).isZero();
    assertThat(Files.exists(file)).isFalse();
  }

  private static void setWalkFallback(boolean walk) throws Exception {
    var m = Posix.class.getDeclaredMethod("forceWalkFallback", boolean.class);
    m.setAccessible(true);
    m.invoke(null, walk);
  }
}
