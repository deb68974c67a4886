package dev.tfs.journal;

import dev.tfs.op.WriteChunker;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of a journal: the capture daemon records every mutating op here before it replies
 * to the application, and the journal keeps it until Kafka has acknowledged it.
 *
 * <p>Protocol for an op on the store (guarantee G1):
 *
 * <ol>
 *   <li>{@link #intent} records what is about to happen (durable per the {@link Durability} policy
 *       when it returns);
 *   <li>the caller applies the op to the store;
 *   <li>{@link #commit} appends the resulting ops (assigning their seqs) and resolves the intent,
 *       or {@link #abort} resolves it when the op failed or had no effect.
 * </ol>
 *
 * After a crash, {@link #unresolvedIntents()} lists the intents with neither commit nor abort; the
 * caller reconciles each with the store (did it happen?) and commits or aborts it before the mount
 * serves again.
 *
 * <p>Seqs are dense (1, 2, 3, ... per epoch) and assigned in the order of {@code commit} calls;
 * callers serialize conflicting ops themselves so that this is the order they took effect. Each op
 * also gets its Kafka partition ({@link KafkaPartitioner}) and the seq of the previous op in that
 * partition ({@code partitionPrevSeq}); seqs, partition chains and the epoch survive restarts and
 * the deletion of old segments.
 *
 * <p>Back-pressure: while the unshipped bytes (OP entries above the acknowledged seq, plus
 * unresolved intents) reach {@link JournalOptions#spoolMaxBytes()}, {@code intent} and {@code
 * commit} without an intent block until acknowledgements free space. (The commit of an intent does
 * not block again: its op already passed the quota at {@code intent}, and waiting there could
 * deadlock when unresolved intents alone fill the quota. The journal can therefore exceed the quota
 * by the ops in flight.) They never drop an op and never fail because of the quota; an interrupt
 * does not end the wait either (the interrupt status is kept). Only {@link #close()} releases
 * blocked callers, with a {@link JournalException}. Acknowledgements come from {@link #acknowledge}
 * (an in-process shipper) or from the {@code acked} file, which the writer polls every {@link
 * JournalOptions#ackPollMillis()} (every 10 ms while a caller is blocked). Segments whose ops are
 * all acknowledged and that hold no unresolved intent are deleted, oldest first; never the segment
 * being appended to.
 *
 * <p>Thread-safe. Appends take one short lock: the Avro encoding, validation and copying of an op
 * happen before it (see {@link OpEncoder}); under it the writer assigns seqs, frames the entries
 * (varints, key, CRC32C) and {@code write(2)}s them. fsyncs happen outside it, shared by concurrent
 * callers.
 *
 * <p>Disk I/O goes through {@link RandomAccessFile}, not a FileChannel, because an interrupt of any
 * FUSE thread in the middle of a FileChannel write would close the channel for everyone.
 *
 * <p>Structure: this class is the append path (intents, commits, aborts, rolls, fsyncs) and the
 * public API. {@link JournalDirectory} holds the directory (lock, meta, epochs, segment creation),
 * {@link JournalLoader} restores the state at open, {@link JournalAcks} keeps the acknowledged seq,
 * the quota accounting and retention, and {@link GroupSyncer} is the group-fsync clock.
 */
public final class JournalWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);

  private final Path dir;
  private final JournalDirectory directory;
  private final JournalOptions opts;
  private final JournalMeta meta;
  private final OpEncoder encoder;
  private final WriteChunker chunker;

  /** The acknowledged seq, the quota's share of ops, retention; guarded by lock. */
  private final JournalAcks acks;

  /** Serializes {@link #advanceAck}: taken before lock, never while holding it. */
  private final Object retention = new Object();

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition space = lock.newCondition();
  private final ReentrantLock syncLock = new ReentrantLock();

  // Guarded by lock (active is also read by the syncer under syncLock; rolls hold both).
  private final ArrayDeque<Segment> segments;
  private volatile Segment active;
  private long nextSeq;
  private final long[] lastSeqs;
  private long nextIntentId;
  private final Map<Long, PendingIntent> unresolved;
  private long intentBytes;
  private volatile int waiters;
  private long blockedNanos;

  /** Bytes written by this writer since open (a logical position across segments). */
  private volatile long written;

  /** Part of {@link #written} known to be on stable storage. */
  private volatile long synced;

  private final AtomicLong fsyncs = new AtomicLong();

  /** Highest seq whose entry is completely written (published after {@link #written}). */
  private volatile long lastWrittenSeq;

  /** Tells readers how far they may ship. */
  private final SyncedMark mark;

  /** Time commits held the append lock (ns), for the benchmark's per-op critical section. */
  private long lockHeldNanos;

  private volatile boolean closed;
  private volatile JournalException failure;

  /** Null unless durability is GROUP. */
  private final GroupSyncer syncer;

  private JournalWriter(JournalDirectory directory, JournalOptions opts) throws IOException {
    this.directory = directory;
    this.dir = directory.path();
    this.opts = opts;
    this.meta = directory.loadOrCreateMeta(opts);
    this.encoder = new OpEncoder(meta.volume(), meta.epoch(), meta.partitions());
    this.chunker = new WriteChunker(meta.maxRecordBytes());
    this.acks = new JournalAcks(dir, meta.epoch(), opts.spoolMaxBytes() / 4096);
    directory.deleteLeftoverTempFiles();
    JournalLoader.Loaded st = new JournalLoader(directory, meta, acks).load();
    this.segments = st.segments;
    this.unresolved = st.unresolved;
    this.lastSeqs = st.lastSeqs;
    this.nextSeq = st.nextSeq;
    this.nextIntentId = st.nextIntentId;
    this.intentBytes = st.intentBytes;
    this.active = st.active();
    this.lastWrittenSeq = nextSeq - 1;
    // NONE promises nothing beyond the write itself: readers may ship whatever is written.
    this.mark =
        SyncedMark.open(
            dir, meta.epoch(), opts.durability() == Durability.NONE ? Long.MAX_VALUE : nextSeq - 1);
    advanceAck(st.acked);
    if (!unresolved.isEmpty()) {
      log.warn(
          "journal {}: {} intents were unresolved when the previous writer stopped; they must be"
              + " reconciled",
          dir,
          unresolved.size());
    }
    log.info(
        "journal {}: opened epoch {} at seq {} ({} segments, acknowledged up to {})",
        dir,
        meta.epoch(),
        nextSeq,
        segments.size(),
        st.acked);
    acks.startPoller(
        "tfs-journal-acks-" + meta.volume(),
        opts.ackPollMillis(),
        () -> waiters > 0,
        this::advanceAck);
    if (opts.durability() == Durability.GROUP) {
      this.syncer =
          new GroupSyncer(
              "tfs-journal-fsync-" + meta.volume(), opts.groupCommitMillis(), this::groupSync);
      this.syncer.start();
    } else {
      this.syncer = null;
    }
  }

  /**
   * Opens the journal in {@code dir} for writing, creating it (and the directory) when it does not
   * exist, or recovering it after a stop or crash: a torn last entry (a crash mid-write) is cut off
   * with a warning; seq, epoch, partition chains and unresolved intents are restored.
   *
   * @throws JournalLockedException when another writer (process or object) has the journal open
   * @throws JournalException when the journal was created with another volume, partition count or
   *     record bound (the message says what differs), or on I/O failure
   * @throws JournalCorruptException when the journal is damaged beyond a torn tail, or the {@code
   *     acked} file claims seqs the journal no longer has (it lost its tail in a power loss)
   */
  public static JournalWriter open(Path dir, JournalOptions opts) {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(opts, "opts");
    JournalDirectory d = null;
    try {
      d = JournalDirectory.lock(dir);
      JournalWriter w = new JournalWriter(d, opts);
      d = null;
      return w;
    } catch (IOException e) {
      throw ioFailure(dir, "open the journal", e);
    } finally {
      if (d != null) {
        d.close(); // releases the lock
      }
    }
  }

  /** The journal directory. */
  public Path dir() {
    return dir;
  }

  /** The journal's identity (volume, epoch, partitions, record bound). */
  public JournalMeta meta() {
    return meta;
  }

  /** The options this writer was opened with. */
  public JournalOptions options() {
    return opts;
  }

  /**
   * Intents recorded and not yet committed or aborted, oldest first. Right after {@link #open},
   * these are the ops that were in flight when the previous writer stopped: reconcile each with the
   * store and {@link #commit} or {@link #abort} it before serving the mount.
   */
  public List<Intent> unresolvedIntents() {
    lock.lock();
    try {
      List<Intent> out = new ArrayList<>(unresolved.size());
      for (PendingIntent p : unresolved.values()) {
        out.add(new Intent(p.id, p.record));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Records that the op described by {@code record} is about to be applied to the store. Written to
   * the segment file (and fsynced under {@link Durability#FSYNC}) before it returns; blocks while
   * the quota is reached.
   *
   * @return the intent id, for {@link #commit} or {@link #abort}
   * @throws JournalDiskFullException when the journal's file system is full (nothing recorded)
   * @throws JournalException on I/O failure or when the writer is closed
   */
  public long intent(IntentRecord record) {
    Objects.requireNonNull(record, "record");
    byte[] desc = record.encode();
    int bodyLen = 1 + 8 + desc.length;
    byte[] frame = new byte[Format.FRAME + bodyLen];
    Format.putInt(frame, 0, bodyLen);
    frame[Format.FRAME] = Format.INTENT;
    System.arraycopy(desc, 0, frame, Format.FRAME + 9, desc.length);
    long id;
    long end;
    lock.lock();
    try {
      checkUsable();
      awaitSpace();
      maybeRoll();
      id = nextIntentId++;
      Format.putLong(frame, Format.FRAME + 1, id);
      Format.putInt(frame, 4, Format.crc(frame, Format.FRAME, bodyLen));
      appendLocked(frame, 0, frame.length);
      PendingIntent p = new PendingIntent(id, record, active, frame.length);
      unresolved.put(id, p);
      active.pins++;
      intentBytes += frame.length;
      end = written;
    } finally {
      lock.unlock();
    }
    afterAppend(end);
    return id;
  }

  /**
   * Appends the ops that resulted from an intent (or, with {@code intentId} 0, ops without one,
   * such as bootstrap snapshot ops) and resolves the intent.
   *
   * <p>Each draft becomes a record with this journal's {@code volume} and {@code epoch} and the
   * {@code seq}, {@code partition} and {@code partitionPrevSeq} assigned here, encoded with {@code
   * OpCodec} and appended as an OP entry. The ops get consecutive seqs, in list order; the intent
   * is resolved by the last one, so a crash in the middle of a multi-op commit leaves the intent
   * unresolved (recovery commits it again; the repeated ops are idempotent). With {@code intentId}
   * 0, blocks while the quota is reached.
   *
   * @return the seq of the first op
   * @throws IllegalArgumentException when an op is incomplete, breaks {@code OpRules} or encodes to
   *     more than {@code maxRecordBytes} (split writes with {@link #writeOps}), when the list is
   *     empty, or when {@code intentId} is not an unresolved intent; nothing is written then
   * @throws JournalDiskFullException when the file system is full: the ops before the one that did
   *     not fit are in the journal, the rest and the resolution are not; retry the commit (the
   *     repeated ops are idempotent) or abort
   * @throws JournalException on I/O failure or when the writer is closed
   */
  public long commit(long intentId, List<OpDraft> ops) {
    if (ops == null || ops.isEmpty()) {
      throw new IllegalArgumentException(
          "commit needs at least one op; abort the intent when the op had no effect");
    }
    if (intentId < 0) {
      throw new IllegalArgumentException("intent id must not be negative, got " + intentId);
    }
    checkUsable();
    int n = ops.size();
    OpEncoder.Prepared[] ps = new OpEncoder.Prepared[n];
    for (int i = 0; i < n; i++) {
      ps[i] = encoder.prepare(ops.get(i));
    }
    long first;
    long end;
    lock.lock();
    try {
      checkUsable();
      if (intentId == 0) {
        // A commit of an intent passed the quota at intent(); blocking it again could deadlock
        // when unresolved intents alone fill the quota (they are freed only by their commits).
        awaitSpace();
      }
      PendingIntent pending = null;
      if (intentId != 0) {
        pending = unresolved.get(intentId);
        if (pending == null) {
          throw new IllegalArgumentException(
              "intent "
                  + intentId
                  + " is not unresolved: it was never recorded, or was already committed or"
                  + " aborted");
        }
      }
      long locked = System.nanoTime();
      first = nextSeq;
      long[] prevs = prevSeqs(ps, first);
      for (int i = 0; i < n; i++) {
        int len = encoder.valueLength(ps[i], first + i, prevs[i]);
        if (len > meta.maxRecordBytes()) {
          throw new IllegalArgumentException(
              "op "
                  + i
                  + " of the commit ("
                  + ps[i].draft.kind().label()
                  + " "
                  + OpPaths.display(ps[i].key)
                  + ") encodes to "
                  + len
                  + " bytes, more than maxRecordBytes "
                  + meta.maxRecordBytes()
                  + "; split writes with JournalWriter.writeOps (WriteChunker)");
        }
      }
      for (int i = 0; i < n; i++) {
        maybeRoll();
        long seq = nextSeq;
        OpEncoder.Prepared p = ps[i];
        encoder.frame(p, seq, prevs[i], i == n - 1 ? intentId : 0);
        appendLocked(p.frame, p.start, p.length);
        nextSeq = seq + 1;
        lastSeqs[p.partition] = seq;
        active.lastSeq = seq;
        lastWrittenSeq = seq;
        acks.opAppended(seq, p.length);
      }
      if (pending != null) {
        resolveLocked(pending);
      }
      end = written;
      lockHeldNanos += System.nanoTime() - locked;
    } finally {
      lock.unlock();
    }
    afterAppend(end);
    return first;
  }

  /** {@link #commit(long, List)} of a single op. */
  public long commit(long intentId, OpDraft op) {
    return commit(intentId, List.of(op));
  }

  /**
   * Resolves an intent whose op failed or had no effect on the store.
   *
   * @throws IllegalArgumentException when {@code intentId} is not an unresolved intent
   * @throws JournalException on I/O failure (the intent stays unresolved) or when closed
   */
  public void abort(long intentId) {
    byte[] frame = new byte[Format.FRAME + 9];
    Format.putInt(frame, 0, 9);
    frame[Format.FRAME] = Format.ABORT;
    Format.putLong(frame, Format.FRAME + 1, intentId);
    Format.putInt(frame, 4, Format.crc(frame, Format.FRAME, 9));
    long end;
    lock.lock();
    try {
      checkUsable();
      PendingIntent p = unresolved.get(intentId);
      if (p == null) {
        throw new IllegalArgumentException(
            "intent "
                + intentId
                + " is not unresolved: it was never recorded, or was already committed or"
                + " aborted");
      }
      maybeRoll();
      appendLocked(frame, 0, frame.length);
      resolveLocked(p);
      end = written;
    } finally {
      lock.unlock();
    }
    afterAppend(end);
  }

  /**
   * Write ops for {@code length} bytes of {@code data} from {@code from}, written at file {@code
   * offset} of {@code path}, chunked ({@link WriteChunker}) so every op fits {@code
   * maxRecordBytes}; ready for {@link #commit}. The ops share {@code data}: do not modify it until
   * the commit returned.
   *
   * @param timeNanos when the write took effect (ns since the Unix epoch)
   * @param mtime the file's mtime after the write (ns), or null
   */
  public List<OpDraft> writeOps(
      byte[] path, long offset, byte[] data, int from, int length, long timeNanos, Long mtime) {
    List<Write> chunks = chunker.chunk(meta.volume(), path, offset, data, from, length);
    List<OpDraft> out = new ArrayList<>(chunks.size());
    for (Write w : chunks) {
      out.add(new OpDraft(path, timeNanos, w, mtime, null));
    }
    return out;
  }

  /**
   * Forces everything appended so far to stable storage (capture calls this when an application
   * fsyncs a file in the mount). Concurrent callers share one fsync.
   */
  public void sync() {
    checkUsable();
    syncTo(written);
  }

  /**
   * Records that Kafka has acknowledged every op up to {@code seq} (used by an in-process shipper):
   * writes the {@code acked} file, frees quota (waking blocked callers) and deletes segments that
   * are no longer needed. Never moves backwards: a lower seq than already acknowledged is ignored.
   *
   * @throws IllegalArgumentException when {@code seq} is negative or beyond the last appended op
   */
  public void acknowledge(long seq) {
    if (seq < 0) {
      throw new IllegalArgumentException("acknowledged seq must not be negative, got " + seq);
    }
    long last;
    lock.lock();
    try {
      checkUsable();
      last = nextSeq - 1;
    } finally {
      lock.unlock();
    }
    if (seq > last) {
      throw new IllegalArgumentException(
          "cannot acknowledge seq " + seq + ": the journal's last seq is " + last);
    }
    try {
      long now =
          AckFile.advance(
              dir,
              meta.epoch(),
              seq,
              () -> {
                /* this writer holds the journal: its epoch cannot change */
              });
      advanceAck(now);
    } catch (IOException e) {
      throw ioFailure(dir, "record the acknowledged seq in " + dir.resolve(Format.ACKED), e);
    }
  }

  /** Total time commits held the append lock, ns (excludes waits on the quota). */
  long lockHeldNanos() {
    lock.lock();
    try {
      return lockHeldNanos;
    } finally {
      lock.unlock();
    }
  }

  /** A snapshot of the counters. */
  public JournalStats stats() {
    lock.lock();
    try {
      long bytes = 0;
      for (Segment s : segments) {
        bytes += s.bytes;
      }
      return new JournalStats(
          nextSeq,
          acks.ackedSeq(),
          nextSeq - 1 - acks.ackedSeq(),
          unshippedLocked(),
          bytes,
          segments.size(),
          unresolved.size(),
          waiters,
          blockedNanos,
          fsyncs.get() + directory.fsyncs());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fsyncs what was appended, closes the segment and releases the lock file. Callers blocked on the
   * quota get a {@link JournalException}; later calls too. Idempotent.
   *
   * @throws JournalException when the final fsync fails
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    lock.lock();
    try {
      space.signalAll();
    } finally {
      lock.unlock();
    }
    acks.stopPoller();
    if (syncer != null) {
      syncer.stop();
    }
    IOException error = null;
    lock.lock();
    syncLock.lock();
    try {
      Segment a = active;
      if (a != null && a.raf != null) {
        try {
          if (failure == null) {
            a.raf.getFD().sync();
            fsyncs.incrementAndGet();
            synced = written;
            mark.publish(lastWrittenSeq);
          }
        } catch (IOException e) {
          error = e;
        }
        try {
          a.raf.close();
        } catch (IOException e) {
          error = error == null ? e : error;
        }
        a.raf = null;
      }
      if (mark != null) {
        try {
          mark.close();
        } catch (IOException e) {
          log.debug("closing {} failed", SyncedMark.FILE, e);
        }
      }
    } finally {
      syncLock.unlock();
      lock.unlock();
      directory.close();
    }
    if (error != null) {
      throw ioFailure(dir, "fsync and close the journal at close", error);
    }
  }

  // ---------------------------------------------------------------- appending

  private void checkUsable() {
    JournalException f = failure;
    if (f != null) {
      throw new JournalException(
          "journal "
              + dir
              + " is unusable after an earlier failure ("
              + f.getMessage()
              + "); restart tfs-capture to recover it",
          f);
    }
    if (closed) {
      throw new JournalException("journal writer for " + dir + " is closed");
    }
  }

  /** Blocks (under the lock, releasing it while waiting) while the quota is reached. */
  // Volatile fields are written only under the lock; volatile is for the lock-free readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void awaitSpace() {
    if (unshippedLocked() < opts.spoolMaxBytes()) {
      return;
    }
    long t0 = System.nanoTime();
    boolean interrupted = false;
    waiters++;
    acks.kick();
    try {
      while (unshippedLocked() >= opts.spoolMaxBytes()) {
        checkUsable();
        try {
          space.await(JournalAcks.BLOCKED_POLL_MILLIS * 5, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          // Never drop an op: keep waiting, but let the caller see the interrupt afterwards.
          interrupted = true;
        }
      }
    } finally {
      waiters--;
      blockedNanos += System.nanoTime() - t0;
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private long unshippedLocked() {
    return acks.unshippedOpBytes() + intentBytes;
  }

  /** partitionPrevSeq of each op of a commit that starts at {@code first}. */
  private long[] prevSeqs(OpEncoder.Prepared[] ps, long first) {
    long[] prevs = new long[ps.length];
    if (ps.length == 1) {
      prevs[0] = lastSeqs[ps[0].partition];
      return prevs;
    }
    Map<Integer, Long> inBatch = new HashMap<>();
    for (int i = 0; i < ps.length; i++) {
      int part = ps[i].partition;
      Long prior = inBatch.put(part, first + i);
      prevs[i] = prior != null ? prior : lastSeqs[part];
    }
    return prevs;
  }

  private void resolveLocked(PendingIntent p) {
    unresolved.remove(p.id);
    p.segment.pins--;
    intentBytes -= p.bytes;
    space.signalAll();
  }

  /** Writes bytes at the end of the active segment; on failure cuts them off again. */
  // Volatile fields are written only under the lock; volatile is for the lock-free readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void appendLocked(byte[] b, int off, int len) {
    Segment a = active;
    long before = a.bytes;
    try {
      a.raf.write(b, off, len);
    } catch (IOException e) {
      try {
        a.raf.setLength(before);
        a.raf.seek(before);
      } catch (IOException e2) {
        e.addSuppressed(e2);
        failure =
            new JournalException(
                "could not cut a partially written entry off " + a.path + " at " + before, e2);
      }
      throw ioFailure(dir, "append to " + a.path, e);
    }
    a.bytes += len;
    written += len;
  }

  private void afterAppend(long end) {
    if (opts.durability() == Durability.FSYNC) {
      syncTo(end);
    }
  }

  /**
   * Makes sure the first {@code target} bytes of {@link #written} are on stable storage. The first
   * caller fsyncs for everything written so far, later callers find their bytes synced already.
   */
  private void syncTo(long target) {
    if (synced >= target) {
      return;
    }
    syncLock.lock();
    try {
      if (synced >= target || closed) {
        return; // close() fsyncs everything under syncLock before closing the file
      }
      // Everything up to w is in the active segment or in one that was fsynced when it was rolled
      // (rolls hold syncLock, so the active segment cannot change here).
      long s = lastWrittenSeq; // before written: every entry up to s lies within w
      long w = written;
      Segment a = active;
      try {
        a.raf.getFD().sync();
      } catch (IOException e) {
        JournalException f = ioFailure(dir, "fsync " + a.path, e);
        failure = f;
        throw f;
      }
      fsyncs.incrementAndGet();
      synced = Math.max(synced, w);
      mark.publish(s);
    } finally {
      syncLock.unlock();
    }
  }

  /** Starts a new segment when the active one is full and holds at least one op. */
  // Volatile fields are written only under the lock; volatile is for the lock-free readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void maybeRoll() {
    Segment a = active;
    // A segment without ops is never rolled: the next segment would get the same name (first seq).
    if (a.bytes < opts.segmentBytes() || a.holdsNoOp()) {
      return;
    }
    syncLock.lock();
    try {
      // The old segment must be complete on disk before the next one can exist: otherwise a power
      // loss could leave a seq gap between them.
      a.raf.getFD().sync();
      fsyncs.incrementAndGet();
      synced = written;
      mark.publish(lastWrittenSeq);
      SegmentHeader h = new SegmentHeader(meta.epoch(), nextSeq, nextIntentId, lastSeqs.clone());
      Segment s = directory.createSegment(h);
      try {
        s.raf = new RandomAccessFile(s.path.toFile(), "rw");
        s.raf.seek(s.bytes);
      } catch (IOException e) {
        Files.deleteIfExists(s.path);
        throw e;
      }
      segments.addLast(s);
      active = s;
      try {
        a.raf.close();
      } catch (IOException e) {
        log.debug("closing {} failed", a.path, e);
      }
      a.raf = null;
      written += s.bytes;
      synced = written;
      log.debug("journal {}: rolled to {}", dir, s.name);
    } catch (IOException e) {
      throw ioFailure(dir, "start a new segment", e);
    } finally {
      syncLock.unlock();
    }
  }

  // ---------------------------------------------------------------- acknowledgements

  /** Moves the acknowledged seq forward, frees quota and deletes segments no longer needed. */
  private void advanceAck(long seq) {
    // One caller at a time (the poller and acknowledge() race): when acknowledge() returns, the
    // segments it freed are gone from the disk too, not only from the list another caller took.
    synchronized (retention) {
      List<Segment> released;
      lock.lock();
      try {
        if (acks.advance(seq, nextSeq - 1)) {
          space.signalAll();
        }
        released = acks.takeReleasable(segments, active);
      } finally {
        lock.unlock();
      }
      acks.delete(released);
    }
  }

  /** One tick of the group syncer: fsyncs what was written since the last fsync. */
  private void groupSync() {
    if (!closed && written > synced && failure == null) {
      try {
        syncTo(written);
      } catch (JournalException e) {
        log.error("journal {}: group fsync failed; appends will fail from now on", dir, e);
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  static JournalException ioFailure(Path dir, String what, IOException e) {
    if (Format.isDiskFull(e)) {
      return new JournalDiskFullException(
          "the journal disk is full: cannot "
              + what
              + " (journal directory "
              + dir
              + "): "
              + e.getMessage()
              + ". Free space on that file system, or let the shipper catch up and lower"
              + " spoolMaxBytes so writers block before the disk fills; the op can be retried",
          e);
    }
    return new JournalException(
        "journal I/O error: cannot " + what + " (journal directory " + dir + "): " + e, e);
  }
}
