package dev.tfs.sink;

import dev.tfs.op.schema.OpRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * The merge of a volume's partitions into one dense seq order (G2), free of Connect types: plain
 * {@link OpRecord}s, partition numbers and offsets in, the next op to apply and pause/resume
 * decisions out. {@link TreeSinkTask} is the adapter that feeds it from {@code put} and turns its
 * decisions into {@code SinkTaskContext} calls.
 *
 * <p><b>Queues and chains.</b> Each partition has a FIFO of records in offset order. The records of
 * one partition carry increasing seqs, chained by {@code partitionPrevSeq}; the chain is checked as
 * records arrive, so a record lost from a partition is detected when the next one arrives ({@link
 * Gap}). {@link #next()} returns the head whose seq is the applied seq + 1, dropping heads at or
 * below the applied seq (duplicates from replays or shipper restarts).
 *
 * <p><b>Pauses (G6).</b> A partition whose head is beyond the next seq cannot hold the next seq
 * (its later records carry higher seqs), so when the buffer exceeds its bound exactly those
 * partitions are paused; a partition that is empty, or whose head is the next seq, is never paused.
 * Paused partitions are resumed when they could hold the next seq again or the buffer is below half
 * its bound.
 *
 * <p><b>Unreachable seqs (G7).</b> The merge waits for seq N while records are buffered and none of
 * them is N. A partition can still deliver N only while its queue is empty (a non-empty queue's
 * head is beyond N, and its chain proves nothing is missing before it). The wait is given up as
 * unreachable ({@link #unreachable(long)}) when for {@code gapTimeoutMs} no record arrived in a
 * partition that could still hold N: every partition that could hold it was read to its end (the
 * consumer returned nothing for it) for the whole timeout. A partition whose leader is unreachable
 * for longer than the timeout looks the same; raise the timeout where that is expected.
 *
 * <p>Positions ({@link MirrorState.PartitionPos}) are advanced here as records are applied or
 * dropped; the task makes them durable. Not thread-safe: owned by the task thread.
 */
final class SeqMerge {
  /** Placeholder seq of an undecodable record whose seq is not yet known. */
  static final long UNKNOWN = -1;

  /** Placeholder seq of a record that is not part of the chain (a duplicate, another epoch). */
  static final long NOT_IN_CHAIN = -2;

  /** One buffered record; {@code op} is null for an undecodable (tolerated) record. */
  static final class Entry {
    private final OpRecord op;
    private final int partition;
    private final long offset;
    private final int bytes;
    private long seq;

    Entry(OpRecord op, int partition, long seq, long offset, int bytes) {
      this.op = op;
      this.partition = partition;
      this.seq = seq;
      this.offset = offset;
      this.bytes = bytes;
    }

    /** The op, or null for a tolerated undecodable record (its seq is skipped). */
    OpRecord op() {
      return op;
    }

    int partition() {
      return partition;
    }

    long seq() {
      return seq;
    }

    long offset() {
      return offset;
    }
  }

  /** A record whose partition chain does not continue from the last record of its partition. */
  static final class Gap extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int partition;
    final long offset;
    final long seq;
    final long partitionPrevSeq;
    final long lastInPartition;

    Gap(int partition, long offset, long seq, long partitionPrevSeq, long lastInPartition) {
      super("gap in partition " + partition + " at offset " + offset, null, false, false);
      this.partition = partition;
      this.offset = offset;
      this.seq = seq;
      this.partitionPrevSeq = partitionPrevSeq;
      this.lastInPartition = lastInPartition;
    }
  }

  /** What the consumer must do with a delivered record before it reaches {@link #arrive}. */
  enum Admit {
    /** Hand it to the merge. */
    TAKE,
    /** Drop it: it lies before what the mirror accounted for, or a seek is still under way. */
    DROP,
    /** Drop it and seek the partition to {@link #seekOffset(int)} once more. */
    RESEEK
  }

  /** Partitions to pause and to resume, decided by {@link #pauses()}. */
  record Pauses(List<Integer> pause, List<Integer> resume) {}

  /** The newest record of one partition, for the unreachable-seq message. */
  record Newest(int partition, long seq, long offset) {}

  private static final class Part {
    final int partition;
    final MirrorState.PartitionPos pos;
    final ArrayDeque<Entry> queue = new ArrayDeque<>();
    long arrivedLast;
    long newestSeq;
    long newestOffset = -1;
    Entry hole;
    boolean assigned;
    boolean paused;
    long awaitOffset = -1;
    long reseekBatch = -1;

    Part(int partition, MirrorState.PartitionPos pos) {
      this.partition = partition;
      this.pos = pos;
    }
  }

  private final IntFunction<MirrorState.PartitionPos> positions;
  private final long maxBytes;
  private final long gapTimeoutMs;
  private final Map<Integer, Part> parts = new TreeMap<>();
  private long applied;
  private long bufferedBytes;
  private long bufferedRecords;
  private long batch;
  private long waitingFor = -1;
  private long waitingSinceMs;
  private long hopefulArrivalMs;

  /**
   * @param appliedSeq the seq the mirror has applied
   * @param maxBytes the buffer bound above which ahead partitions are paused
   * @param gapTimeoutMs how long a seq no partition can deliver is waited for
   * @param positions the durable position of each partition (created at offset 0, seq 0)
   */
  SeqMerge(
      long appliedSeq,
      long maxBytes,
      long gapTimeoutMs,
      IntFunction<MirrorState.PartitionPos> positions) {
    this.applied = appliedSeq;
    this.maxBytes = maxBytes;
    this.gapTimeoutMs = gapTimeoutMs;
    this.positions = positions;
  }

  // ------------------------------------------------------------------ partitions

  /**
   * Takes a partition (again): drops what was buffered for it, forgets a pause (the caller resumes
   * a partition {@link #isPaused} said was paused) and returns the offset the consumer must seek
   * to.
   */
  long open(int partition) {
    Part p = part(partition);
    dropBuffered(p);
    p.assigned = true;
    p.arrivedLast = p.pos.lastSeq();
    p.awaitOffset = p.pos.nextOffset();
    p.reseekBatch = -1;
    p.paused = false;
    return p.pos.nextOffset();
  }

  /** Gives a partition up: drops what was buffered for it. */
  void close(int partition) {
    Part p = parts.get(partition);
    if (p != null) {
      dropBuffered(p);
      p.assigned = false;
      p.paused = false;
    }
  }

  /** True when the partition is assigned. */
  boolean assigned(int partition) {
    Part p = parts.get(partition);
    return p != null && p.assigned;
  }

  /** The offset a {@link Admit#RESEEK} asks for. */
  long seekOffset(int partition) {
    return parts.get(partition).awaitOffset;
  }

  /** Starts a new delivered batch (one {@code put}). */
  void beginBatch() {
    batch++;
  }

  /**
   * Decides about a delivered record before it is decoded. Until a seek takes effect the consumer
   * may deliver from the group's committed position: drop what was accounted for already, and ask
   * once more for what lies beyond; seeked and still beyond means those offsets are gone, and the
   * chain check decides.
   */
  Admit admit(int partition, long offset) {
    Part p = parts.get(partition);
    if (p == null || !p.assigned) {
      return Admit.DROP;
    }
    if (p.awaitOffset >= 0) {
      if (offset < p.awaitOffset) {
        return Admit.DROP;
      }
      if (offset > p.awaitOffset) {
        if (p.reseekBatch < 0) {
          p.reseekBatch = batch;
          return Admit.RESEEK;
        }
        if (p.reseekBatch == batch) {
          return Admit.DROP;
        }
      }
      p.awaitOffset = -1;
    }
    return offset < p.pos.nextOffset() ? Admit.DROP : Admit.TAKE;
  }

  // ------------------------------------------------------------------ arrivals

  /**
   * Adds a decoded op of the chain (its epoch is the mirror's).
   *
   * @throws Gap when its {@code partitionPrevSeq} does not continue the partition's chain
   */
  void arrive(int partition, long offset, OpRecord op, int bytes, long nowMs) {
    Part p = parts.get(partition);
    noteArrival(p, nowMs);
    p.newestSeq = Math.max(p.newestSeq, op.getSeq());
    p.newestOffset = Math.max(p.newestOffset, offset);
    long prev = op.getPartitionPrevSeq();
    if (p.hole != null) {
      // The undecodable record before this one was the op partitionPrevSeq names, if that seq is
      // beyond what this partition had; otherwise it was not part of the chain at all.
      if (prev > p.arrivedLast) {
        p.hole.seq = prev;
        p.arrivedLast = prev;
      } else {
        p.hole.seq = NOT_IN_CHAIN;
      }
      p.hole = null;
    }
    if (op.getSeq() <= p.arrivedLast) {
      outsideChain(p, offset, op.getSeq()); // a duplicate (replay, shipper restart, redelivery)
      return;
    }
    if (prev != p.arrivedLast) {
      throw new Gap(partition, offset, op.getSeq(), prev, p.arrivedLast);
    }
    p.arrivedLast = op.getSeq();
    enqueue(p, new Entry(op, partition, op.getSeq(), offset, bytes));
  }

  /** Adds a record that is not part of any chain here (another journal epoch). */
  void arriveOutsideChain(int partition, long offset, long nowMs) {
    Part p = parts.get(partition);
    noteArrival(p, nowMs);
    outsideChain(p, offset, 0);
  }

  /**
   * Adds an undecodable record that is skipped (errors.tolerance=all): its seq is learnt from the
   * next record of its partition, and skipping it then counts as applying it.
   */
  void arriveUndecodable(int partition, long offset, long nowMs) {
    Part p = parts.get(partition);
    noteArrival(p, nowMs);
    Entry placeholder = new Entry(null, partition, UNKNOWN, offset, 0);
    enqueue(p, placeholder);
    p.hole = placeholder;
  }

  private void outsideChain(Part p, long offset, long seq) {
    if (p.queue.isEmpty()) {
      account(p, offset, seq);
    } else {
      enqueue(p, new Entry(null, p.partition, NOT_IN_CHAIN, offset, 0));
    }
  }

  /** A record in a partition that could still hold the awaited seq restarts the gap clock. */
  private void noteArrival(Part p, long nowMs) {
    if (p.queue.isEmpty()) {
      hopefulArrivalMs = nowMs;
    }
  }

  private void enqueue(Part p, Entry e) {
    p.queue.addLast(e);
    bufferedBytes += e.bytes;
    bufferedRecords++;
  }

  // ------------------------------------------------------------------ merge

  /** The seq the merge has applied up to. */
  long applied() {
    return applied;
  }

  /**
   * The record with the next seq, left at its queue's head until {@link #done}; null when no
   * partition's head is the next seq. Duplicate and out-of-chain heads are dropped on the way.
   */
  Entry next() {
    long want = applied + 1;
    Entry found = null;
    for (Part p : parts.values()) {
      while (!p.queue.isEmpty()) {
        Entry h = p.queue.peekFirst();
        if (h.seq == NOT_IN_CHAIN || (h.seq > 0 && h.seq < want)) {
          p.queue.removeFirst();
          release(h);
          account(p, h.offset, Math.max(h.seq, 0));
          continue;
        }
        break;
      }
      Entry h = p.queue.peekFirst();
      if (h != null && h.seq == want) {
        found = h;
      }
    }
    return found;
  }

  /** Records the entry {@link #next()} returned as applied (or, without an op, skipped). */
  void done(Entry e) {
    Part p = parts.get(e.partition);
    Entry head = p.queue.removeFirst();
    if (head != e) {
      throw new IllegalStateException("done() with an entry that is not its partition's head");
    }
    release(e);
    account(p, e.offset, e.seq);
    applied = e.seq;
  }

  /** Drops everything buffered (the replay target is reached; it is re-read later). */
  void dropAll() {
    for (Part p : parts.values()) {
      dropBuffered(p);
    }
  }

  private void dropBuffered(Part p) {
    for (Entry e : p.queue) {
      release(e);
    }
    p.queue.clear();
    p.hole = null;
  }

  private void release(Entry e) {
    bufferedBytes -= e.bytes;
    bufferedRecords--;
  }

  private static void account(Part p, long offset, long seq) {
    p.pos.advance(offset + 1, seq);
  }

  // ------------------------------------------------------------------ pauses

  /**
   * Pauses partitions that run ahead while the buffer is over its bound; resumes every paused
   * partition that could hold the next seq, and all of them once the buffer is below half.
   */
  Pauses pauses() {
    long want = applied + 1;
    List<Integer> pause = new ArrayList<>();
    List<Integer> resume = new ArrayList<>();
    for (Part p : parts.values()) {
      if (!p.assigned) {
        continue;
      }
      Entry h = p.queue.peekFirst();
      boolean ahead = h != null && h.seq > want;
      if (p.paused && (!ahead || bufferedBytes <= maxBytes / 2)) {
        p.paused = false;
        resume.add(p.partition);
      } else if (!p.paused && ahead && bufferedBytes > maxBytes) {
        p.paused = true;
        pause.add(p.partition);
      }
    }
    return new Pauses(pause, resume);
  }

  /** Marks every assigned, unpaused partition paused and returns them. */
  List<Integer> pauseAll() {
    List<Integer> out = new ArrayList<>();
    for (Part p : parts.values()) {
      if (p.assigned && !p.paused) {
        p.paused = true;
        out.add(p.partition);
      }
    }
    return out;
  }

  /** True when the partition is paused. */
  boolean isPaused(int partition) {
    Part p = parts.get(partition);
    return p != null && p.paused;
  }

  /** The paused partitions. */
  int[] paused() {
    return parts.values().stream().filter(p -> p.paused).mapToInt(p -> p.partition).toArray();
  }

  // ------------------------------------------------------------------ waiting

  /**
   * Updates the wait for the next seq after a delivery: returns the seq waited for, or -1 when
   * nothing is buffered or the next seq is at a head.
   */
  long updateWait(long nowMs) {
    long want = applied + 1;
    boolean waiting = bufferedRecords > 0;
    if (waiting) {
      for (Part p : parts.values()) {
        Entry h = p.queue.peekFirst();
        if (h != null && (h.seq == want || h.seq == UNKNOWN)) {
          waiting = false; // applicable, or the seq of a skipped record is still unknown
          break;
        }
      }
    }
    if (!waiting) {
      waitingFor = -1;
    } else if (waitingFor != want) {
      waitingFor = want;
      waitingSinceMs = nowMs;
      hopefulArrivalMs = nowMs;
    }
    return waitingFor;
  }

  /** The seq waited for (-1: none) as of the last {@link #updateWait}. */
  long waitingFor() {
    return waitingFor;
  }

  /** When the current wait began (wall-clock ms of the caller's clock). */
  long waitingSinceMs() {
    return waitingSinceMs;
  }

  /**
   * True when the awaited seq is given up as unreachable at {@code nowMs}: the merge waits, and no
   * record arrived in a partition that could still hold it for {@code gapTimeoutMs}.
   */
  boolean unreachable(long nowMs) {
    return waitingFor > 0 && nowMs - Math.max(waitingSinceMs, hopefulArrivalMs) >= gapTimeoutMs;
  }

  /** The newest record seen in each assigned partition (seq 0, offset -1: none this session). */
  List<Newest> newest() {
    List<Newest> out = new ArrayList<>();
    for (Part p : parts.values()) {
      if (p.assigned) {
        out.add(new Newest(p.partition, p.newestSeq, p.newestOffset));
      }
    }
    return Collections.unmodifiableList(out);
  }

  // ------------------------------------------------------------------ figures

  long bufferedBytes() {
    return bufferedBytes;
  }

  long bufferedRecords() {
    return bufferedRecords;
  }

  /** The next offset to consume of each assigned partition: what the mirror has accounted for. */
  Map<Integer, Long> committable() {
    Map<Integer, Long> out = new TreeMap<>();
    for (Part p : parts.values()) {
      if (p.assigned) {
        out.put(p.partition, p.pos.nextOffset());
      }
    }
    return out;
  }

  private Part part(int partition) {
    return parts.computeIfAbsent(partition, k -> new Part(k, positions.apply(k)));
  }
}
