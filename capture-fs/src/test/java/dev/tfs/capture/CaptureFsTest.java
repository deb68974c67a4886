package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.SetAttr;
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
}
