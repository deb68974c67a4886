package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.await;
import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.options;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpKind;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What each policy does (power loss itself cannot be tested here; when fsync happens can). */
class DurabilityTest {
  @TempDir Path dir;
  @TempDir Path other;

  @Test
  void fsyncPolicyForcesEveryAppendBeforeItReturns() {
    try (JournalWriter w =
        JournalWriter.open(dir, options().durability(Durability.FSYNC).build())) {
      long before = w.stats().fsyncs();
      for (int i = 0; i < 20; i++) {
        w.commit(0, create("f" + i));
        assertThat(w.stats().fsyncs()).isEqualTo(before + i + 1);
      }
      long id = w.intent(IntentRecord.of(OpKind.UNLINK, bytes("f1")));
      assertThat(w.stats().fsyncs()).isEqualTo(before + 21);
      w.abort(id);
      assertThat(w.stats().fsyncs()).isEqualTo(before + 22);
    }
  }

  @Test
  void fsyncPolicySharesFsyncsBetweenConcurrentCallers() throws Exception {
    try (JournalWriter w =
        JournalWriter.open(dir, options().durability(Durability.FSYNC).build())) {
      long before = w.stats().fsyncs();
      Thread[] ts = new Thread[4];
      for (int t = 0; t < ts.length; t++) {
        int tt = t;
        ts[t] =
            new Thread(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    w.commit(0, create("t" + tt + "/" + i));
                  }
                });
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      assertThat(w.stats().nextSeq()).isEqualTo(201);
      assertThat(w.stats().fsyncs() - before).isBetween(1L, 200L);
    }
  }

  @Test
  void groupPolicyFsyncsInTheBackground() {
    try (JournalWriter w =
        JournalWriter.open(
            dir, options().durability(Durability.GROUP).groupCommitMillis(5).build())) {
      long before = w.stats().fsyncs();
      w.commit(0, create("one"));
      // the append itself did not fsync...
      long right = w.stats().fsyncs();
      assertThat(right - before).isLessThanOrEqualTo(1); // (the background may have run already)
      // ...the background thread does, soon
      await("a background fsync", () -> w.stats().fsyncs() > before);
      long burstStart = w.stats().fsyncs();
      for (int i = 0; i < 2000; i++) {
        w.commit(0, create("b" + i));
      }
      long burst = w.stats().fsyncs() - burstStart;
      assertThat(burst).as("fsyncs during 2000 appends").isLessThan(500);
      await("the burst is synced", () -> w.stats().fsyncs() > burstStart);
    }
  }

  @Test
  void nonePolicyFsyncsOnlyOnSyncAndClose() {
    JournalWriter group =
        JournalWriter.open(
            other, options().durability(Durability.GROUP).groupCommitMillis(2).build());
    try (JournalWriter w = JournalWriter.open(dir, options().durability(Durability.NONE).build())) {
      long before = w.stats().fsyncs();
      for (int i = 0; i < 500; i++) {
        w.commit(0, create("n" + i));
      }
      // Let time pass observably: a GROUP journal fsyncs several times meanwhile.
      long g = group.stats().fsyncs();
      for (int round = 1; round <= 5; round++) {
        group.commit(0, create("tick" + round));
        long target = g + round;
        await("group fsync " + round, () -> group.stats().fsyncs() >= target);
      }
      assertThat(w.stats().fsyncs()).isEqualTo(before);
      w.sync();
      assertThat(w.stats().fsyncs()).isEqualTo(before + 1);
      w.sync(); // nothing new: no fsync
      assertThat(w.stats().fsyncs()).isEqualTo(before + 1);
      w.commit(0, create("last"));
      assertThat(w.stats().fsyncs()).isEqualTo(before + 1);
    } finally {
      group.close();
    }
  }

  @Test
  void readersShipOnlyWhatThePolicyMadeDurable() {
    // GROUP with a long interval: the op is written, but not fsynced until sync().
    try (JournalWriter w =
            JournalWriter.open(
                dir, options().durability(Durability.GROUP).groupCommitMillis(10_000).build());
        JournalReader r = JournalReader.open(dir)) {
      w.commit(0, create("a"));
      assertThat(r.poll()).as("not yet durable").isNull();
      assertThat(TestSupport.readAll(dir)).isEmpty();
      w.sync();
      assertThat(r.poll().seq()).isEqualTo(1);
    }
    // FSYNC: durable when commit returns.
    try (JournalWriter w = JournalWriter.open(dir, options().durability(Durability.FSYNC).build());
        JournalReader r = JournalReader.open(dir)) {
      r.seek(2);
      w.commit(0, create("b"));
      assertThat(r.poll().seq()).isEqualTo(2);
    }
    // NONE promises nothing beyond the write: visible at once.
    try (JournalWriter w = JournalWriter.open(dir, options().durability(Durability.NONE).build());
        JournalReader r = JournalReader.open(dir)) {
      r.seek(3);
      w.commit(0, create("c"));
      assertThat(r.poll().seq()).isEqualTo(3);
    }
  }

  @Test
  void aCrashCopyShowsOnlyDurableOpsUntilTheWriterRecoversIt(@TempDir Path copyRoot)
      throws Exception {
    Path copy = copyRoot.resolve("copy");
    try (JournalWriter w =
        JournalWriter.open(
            dir, options().durability(Durability.GROUP).groupCommitMillis(10_000).build())) {
      w.commit(0, create("a"));
      w.sync();
      w.commit(0, create("b")); // written, not fsynced: a power loss could take it
      Files.createDirectories(copy);
      try (var files = Files.list(dir)) {
        for (Path p : (Iterable<Path>) files::iterator) {
          Files.copy(p, copy.resolve(p.getFileName()));
        }
      }
    }
    assertThat(TestSupport.readAll(copy)).extracting(JournalEntry::seq).containsExactly(1L);
    // Recovery makes what it keeps durable, then it may be shipped.
    JournalWriter.open(copy, options().durability(Durability.GROUP).build()).close();
    assertThat(TestSupport.readAll(copy)).extracting(JournalEntry::seq).containsExactly(1L, 2L);
  }

  @Test
  void closeDoesNotWaitForTheNextGroupCommit() {
    JournalWriter w =
        JournalWriter.open(
            dir, options().durability(Durability.GROUP).groupCommitMillis(10_000).build());
    w.commit(0, create("x"));
    long t0 = System.nanoTime();
    w.close();
    assertThat((System.nanoTime() - t0) / 1_000_000).as("close took ms").isLessThan(5_000);
    assertThat(TestSupport.readAll(dir)).hasSize(1); // and it fsynced on the way out
  }

  @Test
  void segmentRollsFsyncUnderEveryPolicy() {
    // The old segment must be on disk before the next exists, or a power loss leaves a seq gap.
    try (JournalWriter w =
        JournalWriter.open(dir, options().durability(Durability.NONE).segmentBytes(4096).build())) {
      long before = w.stats().fsyncs();
      int segments = w.stats().segments();
      while (w.stats().segments() == segments) {
        w.commit(0, create("r"));
      }
      // fsync of the old segment + creation of the new one
      assertThat(w.stats().fsyncs()).isEqualTo(before + 2);
    }
  }
}
