package dev.tfs.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledgements and retention of a writer's journal: how far Kafka has the ops (the acknowledged
 * seq, from {@link JournalWriter#acknowledge} or the {@code acked} file), how many bytes of OP
 * entries above it are unshipped (the quota's share of ops), and which segments that frees.
 *
 * <p>Accounting: each OP entry above the acknowledged seq counts its bytes until a later
 * acknowledgement covers it. Acknowledgements arrive as seqs, not byte counts, so the bytes are
 * freed at checkpoints, {@code {seq, bytes up to seq}} pairs kept at most one per {@code
 * checkpointBytes} of entries (a bounded list, not one per op); an acknowledgement frees the bytes
 * up to the highest checkpoint it covers, all of them once it covers the last op.
 *
 * <p>Retention: a segment may go once every op in it is acknowledged and it holds no unresolved
 * intent, oldest first, never the active one and never the last.
 *
 * <p>Threads: the accounting methods are guarded by the writer's append lock (the caller holds it);
 * {@link #delete} runs outside it. The poller thread ({@link #startPoller}) reads the {@code acked}
 * file every {@code ackPollMillis} (every 10 ms while a caller is blocked on the quota, and at once
 * after {@link #kick}) and hands the seq to the writer.
 */
final class JournalAcks {
  private static final Logger log = LoggerFactory.getLogger(JournalAcks.class);

  /** Poll interval of the acked file while a caller is blocked on the quota. */
  static final long BLOCKED_POLL_MILLIS = 10;

  private final Path dir;
  private final long epoch;
  private final long checkpointBytes;

  private long ackedSeq;

  /** Bytes of OP entries appended above the acknowledged seq at open, and since. */
  private long opBytesTotal;

  /** The part of {@link #opBytesTotal} acknowledged since. */
  private long ackedOpBytes;

  /** {seq, opBytesTotal after seq}, at most one per checkpointBytes of OP entries. */
  private final ArrayDeque<long[]> checkpoints = new ArrayDeque<>();

  private final Object wake = new Object();
  private boolean kick;
  private volatile boolean stopped;
  private Thread poller;

  /**
   * @param checkpointBytes entry bytes between two checkpoints (the granularity of freeing quota)
   */
  JournalAcks(Path dir, long epoch, long checkpointBytes) {
    this.dir = dir;
    this.epoch = epoch;
    this.checkpointBytes = Math.max(1, checkpointBytes);
  }

  // ------------------------------------------------------------ accounting (under the writer lock)

  /** An OP entry of {@code bytes} with {@code seq} above the acknowledged seq was appended. */
  void opAppended(long seq, int bytes) {
    opBytesTotal += bytes;
    long base = checkpoints.isEmpty() ? ackedOpBytes : checkpoints.peekLast()[1];
    if (opBytesTotal - base >= checkpointBytes) {
      checkpoints.addLast(new long[] {seq, opBytesTotal});
    }
  }

  /** Sets the acknowledged seq found at open; the ops above it were counted by the loader. */
  void restored(long acked) {
    ackedSeq = acked;
  }

  /** The acknowledged seq. */
  long ackedSeq() {
    return ackedSeq;
  }

  /** Bytes of OP entries above the acknowledged seq (not yet freed). */
  long unshippedOpBytes() {
    return opBytesTotal - ackedOpBytes;
  }

  /**
   * Moves the acknowledged seq to {@code seq} and frees the bytes it covers. A seq at or below the
   * current one changes nothing; one beyond {@code lastSeq} (the last appended op) is logged and
   * ignored.
   *
   * @return true when the acknowledged seq moved (blocked callers may proceed)
   */
  boolean advance(long seq, long lastSeq) {
    if (seq <= ackedSeq) {
      return false;
    }
    if (seq > lastSeq) {
      log.error(
          "journal {}: {} says seq {} was acknowledged, but the last seq is {}; ignored",
          dir,
          Format.ACKED,
          seq,
          lastSeq);
      return true; // as before: waiters re-check the quota, which did not change
    }
    ackedSeq = seq;
    while (!checkpoints.isEmpty() && checkpoints.peekFirst()[0] <= seq) {
      ackedOpBytes = checkpoints.pollFirst()[1];
    }
    if (seq >= lastSeq) {
      ackedOpBytes = opBytesTotal;
      checkpoints.clear();
    }
    return true;
  }

  /**
   * Removes from the front of {@code segments} those retention lets go: every op acknowledged, no
   * unresolved intent, not {@code active}, and never the last one.
   *
   * @return the removed segments, oldest first, for {@link #delete} outside the lock
   */
  List<Segment> takeReleasable(ArrayDeque<Segment> segments, Segment active) {
    List<Segment> out = new ArrayList<>();
    while (segments.size() > 1) {
      Segment s = segments.peekFirst();
      if (s == active || s.lastSeq > ackedSeq || s.pins > 0) {
        break;
      }
      out.add(segments.pollFirst());
    }
    return out;
  }

  /** Deletes the files of released segments; a failure is logged (the file is only left over). */
  void delete(List<Segment> released) {
    for (Segment s : released) {
      try {
        Files.deleteIfExists(s.path);
        log.debug("journal {}: deleted acknowledged segment {}", dir, s.name);
      } catch (IOException e) {
        log.warn("journal {}: could not delete acknowledged segment {}: {}", dir, s.path, e);
      }
    }
  }

  // ------------------------------------------------------------ the acked file poller

  /**
   * Starts the thread that polls the {@code acked} file.
   *
   * @param name the thread's name
   * @param pollMillis the poll interval while nobody is blocked
   * @param blocked whether a caller waits for quota (then it polls every 10 ms)
   * @param onAcked receives the seq read (called without the writer lock; it takes it)
   */
  void startPoller(String name, long pollMillis, BooleanSupplier blocked, LongConsumer onAcked) {
    poller = new Thread(() -> poll(pollMillis, blocked, onAcked), name);
    poller.setDaemon(true);
    poller.start();
  }

  /** Makes the poller read the {@code acked} file now (a caller just blocked on the quota). */
  void kick() {
    synchronized (wake) {
      kick = true;
      wake.notifyAll();
    }
  }

  /** Ends the poller and waits (bounded) for it; idempotent. */
  void stopPoller() {
    stopped = true;
    synchronized (wake) {
      wake.notifyAll();
    }
    joinQuietly(poller);
  }

  private void poll(long pollMillis, BooleanSupplier blocked, LongConsumer onAcked) {
    while (!stopped) {
      synchronized (wake) {
        if (stopped) {
          return;
        }
        if (!kick) {
          try {
            wake.wait(blocked.getAsBoolean() ? BLOCKED_POLL_MILLIS : pollMillis);
          } catch (InterruptedException e) {
            return;
          }
        }
        kick = false;
      }
      if (stopped) {
        return;
      }
      try {
        onAcked.accept(AckFile.read(dir, epoch));
      } catch (IOException | RuntimeException e) {
        log.warn("journal {}: reading {} failed: {}", dir, Format.ACKED, e.toString());
      }
    }
  }

  static void joinQuietly(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
