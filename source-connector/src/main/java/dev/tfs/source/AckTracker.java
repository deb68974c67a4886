package dev.tfs.source;

import java.util.TreeSet;

/**
 * The highest seq such that it and every seq below it (down to where the task started) were
 * reported by Connect through {@code commitRecord}: written to Kafka (and, with exactly-once
 * support, in a committed transaction). Reports arrive out of seq order across Kafka partitions;
 * seqs above a hole wait in a set until the hole fills. Thread-safe: Connect calls {@code
 * commitRecord} from producer callback threads or the task thread.
 */
final class AckTracker {
  private long contiguous;
  private final TreeSet<Long> above = new TreeSet<>();

  /** Starts over: everything up to {@code seq} counts as done (it was committed before). */
  synchronized void reset(long seq) {
    contiguous = seq;
    above.clear();
  }

  /** Records that {@code seq} is done; returns the contiguous watermark afterwards. */
  synchronized long done(long seq) {
    if (seq <= contiguous) {
      return contiguous;
    }
    if (seq == contiguous + 1) {
      contiguous = seq;
      while (!above.isEmpty() && above.first() == contiguous + 1) {
        contiguous = above.pollFirst();
      }
    } else {
      above.add(seq);
    }
    return contiguous;
  }

  synchronized long contiguous() {
    return contiguous;
  }

  /** Seqs reported above a hole (waiting for a lower seq). */
  synchronized int pending() {
    return above.size();
  }
}
