package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.options;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many "FUSE threads" at once, with a reader tailing, across segment rolls. */
class ConcurrencyTest {
  @TempDir Path dir;

  @Test
  void concurrentIntentsCommitsAndAbortsKeepSeqsDenseAndChainsIntact() throws Exception {
    int threads = 4;
    int perThread = 400;
    JournalOptions opts =
        options().partitions(5).durability(Durability.GROUP).segmentBytes(16 * 1024).build();
    Map<Long, String> committedBy = new ConcurrentHashMap<>();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Thread> ts = new ArrayList<>();
      List<Throwable> errors = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        Thread th =
            new Thread(
                () -> {
                  try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                      String path = "t" + tt + "/f" + (i % 17);
                      long id = w.intent(IntentRecord.of(OpKind.CREATE, bytes(path)));
                      if (i % 5 == 4) {
                        w.abort(id); // the store op failed
                        continue;
                      }
                      long seq = w.commit(id, withTime(create(path), i));
                      committedBy.put(seq, tt + ":" + i);
                    }
                  } catch (Throwable e) {
                    synchronized (errors) {
                      errors.add(e);
                    }
                  }
                });
        th.start();
        ts.add(th);
      }
      // Tail while they write.
      List<JournalEntry> got = new ArrayList<>();
      int expected = threads * perThread * 4 / 5;
      try (JournalReader r = JournalReader.open(dir)) {
        while (got.size() < expected) {
          got.add(TestSupport.next(r, Duration.ofSeconds(30)));
        }
      }
      for (Thread th : ts) {
        th.join();
      }
      assertThat(errors).isEmpty();
      assertThat(w.unresolvedIntents()).isEmpty();
      assertThat(w.stats().unresolvedIntents()).isZero();
      assertThat(got).hasSize(expected);
      assertThat(w.stats().segments()).isGreaterThan(5);

      Map<Integer, Long> lastInPartition = new HashMap<>();
      Map<Integer, Integer> lastOfThread = new HashMap<>();
      for (int i = 0; i < got.size(); i++) {
        JournalEntry e = got.get(i);
        OpRecord op = decode(e);
        assertThat(e.seq()).isEqualTo(i + 1);
        assertThat(op.getPartitionPrevSeq())
            .isEqualTo(lastInPartition.getOrDefault(e.partition(), 0L));
        lastInPartition.put(e.partition(), e.seq());
        // each thread's ops appear in the order it committed them, with the seq commit returned
        String[] who = committedBy.get(e.seq()).split(":");
        int thread = Integer.parseInt(who[0]);
        int step = Integer.parseInt(who[1]);
        assertThat(new String(Ops.path(op), StandardCharsets.UTF_8)).startsWith("t" + thread + "/");
        assertThat(op.getTime()).isEqualTo(step);
        assertThat(step).isGreaterThan(lastOfThread.getOrDefault(thread, -1));
        lastOfThread.put(thread, step);
      }
    }
  }

  private static OpDraft withTime(OpDraft d, long timeNanos) {
    return new OpDraft(d.path(), timeNanos, d.body(), d.mtime(), d.parentMtime());
  }
}
