package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.await;
import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.segments;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.OpKind;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuotaTest {
  @TempDir Path dir;

  /** intent + commit of {@code n} ops, as capture does, on a thread of its own. */
  private static CompletableFuture<Void> appender(JournalWriter w, int n) {
    return CompletableFuture.runAsync(
        () -> {
          for (int i = 0; i < n; i++) {
            long id = w.intent(IntentRecord.of(OpKind.CREATE, bytes("d/f" + i)));
            w.commit(id, create("d/f" + i));
          }
        },
        r -> {
          Thread t = new Thread(r, "appender");
          t.start();
        });
  }

  @Test
  void writersBlockOnTheQuotaAndResumeWhenTheShipperAcknowledges() throws Exception {
    JournalOptions opts = options().spoolMaxBytes(3000).segmentBytes(4096).build();
    int n = 300;
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      CompletableFuture<Void> writer = appender(w, n);
      await("the appender is blocked on the quota", () -> w.stats().blockedWriters() == 1);
      JournalStats blocked = w.stats();
      assertThat(blocked.unshippedBytes()).isGreaterThanOrEqualTo(3000);
      assertThat(blocked.nextSeq()).isLessThan(n);
      assertThat(blocked.ackedSeq()).isZero();
      assertThat(segments(dir).get(0).getFileName().toString())
          .as("nothing is deleted before it is acknowledged")
          .isEqualTo(Format.segmentName(1));

      // The shipper: read in order, "send", acknowledge.
      List<Long> shipped = new ArrayList<>();
      try (JournalReader r = JournalReader.open(dir)) {
        r.seek(1);
        while (shipped.size() < n) {
          JournalEntry[] next = new JournalEntry[1];
          await(
              "the next entry",
              () -> {
                assertThat(writer.isCompletedExceptionally()).isFalse();
                return (next[0] = r.poll()) != null;
              });
          JournalEntry e = next[0];
          shipped.add(e.seq());
          if (e.seq() % 7 == 0 || shipped.size() == n) {
            w.acknowledge(e.seq());
          }
        }
      }
      writer.get(10, TimeUnit.SECONDS);
      for (int i = 0; i < n; i++) {
        assertThat(shipped.get(i)).isEqualTo(i + 1); // nothing dropped, nothing reordered
      }
      JournalStats done = w.stats();
      assertThat(done.blockedNanos()).isPositive();
      assertThat(done.ackedSeq()).isEqualTo(n);
      assertThat(done.unshippedOps()).isZero();
      assertThat(done.unshippedBytes()).isZero();
      assertThat(done.segments()).isEqualTo(1);
      assertThat(segments(dir)).hasSize(1);
    }
  }

  @Test
  void anAcknowledgementFromAnotherProcessUnblocksThroughTheAckedFile() throws Exception {
    JournalOptions opts = options().spoolMaxBytes(2000).build();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      CompletableFuture<Void> writer = appender(w, 100);
      await("the appender is blocked", () -> w.stats().blockedWriters() == 1);
      // A reader with no access to the writer object, as the source connector in a Connect worker.
      try (JournalReader r = JournalReader.open(dir)) {
        // Ship and acknowledge whatever has arrived until the blocked writer gets through.
        await(
            "the blocked writer finishes",
            () -> {
              JournalEntry last = null;
              for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
                last = e;
              }
              if (last != null) {
                r.acknowledge(last.seq());
              }
              return writer.isDone();
            });
        writer.get(10, TimeUnit.SECONDS);
        assertThat(r.ackedSeq()).isLessThanOrEqualTo(100);
      }
      await("the writer has read the acked file", () -> w.stats().ackedSeq() > 0);
      assertThat(w.stats().nextSeq()).isEqualTo(101);
    }
  }

  @Test
  void anInterruptDoesNotMakeABlockedWriterDropItsOp() throws Exception {
    JournalOptions opts = options().spoolMaxBytes(500).build();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      while (w.stats().unshippedBytes() < 500) {
        w.commit(0, create("fill"));
      }
      AtomicBoolean interruptedAfter = new AtomicBoolean();
      Thread t =
          new Thread(
              () -> {
                w.commit(0, create("late"));
                interruptedAfter.set(Thread.currentThread().isInterrupted());
              });
      t.start();
      await("blocked", () -> w.stats().blockedWriters() == 1);
      long before = w.stats().nextSeq();
      t.interrupt(); // delivered before the acknowledgement below: a waiter that gave up on it
      // would end without committing and without the interrupt flag
      assertThat(w.stats().nextSeq()).isEqualTo(before);
      w.acknowledge(before - 1);
      t.join(10_000);
      assertThat(t.isAlive()).isFalse();
      assertThat(interruptedAfter).isTrue();
      assertThat(w.stats().nextSeq()).isEqualTo(before + 1);
    }
  }

  @Test
  void closeReleasesBlockedWritersWithAnError() throws Exception {
    JournalWriter w = JournalWriter.open(dir, options().spoolMaxBytes(500).build());
    while (w.stats().unshippedBytes() < 500) {
      w.commit(0, create("fill"));
    }
    CompletableFuture<Void> writer = appender(w, 1);
    await("blocked", () -> w.stats().blockedWriters() == 1);
    w.close();
    assertThatThrownBy(() -> writer.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(JournalException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void commitsOfIntentsDoNotDeadlockWhenIntentsFillTheQuota() throws Exception {
    // Two ops in flight whose intents alone exceed the quota: their commits must still go through.
    try (JournalWriter w = JournalWriter.open(dir, options().spoolMaxBytes(40).build())) {
      long a = w.intent(IntentRecord.of(OpKind.UNLINK, bytes("a-long-enough-name")));
      assertThat(w.stats().unshippedBytes()).isGreaterThanOrEqualTo(40);
      w.commit(a, TestSupport.unlink("a-long-enough-name"));
      assertThat(w.stats().nextSeq()).isEqualTo(2);
    }
  }

  @Test
  void onlyAcknowledgedSegmentsAreDeleted() {
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      for (int i = 0; i < 200; i++) {
        w.commit(0, create("s" + i));
      }
      List<Long> firsts = new ArrayList<>();
      for (Path p : segments(dir)) {
        firsts.add(Format.segmentFirstSeq(p.getFileName().toString()));
      }
      assertThat(firsts.size()).isGreaterThan(4);
      long acked = firsts.get(3) + 1; // in the middle of the fourth segment
      w.acknowledge(acked);
      List<Long> left = new ArrayList<>();
      for (Path p : segments(dir)) {
        left.add(Format.segmentFirstSeq(p.getFileName().toString()));
      }
      // segments 1-3 hold only seqs <= acked; the fourth still holds unacknowledged ones
      assertThat(left).isEqualTo(firsts.subList(3, firsts.size()));
      assertThat(w.stats().segments()).isEqualTo(left.size());
      w.acknowledge(200);
      assertThat(segments(dir)).hasSize(1); // never the active segment
      assertThatThrownBy(() -> w.acknowledge(201))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("last seq is 200");
    }
  }

  @Test
  void acknowledgementsNeverMoveBackwards() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      for (int i = 0; i < 10; i++) {
        w.commit(0, create("n" + i));
      }
      try (JournalReader r = JournalReader.open(dir)) {
        r.acknowledge(8);
        r.acknowledge(3);
        assertThat(r.ackedSeq()).isEqualTo(8);
        w.acknowledge(5);
        assertThat(r.ackedSeq()).isEqualTo(8);
        await("the writer picked up 8", () -> w.stats().ackedSeq() == 8);
      }
    }
  }
}
