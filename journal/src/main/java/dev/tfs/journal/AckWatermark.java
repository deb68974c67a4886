package dev.tfs.journal;

import java.util.TreeSet;

/**
 * The acknowledgement watermark of a shipper: the highest seq such that it and every seq below it
 * (down to where shipping started) were reported done, i.e. written to Kafka (and, for the source
 * connector with exactly-once support, in a committed transaction). Reports arrive out of seq order
 * across Kafka partitions; seqs above a hole wait in a set until the hole fills, so the set holds
 * at most the ops in flight. This is the position a shipper may {@link JournalWriter#acknowledge}.
 *
 * <p>Thread-safe: producer callbacks report from the producer's I/O thread, tasks from their own.
 */
public final class AckWatermark {
  private long contiguous;
  private final TreeSet<Long> above = new TreeSet<>();

  /** A watermark that starts at {@code seq}: everything up to it counts as done. */
  public AckWatermark(long seq) {
    contiguous = seq;
  }

  /** Starts over: everything up to {@code seq} counts as done (it was acknowledged before). */
  public synchronized void reset(long seq) {
    contiguous = seq;
    above.clear();
  }

  /** Records that {@code seq} is done; returns the watermark afterwards. */
  public synchronized long done(long seq) {
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

  /** The highest seq with every seq up to it done. */
  public synchronized long contiguous() {
    return contiguous;
  }

  /** How many seqs above a hole wait for it to fill. */
  public synchronized int waiting() {
    return above.size();
  }
}
