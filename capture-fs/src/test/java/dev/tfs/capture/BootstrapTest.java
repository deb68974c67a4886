package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.fs.FuseMount;
import dev.tfs.journal.Durability;
import dev.tfs.op.OpCodec;
import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.SnapshotBegin;
import dev.tfs.posix.Posix;
import dev.tfs.sink.MirrorApplier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store that already holds files is recorded as snapshot ops that replay to an equal tree. */
class BootstrapTest {
  @TempDir Path tmp;

  @Test
  void snapshotOfANonEmptyStoreReplaysToAnIdenticalTree() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Shell.run(
        store,
        "mkdir -p d/e && echo one > d/e/f && ln d/e/f d/hard && ln -s e/f d/sym && mkfifo d/fifo"
            + " && setfattr -n user.k -v v d/e/f && setfattr -n user.dir -v x d"
            + " && truncate -s 3M sparse && printf xyz | dd of=sparse bs=1 seek=1000000 conv=notrunc status=none"
            + " && echo $'\\xe9' > $'caf\\xe9' && chmod 640 d/e/f && chown 7:8 d/e/f && chmod 1777 d/e"
            + " && touch -h -d @1000000000 d/sym && touch -d @1000000001 d/e/f sparse"
            + " && touch -d @1000000002 d/e d");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Path journal = bootstrap(store, "", out);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("bootstrap").contains("mounted");
    List<OpRecord> ops = Journals.read(journal);
    assertThat(OpKind.of(ops.get(0))).isEqualTo(OpKind.SNAPSHOT_BEGIN);
    assertThat(OpKind.of(ops.get(ops.size() - 1))).isEqualTo(OpKind.SNAPSHOT_END);
    assertThat(((SnapshotBegin) ops.get(0).getOp()).getBytes()).isEqualTo((3L << 20) + 4 + 2);
    assertThat(ops.stream().map(OpKind::of)).contains(OpKind.LINK, OpKind.MKNOD, OpKind.SYMLINK);
    // The sparse file's hole is not recorded as data.
    long written = ops.stream().filter(o -> OpKind.of(o) == OpKind.WRITE).count();
    assertThat(written).isLessThan(10);
    Path replay = Files.createDirectory(tmp.resolve("replay"));
    Journals.replay(ops, replay);
    Trees.assertIdentical(store, replay);
  }

  /**
   * A store holding device nodes (a chroot's /dev): each is recorded with its device number, a
   * hard-linked one as a link, and the snapshot replays to the same nodes with a create applier.
   */
  @Test
  void snapshotRecordsDeviceNodesWithTheirNumbers() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Shell.run(
        store,
        "mkdir -p root/dev && mknod -m 0666 root/dev/null c 1 3 && mknod -m 0660 root/dev/sda b 8 0"
            + " && chown 0:6 root/dev/sda && ln root/dev/null root/dev/null.hard"
            + " && mknod root/dev/wide c 300 1048575 && touch -h -d @1000000000 root/dev/sda");
    Path journal = bootstrap(store, "dev", new ByteArrayOutputStream());
    List<OpRecord> ops = Journals.read(journal);
    List<Mknod> nodes =
        ops.stream().filter(o -> OpKind.of(o) == OpKind.MKNOD).map(o -> (Mknod) o.getOp()).toList();
    assertThat(nodes)
        .extracting(Mknod::getRdev)
        .containsExactlyInAnyOrder(
            Posix.makedev(1, 3), Posix.makedev(8, 0), Posix.makedev(300, 1048575));
    assertThat(ops.stream().filter(o -> OpKind.of(o) == OpKind.LINK)).hasSize(1);
    Path replay = Files.createDirectory(tmp.resolve("replay"));
    assertThat(Journals.replay(ops, replay, MirrorApplier.SpecialFiles.CREATE)).isZero();
    Trees.assertIdentical(store, replay);
  }

  /** Mounts (and so bootstraps) {@code store}, unmounts; returns the journal directory. */
  private Path bootstrap(Path store, String name, ByteArrayOutputStream out) throws Exception {
    Path mnt = Files.createDirectory(tmp.resolve("mnt" + name));
    Path journal = tmp.resolve("journal" + name);
    CaptureDaemon d =
        new CaptureDaemon(
            new CaptureDaemon.Config(
                store,
                mnt,
                journal,
                "boot",
                4,
                Durability.NONE,
                5,
                1L << 30,
                0,
                OpCodec.DEFAULT_MAX_RECORD_BYTES,
                false,
                "tfs.boot.ops",
                new Properties(),
                null,
                Duration.ofSeconds(5),
                FuseMount.Options.defaults()),
            new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      d.start();
    } finally {
      d.stop();
    }
    return journal;
  }
}
