package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpKind;
import dev.tfs.op.OpRules;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.Stat;
import dev.tfs.sink.MirrorApplier;
import dev.tfs.tools.verify.TreeVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture over a real mount: the journal replays to exactly the store, with the right fields. */
class CaptureFsTest {
  @TempDir Path tmp;

  @Test
  void workloadIsCapturedAndReplaysToTheStore() throws Exception {
    Path plain = Files.createDirectory(tmp.resolve("plain"));
    long start = System.currentTimeMillis() * 1_000_000L - 60_000_000_000L;
    Shell.workload(plain);
    List<OpRecord> ops;
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Shell.workload(f.mnt);
      f.journal.sync();
      ops = Journals.read(f.journalDir);
      assertThat(f.metrics.getOpsCaptured()).isEqualTo(ops.size());
    }
    Path store = tmp.resolve("store");
    // The store is what the same commands give on a plain directory.
    Trees.assertSameWorkload(plain, store, start, "repo/.git");
    // Replaying the journal onto an empty directory gives the store, times included.
    Path replay = Files.createDirectory(tmp.resolve("replay"));
    Journals.replay(ops, replay);
    Trees.assertIdentical(store, replay);
    // Every kind the workload performs is there.
    assertThat(ops.stream().map(OpKind::of).collect(Collectors.toSet()))
        .contains(
            OpKind.CREATE,
            OpKind.MKDIR,
            OpKind.MKNOD,
            OpKind.WRITE,
            OpKind.TRUNCATE,
            OpKind.FALLOCATE,
            OpKind.UNLINK,
            OpKind.RMDIR,
            OpKind.RENAME,
            OpKind.LINK,
            OpKind.SYMLINK,
            OpKind.SETATTR,
            OpKind.SETXATTR,
            OpKind.REMOVEXATTR);
  }

  @Test
  void singleOpsCarryTheirFields() throws Exception {
    List<OpRecord> ops;
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Shell.run(
          f.mnt,
          "echo hi > a && mv a b && touch -m -d @1100000000 b && touch -a -d @1200000000 b"
              + " && python3 -c 'open(b\"\\xe9\", \"wb\").write(b\"x\")'");
      f.journal.sync();
      ops = Journals.read(f.journalDir);
    }
    List<String> lines = ops.stream().map(Ops::describe).collect(Collectors.toList());
    assertThat(lines.get(0)).isEqualTo("1 create a");
    assertThat(lines.get(1)).isEqualTo("2 write a offset=0 bytes=3");
    assertThat(lines.get(2)).isEqualTo("3 rename a -> b");
    SetAttr m = (SetAttr) ops.get(3).getOp();
    assertThat(m.getMtime()).isEqualTo(1_100_000_000_000_000_000L);
    assertThat(m.getAtime()).isNull();
    SetAttr a = (SetAttr) ops.get(4).getOp();
    assertThat(a.getAtime()).isEqualTo(1_200_000_000_000_000_000L);
    assertThat(a.getMtime()).isNull();
    assertThat(Ops.path(ops.get(5))).containsExactly((byte) 0xe9);
    for (OpRecord op : ops) {
      assertThat(op.getVolume()).isEqualTo("test");
      assertThat(op.getTime()).isPositive();
    }
    assertThat(ops.get(0).getParentMtime()).isNotNull();
    assertThat(ops.get(1).getMtime()).isNotNull();
  }

  /**
   * mknod of char and block devices works on the mount (as root), is captured with the store's
   * device number, and the journal replays to the same nodes with a {@code create} applier; a
   * {@code skip} applier leaves them out, which verify names as skipped by policy.
   */
  @Test
  void deviceNodesAreCapturedWithTheirNumbersAndReplayToTheSameNodes() throws Exception {
    List<OpRecord> ops;
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Shell.run(
          f.mnt,
          "mkdir dev && mknod dev/null c 1 3 && mknod -m 0640 dev/sda b 8 0"
              + " && chown 1234:5678 dev/sda && mknod dev/big c 511 70000 && chmod 0600 dev/null"
              + " && ln dev/null dev/null2 && mv dev/big dev/big2 && touch -h -d @1000000000 dev/sda");
      // The mount is nodev: a device node on it cannot be opened through it.
      assertThat(Shell.run(f.mnt, "head -c0 dev/null 2>&1 || echo refused"))
          .contains("Permission denied")
          .contains("refused");
      f.journal.sync();
      ops = Journals.read(f.journalDir);
    }
    List<Mknod> nodes =
        ops.stream()
            .filter(o -> OpKind.of(o) == OpKind.MKNOD)
            .map(o -> (Mknod) o.getOp())
            .collect(Collectors.toList());
    assertThat(nodes).hasSize(3);
    assertThat(nodes.get(0).getMode() & OpRules.S_IFMT).isEqualTo(OpRules.S_IFCHR);
    assertThat(nodes.get(0).getRdev()).isEqualTo(Posix.makedev(1, 3));
    assertThat(nodes.get(1).getMode()).isEqualTo(OpRules.S_IFBLK | 0640);
    assertThat(nodes.get(1).getRdev()).isEqualTo(Posix.makedev(8, 0));
    assertThat(OpRules.deviceMajor(nodes.get(2).getRdev())).isEqualTo(511);
    assertThat(OpRules.deviceMinor(nodes.get(2).getRdev())).isEqualTo(70000);
    Path store = tmp.resolve("store");
    Stat onStore = stat(store, "dev/big2");
    assertThat(onStore.type()).isEqualTo(Flags.S_IFCHR);
    assertThat(onStore.rdev()).isEqualTo(nodes.get(2).getRdev());

    Path created = Files.createDirectory(tmp.resolve("created"));
    assertThat(Journals.replay(ops, created, MirrorApplier.SpecialFiles.CREATE)).isZero();
    Trees.assertIdentical(store, created);
    Stat sda = stat(created, "dev/sda");
    assertThat(sda.type()).isEqualTo(Flags.S_IFBLK);
    assertThat(sda.rdevMajor()).isEqualTo(8);
    assertThat(sda.rdevMinor()).isEqualTo(0);
    assertThat(sda.permissions()).isEqualTo(0640);
    assertThat(sda.uid()).isEqualTo(1234);
    assertThat(sda.gid()).isEqualTo(5678);
    assertThat(stat(created, "dev/null").ino()).isEqualTo(stat(created, "dev/null2").ino());

    Path skipped = Files.createDirectory(tmp.resolve("skipped"));
    assertThat(Journals.replay(ops, skipped, MirrorApplier.SpecialFiles.SKIP)).isEqualTo(4);
    assertThat(Files.exists(skipped.resolve("dev"))).isTrue();
    try (var l = Files.list(skipped.resolve("dev"))) {
      assertThat(l).isEmpty();
    }
    TreeVerifier.Result strict = TreeVerifier.compare(store, skipped, TreeVerifier.Options.all());
    assertThat(strict.identical()).isFalse();
    assertThat(strict.differences()).isEmpty();
    assertThat(strict.skippedDeviceCount()).isEqualTo(4);
    TreeVerifier.Result accepted =
        TreeVerifier.compare(
            store, skipped, TreeVerifier.Options.all().withSkippedDevicesAccepted(true));
    assertThat(accepted.identical()).isTrue();
  }

  private static Stat stat(Path root, String rel) throws Exception {
    int fd = Posix.openDirectory(root);
    try {
      return Posix.stat(fd, rel.getBytes(StandardCharsets.UTF_8), false);
    } finally {
      Posix.closeQuietly(fd);
    }
  }
}
