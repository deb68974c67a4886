package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.entryPositions;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.readAll;
import static dev.tfs.journal.TestSupport.segments;
import static dev.tfs.journal.TestSupport.truncate;
import static dev.tfs.journal.TestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.OpKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntentTest {
  @TempDir Path dir;

  @Test
  void intentWithoutCommitIsUnresolvedAfterRestart() {
    IntentRecord rename = IntentRecord.rename(bytes("a/old"), bytes("b/new"));
    long id;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      w.commit(w.intent(IntentRecord.of(OpKind.MKDIR, bytes("a"))), create("a"));
      id = w.intent(rename);
      assertThat(w.unresolvedIntents()).containsExactly(new Intent(id, rename));
      // closed without commit or abort: what a crash after the store op leaves
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.unresolvedIntents()).containsExactly(new Intent(id, rename));
      assertThat(w.stats().unresolvedIntents()).isEqualTo(1);
      w.commit(id, create("b/new"));
      assertThat(w.unresolvedIntents()).isEmpty();
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.unresolvedIntents()).isEmpty();
    }
    List<JournalEntry> ops = readAll(dir);
    assertThat(ops).hasSize(2);
    assertThat(ops.get(1).intentId()).isEqualTo(id);
  }

  @Test
  void crashCopyTakenWhileAnIntentIsOpenHasIt(@TempDir Path copyRoot) throws IOException {
    Path copy = copyRoot.resolve("crash");
    try (JournalWriter w =
        JournalWriter.open(dir, options().durability(Durability.GROUP).build())) {
      long done = w.intent(IntentRecord.write(bytes("f"), 0, 5));
      w.commit(done, write("f", 0, bytes("hello")));
      long open = w.intent(IntentRecord.truncate(bytes("f"), 2));
      // The writer is still running: the copy is the journal as a crash right now leaves it.
      copyDir(dir, copy);
      w.abort(open);
    }
    try (JournalWriter w = JournalWriter.open(copy, options().build())) {
      List<Intent> pending = w.unresolvedIntents();
      assertThat(pending).hasSize(1);
      assertThat(pending.get(0).record()).isEqualTo(IntentRecord.truncate(bytes("f"), 2));
      w.abort(pending.get(0).id());
      assertThat(w.unresolvedIntents()).isEmpty();
      assertThat(w.stats().nextSeq()).isEqualTo(2);
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.unresolvedIntents()).isEmpty();
    }
  }

  @Test
  void multiOpCommitTornInTheMiddleLeavesTheIntentUnresolved() throws IOException {
    JournalMeta meta;
    long id;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      byte[] data = new byte[1_200_000];
      id = w.intent(IntentRecord.write(bytes("big"), 0, data.length));
      w.commit(id, w.writeOps(bytes("big"), 0, data, 0, data.length, 1L, null));
    }
    Path seg = segments(dir).get(0);
    List<Long> pos = entryPositions(seg, meta); // intent, chunk 1, 2, 3
    assertThat(pos).hasSize(4);
    truncate(seg, pos.get(2) + 100); // crash while writing chunk 2
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.unresolvedIntents()).extracting(Intent::id).containsExactly(id);
      assertThat(w.stats().nextSeq()).isEqualTo(2); // chunk 1 is in, it resolves nothing
      byte[] data = new byte[1_200_000];
      assertThat(w.commit(id, w.writeOps(bytes("big"), 0, data, 0, data.length, 2L, null)))
          .isEqualTo(2);
      assertThat(w.unresolvedIntents()).isEmpty();
    }
  }

  @Test
  void intentIdsStayUniqueAcrossRestartsAndSegmentDeletion() {
    JournalOptions opts = options().segmentBytes(4096).build();
    long last = 0;
    for (int round = 0; round < 3; round++) {
      try (JournalWriter w = JournalWriter.open(dir, opts)) {
        for (int i = 0; i < 40; i++) {
          long id = w.intent(IntentRecord.of(OpKind.CREATE, bytes("f" + i)));
          assertThat(id).isGreaterThan(last);
          last = id;
          w.commit(id, create("f" + i));
        }
        w.acknowledge(w.stats().nextSeq() - 1); // deletes every segment but the active one
        assertThat(w.stats().segments()).isEqualTo(1);
      }
    }
  }

  @Test
  void segmentWithAnUnresolvedIntentIsKeptUntilItIsResolved() {
    JournalOptions opts = options().segmentBytes(4096).build();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      long pinned = w.intent(IntentRecord.of(OpKind.UNLINK, bytes("slow")));
      for (int i = 0; i < 100; i++) {
        w.commit(0, create("x" + i));
      }
      w.acknowledge(100);
      assertThat(segments(dir))
          .extracting(p -> p.getFileName().toString())
          .contains(Format.segmentName(1));
      w.abort(pinned);
      w.acknowledge(100); // nothing new acknowledged, but the pin is gone: deleted now
      TestSupport.await(
          "the formerly pinned segment is deleted",
          () -> !Files.exists(dir.resolve(Format.segmentName(1))));
      assertThat(w.stats().segments()).isEqualTo(1);
    }
  }

  @Test
  void resolvingAnUnknownIntentIsRefused() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      long id = w.intent(IntentRecord.of(OpKind.RMDIR, bytes("d")));
      w.abort(id);
      assertThatThrownBy(() -> w.abort(id))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("already committed or aborted");
      assertThatThrownBy(() -> w.commit(id, create("d")))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void intentRecordsEncodeEveryField() {
    IntentRecord full =
        IntentRecord.builder(OpKind.SETATTR, new byte[] {'c', (byte) 0xe9})
            .to(bytes("t/o"))
            .target(bytes("../x"))
            .xattrName(bytes("user.a"))
            .offset(1L)
            .length(2L)
            .size(3L)
            .atime(4L)
            .mtime(5L)
            .mode(0755)
            .uid(1000)
            .gid(-1)
            .build();
    assertThat(IntentRecord.decode(full.encode())).isEqualTo(full);
    assertThat(full.toString())
        .isEqualTo(
            "setattr c\\xe9 -> t/o target=../x name=user.a offset=1 length=2 size=3 mode=755"
                + " uid=1000 gid=-1 atime=4 mtime=5");
    IntentRecord bare = IntentRecord.of(OpKind.UNLINK, bytes("a/b"));
    assertThat(IntentRecord.decode(bare.encode())).isEqualTo(bare);
    assertThat(bare.encode()).hasSizeLessThan(20);
  }

  @Test
  void intentRecordsAreValidated() {
    assertThatThrownBy(() -> IntentRecord.of(OpKind.RENAME, bytes("a")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'to'");
    assertThatThrownBy(() -> IntentRecord.of(OpKind.UNLINK, bytes("/abs")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absolute");
    assertThatThrownBy(() -> IntentRecord.write(bytes("a"), -1, 3))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IntentRecord.of(OpKind.TRUNCATE, bytes("a")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IntentRecord.decode(new byte[] {1, 3, 'x'}))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static void copyDir(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
  }
}
