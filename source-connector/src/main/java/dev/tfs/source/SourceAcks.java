package dev.tfs.source;

import dev.tfs.journal.AckWatermark;
import dev.tfs.journal.JournalEpochChangedException;
import dev.tfs.journal.JournalException;
import dev.tfs.journal.JournalReader;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source task's acknowledgement bookkeeping: which seq it may write to the journal's {@code
 * acked} file (letting tfs-capture delete segments). A seq is acknowledged only when all three hold
 * (see {@link TreeSourceTask} for why each is needed):
 *
 * <ol>
 *   <li>Connect reported it and every lower seq through {@code commitRecord} ({@link #done}, an
 *       {@link AckWatermark});
 *   <li>Connect's offset store holds a committed offset at or above it, read back after Connect
 *       reported an offset commit ({@link #committed}), at most every {@code tfs.ack.interval.ms};
 *   <li>the task read it from the journal itself in this run.
 * </ol>
 *
 * <p>Threads: {@link #done} and {@link #committed} are called from Connect's threads (producer
 * callbacks, the offset committer); everything else from the polling thread, under the task lock.
 */
final class SourceAcks {
  private static final Logger log = LoggerFactory.getLogger(SourceAcks.class);

  private final String connector;
  private final Path dir;
  private final long intervalNanos;
  private final SourceMetrics metrics;
  private final AckWatermark watermark = new AckWatermark(0);
  private final AtomicLong commits = new AtomicLong();
  private long commitsAtLastAck;
  private long lastAckNanos;
  private volatile boolean droppedWarned;

  /** The highest seq this task found in or wrote to the acked file. */
  private long acknowledged;

  SourceAcks(String connector, Path dir, long intervalNanos, SourceMetrics metrics) {
    this.connector = connector;
    this.dir = dir;
    this.intervalNanos = intervalNanos;
    this.metrics = metrics;
  }

  /** Starts over for a journal opened at {@code start} whose acked file says {@code acked}. */
  void reset(long start, long acked) {
    watermark.reset(start - 1);
    acknowledged = acked;
  }

  /**
   * Connect reported the record of {@code seq} (null metadata: it was dropped, which counts as done
   * so the journal does not fill up behind it, and is warned about once).
   *
   * @return the watermark afterwards
   */
  long done(long seq, boolean dropped) {
    if (dropped && !droppedWarned) {
      droppedWarned = true;
      log.warn(
          "{}: the record of seq {} was dropped before reaching Kafka (a transformation filtered"
              + " it, or errors.tolerance skipped a failed send). Mirrors stop at the gap (G7);"
              + " run this connector without record-dropping transformations and with"
              + " errors.tolerance=none",
          connector,
          seq);
    }
    return watermark.done(seq);
  }

  /**
   * Connect committed offsets.
   *
   * @return how many commits so far
   */
  long committed() {
    return commits.incrementAndGet();
  }

  /** The commitRecord watermark. */
  long contiguous() {
    return watermark.contiguous();
  }

  /** The highest seq found in or written to the acked file. */
  long acknowledged() {
    return acknowledged;
  }

  /**
   * Writes the acknowledged seq to the journal when Connect committed since the last time and the
   * interval passed: min(commitRecord watermark, committed offset read back, highest seq read).
   * Failures to read the offset or write the file are logged and retried at the next commit.
   *
   * @param lastReadSeq the highest seq read from the journal in this run, 0 when none
   * @param committedOffset reads the committed seq back from Connect (null: none)
   * @param failure turns a journal recreated under the task into the task's failure
   */
  void maybeAcknowledge(
      JournalReader reader,
      long lastReadSeq,
      Supplier<Long> committedOffset,
      Function<JournalException, RuntimeException> failure) {
    if (reader == null || lastReadSeq <= acknowledged) {
      return;
    }
    long c = commits.get();
    long now = System.nanoTime();
    if (c == commitsAtLastAck || now - lastAckNanos < intervalNanos) {
      return;
    }
    commitsAtLastAck = c;
    lastAckNanos = now;
    Long committed;
    try {
      committed = committedOffset.get();
    } catch (RuntimeException e) {
      metrics.error("offset read-back failed: " + e);
      log.warn(
          "{}: cannot read the committed offset back ({}); the journal's acknowledged seq stays"
              + " at {} until the next commit",
          connector,
          e.toString(),
          acknowledged);
      return;
    }
    if (committed == null) {
      return;
    }
    long target = Math.min(Math.min(committed, watermark.contiguous()), lastReadSeq);
    if (target <= acknowledged) {
      return;
    }
    if (write(reader, target, failure)) {
      log.debug("{}: acknowledged seq {} in journal {}", connector, target, dir);
    }
  }

  /** Acknowledges the committed offset read at open, once the journal showed it holds it. */
  void acknowledgeCommittedTail(
      JournalReader reader, long seq, Function<JournalException, RuntimeException> failure) {
    if (seq <= acknowledged) {
      return;
    }
    if (write(reader, seq, failure)) {
      log.info("{}: acknowledged the committed offset, seq {}, in journal {}", connector, seq, dir);
    }
  }

  // Metrics fields have one writer (this thread); volatile is for the JMX readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private boolean write(
      JournalReader reader, long seq, Function<JournalException, RuntimeException> failure) {
    try {
      reader.acknowledge(seq);
    } catch (JournalEpochChangedException e) {
      throw failure.apply(e);
    } catch (JournalException e) {
      metrics.error("acknowledge failed: " + e.getMessage());
      log.warn("{}: cannot record acknowledged seq {}: {}", connector, seq, e.getMessage());
      return false;
    }
    acknowledged = seq;
    metrics.acknowledgedSeq = seq;
    metrics.acknowledgements++;
    return true;
  }
}
