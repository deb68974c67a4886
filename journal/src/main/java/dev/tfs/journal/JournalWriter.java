package dev.tfs.journal;

import dev.tfs.op.WriteChunker;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 */
public final class JournalWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournalWriter.class);

  /** Poll interval of the acked file while a caller is blocked on the quota. */
  private static final long BLOCKED_POLL_MILLIS = 10;

  private final Path dir;
  private final JournalOptions opts;
  private final JournalMeta meta;
  private final OpEncoder encoder;
  private final WriteChunker chunker;
  private final int maxBody;
  private final long checkpointBytes;
  private final FileChannel lockChannel;
  private final FileLock fileLock;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition space = lock.newCondition();
  private final ReentrantLock syncLock = new ReentrantLock();

  // Guarded by lock (active is also read by the syncer under syncLock; rolls hold both).
  private final ArrayDeque<Segment> segments = new ArrayDeque<>();
  private volatile Segment active;
  private long nextSeq;
  private final long[] lastSeqs;
  private long nextIntentId;
  private final Map<Long, Pending> unresolved = new LinkedHashMap<>();
  private long intentBytes;
  private long opBytesTotal;
  private long ackedOpBytes;

  /** {seq, opBytesTotal after seq}, at most one per checkpointBytes of OP entries. */
  private final ArrayDeque<long[]> checkpoints = new ArrayDeque<>();

  private long ackedSeq;
  private volatile int waiters;
  private long blockedNanos;

  /** Bytes written by this writer since open (a logical position across segments). */
  private volatile long written;

  /** Part of {@link #written} known to be on stable storage. */
  private volatile long synced;

  private final AtomicLong fsyncs = new AtomicLong();

  /** Highest seq whose entry is completely written (published after {@link #written}). */
  private volatile long lastWrittenSeq;

  /** Tells readers how far they may ship; null until recovery is done. */
  private SyncedMark mark;

  /** Time commits held the append lock (ns), for the benchmark's per-op critical section. */
  private long lockHeldNanos;

  private volatile boolean closed;
  private volatile JournalException failure;

  private final Object wake = new Object();

  /** The group syncer's clock; close() notifies it so the thread ends at once. */
  private final Object tick = new Object();

  private boolean kick;
  private final Thread ackPoller;
  private final Thread groupSyncer;

  private JournalWriter(Path dir, JournalOptions opts, FileChannel lockChannel, FileLock fileLock)
      throws IOException {
    this.dir = dir;
    this.opts = opts;
    this.lockChannel = lockChannel;
    this.fileLock = fileLock;
    this.meta = loadOrCreateMeta();
    this.encoder = new OpEncoder(meta.volume(), meta.epoch(), meta.partitions());
    this.chunker = new WriteChunker(meta.maxRecordBytes());
    this.maxBody = Format.maxBody(meta.maxRecordBytes());
    this.checkpointBytes = Math.max(1, opts.spoolMaxBytes() / 4096);
    this.lastSeqs = new long[meta.partitions()];
    deleteLeftoverTempFiles();
    recover();
    this.ackPoller = new Thread(this::pollAcks, "tfs-journal-acks-" + meta.volume());
    this.ackPoller.setDaemon(true);
    this.ackPoller.start();
    if (opts.durability() == Durability.GROUP) {
      this.groupSyncer = new Thread(this::groupSync, "tfs-journal-fsync-" + meta.volume());
      this.groupSyncer.setDaemon(true);
      this.groupSyncer.start();
    } else {
      this.groupSyncer = null;
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
    FileChannel ch = null;
    try {
      Files.createDirectories(dir);
      ch =
          FileChannel.open(
              dir.resolve(Format.LOCK),
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      FileLock fl;
      try {
        fl = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        fl = null; // held by this JVM
      }
      if (fl == null) {
        String holder;
        try {
          holder = Files.readString(dir.resolve(Format.LOCK), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          holder = "";
        }
        holder = holder.isEmpty() ? "unknown" : holder;
        throw new JournalLockedException(
            "journal "
                + dir
                + " is already open for writing by process "
                + holder
                + " (see "
                + dir.resolve(Format.LOCK)
                + "); only one tfs-capture may write a journal: stop that process or use another"
                + " journal directory",
            holder);
      }
      ch.truncate(0);
      ch.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
      ch.force(true);
      JournalWriter w = new JournalWriter(dir, opts, ch, fl);
      ch = null;
      return w;
    } catch (IOException e) {
      throw ioFailure(dir, "open the journal", e);
    } finally {
      if (ch != null) {
        try {
          ch.close(); // also releases the lock
        } catch (IOException e) {
          log.debug("closing {} failed", dir.resolve(Format.LOCK), e);
        }
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
      for (Pending p : unresolved.values()) {
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
      Pending p = new Pending(id, record, active, frame.length);
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
      Pending pending = null;
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
        opBytesTotal += p.length;
        maybeCheckpoint(seq);
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
      Pending p = unresolved.get(intentId);
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
          ackedSeq,
          nextSeq - 1 - ackedSeq,
          unshippedLocked(),
          bytes,
          segments.size(),
          unresolved.size(),
          waiters,
          blockedNanos,
          fsyncs.get());
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
    synchronized (wake) {
      wake.notifyAll();
    }
    synchronized (tick) {
      tick.notifyAll();
    }
    joinQuietly(ackPoller);
    joinQuietly(groupSyncer);
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
      try {
        fileLock.release();
        lockChannel.close();
      } catch (IOException e) {
        log.debug("releasing {} failed", dir.resolve(Format.LOCK), e);
      }
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
  private void awaitSpace() {
    if (unshippedLocked() < opts.spoolMaxBytes()) {
      return;
    }
    long t0 = System.nanoTime();
    boolean interrupted = false;
    waiters++;
    kickPoller();
    try {
      while (unshippedLocked() >= opts.spoolMaxBytes()) {
        checkUsable();
        try {
          space.await(BLOCKED_POLL_MILLIS * 5, TimeUnit.MILLISECONDS);
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
    return opBytesTotal - ackedOpBytes + intentBytes;
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

  private void maybeCheckpoint(long seq) {
    long base = checkpoints.isEmpty() ? ackedOpBytes : checkpoints.peekLast()[1];
    if (opBytesTotal - base >= checkpointBytes) {
      checkpoints.addLast(new long[] {seq, opBytesTotal});
    }
  }

  private void resolveLocked(Pending p) {
    unresolved.remove(p.id);
    p.segment.pins--;
    intentBytes -= p.bytes;
    space.signalAll();
  }

  /** Writes bytes at the end of the active segment; on failure cuts them off again. */
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
  private void maybeRoll() {
    Segment a = active;
    // A segment without ops is never rolled: the next segment would get the same name (first seq).
    if (a.bytes < opts.segmentBytes() || a.lastSeq < a.firstSeq) {
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
      Segment s = createSegment(h);
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

  /** Creates a segment file holding only its header, durably (temp file, fsync, rename). */
  private Segment createSegment(SegmentHeader h) throws IOException {
    String name = Format.segmentName(h.firstSeq);
    Path file = dir.resolve(name);
    Path tmp = dir.resolve(name + ".tmp-" + ProcessHandle.current().pid());
    try {
      try (RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw")) {
        raf.setLength(0);
        raf.write(h.encode());
        raf.getFD().sync();
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Format.fsyncDir(dir);
      fsyncs.incrementAndGet();
    } finally {
      Files.deleteIfExists(tmp);
    }
    Segment s = new Segment(file, h.firstSeq);
    s.bytes = h.size();
    return s;
  }

  // ---------------------------------------------------------------- acknowledgements

  private void kickPoller() {
    synchronized (wake) {
      kick = true;
      wake.notifyAll();
    }
  }

  private void pollAcks() {
    while (!closed) {
      synchronized (wake) {
        if (closed) {
          return;
        }
        if (!kick) {
          try {
            wake.wait(waiters > 0 ? BLOCKED_POLL_MILLIS : opts.ackPollMillis());
          } catch (InterruptedException e) {
            return;
          }
        }
        kick = false;
      }
      if (closed) {
        return;
      }
      try {
        advanceAck(AckFile.read(dir, meta.epoch()));
      } catch (IOException | RuntimeException e) {
        log.warn("journal {}: reading {} failed: {}", dir, Format.ACKED, e.toString());
      }
    }
  }

  /** Moves the acknowledged seq forward, frees quota and deletes segments no longer needed. */
  private void advanceAck(long seq) {
    List<Segment> doomed = new ArrayList<>();
    lock.lock();
    try {
      if (seq > ackedSeq) {
        if (seq >= nextSeq) {
          log.error(
              "journal {}: {} says seq {} was acknowledged, but the last seq is {}; ignored",
              dir,
              Format.ACKED,
              seq,
              nextSeq - 1);
          seq = ackedSeq;
        }
        ackedSeq = seq;
        while (!checkpoints.isEmpty() && checkpoints.peekFirst()[0] <= seq) {
          ackedOpBytes = checkpoints.pollFirst()[1];
        }
        if (seq >= nextSeq - 1) {
          ackedOpBytes = opBytesTotal;
          checkpoints.clear();
        }
        space.signalAll();
      }
      while (segments.size() > 1) {
        Segment s = segments.peekFirst();
        if (s == active || s.lastSeq > ackedSeq || s.pins > 0) {
          break;
        }
        doomed.add(segments.pollFirst());
      }
    } finally {
      lock.unlock();
    }
    for (Segment s : doomed) {
      try {
        Files.deleteIfExists(s.path);
        log.debug("journal {}: deleted acknowledged segment {}", dir, s.name);
      } catch (IOException e) {
        log.warn("journal {}: could not delete acknowledged segment {}: {}", dir, s.path, e);
      }
    }
  }

  private void groupSync() {
    while (!closed) {
      synchronized (tick) {
        if (closed) {
          return; // close() set it before notifying under this monitor: no wake-up is missed
        }
        try {
          tick.wait(opts.groupCommitMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
      if (!closed && written > synced && failure == null) {
        try {
          syncTo(written);
        } catch (JournalException e) {
          log.error("journal {}: group fsync failed; appends will fail from now on", dir, e);
        }
      }
    }
  }

  // ---------------------------------------------------------------- open and recovery

  private JournalMeta loadOrCreateMeta() throws IOException {
    JournalMeta m;
    try {
      m = JournalMeta.read(dir);
    } catch (NoSuchFileException e) {
      List<Path> segs = Format.listSegments(dir);
      if (!segs.isEmpty()) {
        throw new JournalCorruptException(
            dir
                + " holds "
                + segs.size()
                + " journal segments but no "
                + Format.META
                + ": restore it from a backup, or move the directory away to start a new journal"
                + " (new epoch)",
            Format.META,
            -1);
      }
      return createMeta();
    }
    List<String> diffs = new ArrayList<>();
    if (!m.volume().equals(opts.volume())) {
      diffs.add("volume '" + m.volume() + "' (options say '" + opts.volume() + "')");
    }
    if (m.partitions() != opts.partitions()) {
      diffs.add(m.partitions() + " partitions (options say " + opts.partitions() + ")");
    }
    if (m.maxRecordBytes() != opts.maxRecordBytes()) {
      diffs.add(
          "maxRecordBytes " + m.maxRecordBytes() + " (options say " + opts.maxRecordBytes() + ")");
    }
    if (!diffs.isEmpty()) {
      throw new JournalException(
          "journal "
              + dir
              + " (epoch "
              + m.epoch()
              + ") was created with "
              + String.join(", ", diffs)
              + ". These are fixed for the life of a journal: every op's partition and partition"
              + " chain depend on them. Configure the journal's values, or let the shipper drain"
              + " the journal, stop tfs-capture and move the directory away to start a new journal"
              + " (a new epoch: mirrors stop and must be rebuilt)");
    }
    return m;
  }

  /**
   * A new journal: the epoch is the current time in ms, but strictly greater than every epoch in
   * {@code journal.epochs-seen} (which gets the new one appended first), so a journal recreated in
   * the same directory gets a new epoch even if the clock stepped back.
   */
  private JournalMeta createMeta() throws IOException {
    Path seenFile = dir.resolve(Format.EPOCHS_SEEN);
    String seen = "";
    long maxSeen = 0;
    if (Files.exists(seenFile)) {
      seen = Files.readString(seenFile, StandardCharsets.UTF_8);
      for (String line : seen.split("\n")) {
        try {
          if (!line.isBlank() && !line.startsWith("#")) {
            maxSeen = Math.max(maxSeen, Long.parseLong(line.strip()));
          }
        } catch (NumberFormatException e) {
          log.warn("{}: ignoring unreadable line '{}'", seenFile, line);
        }
      }
    }
    long epoch = Math.max(System.currentTimeMillis(), maxSeen + 1);
    if (!seen.isEmpty() && !seen.endsWith("\n")) {
      seen += "\n";
    }
    Format.writeAtomically(seenFile, (seen + epoch + "\n").getBytes(StandardCharsets.UTF_8));
    JournalMeta m =
        new JournalMeta(
            Format.VERSION, opts.volume(), epoch, opts.partitions(), opts.maxRecordBytes());
    Format.writeAtomically(dir.resolve(Format.META), m.toBytes());
    log.info("journal {}: created for volume {} with epoch {}", dir, m.volume(), epoch);
    return m;
  }

  /**
   * Removes temp files (name {@code <file>.tmp-<pid>[-<random>]}) left by processes that died while
   * replacing a file; those of live processes (a reader acknowledging right now) stay.
   */
  private void deleteLeftoverTempFiles() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.tmp-*")) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        String pid = n.substring(n.lastIndexOf(".tmp-") + 5);
        int dash = pid.indexOf('-');
        pid = dash < 0 ? pid : pid.substring(0, dash);
        boolean alive;
        try {
          long id = Long.parseLong(pid);
          alive =
              id != ProcessHandle.current().pid()
                  && ProcessHandle.of(id).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
          continue; // not ours
        }
        if (!alive) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** Scans every segment, restores the state, cuts a torn tail and opens the last segment. */
  private void recover() throws IOException {
    long acked = AckFile.read(dir, meta.epoch());
    List<Path> files = Format.listSegments(dir);
    long expected = -1;
    long intentIds = 1;
    for (int i = 0; i < files.size(); i++) {
      boolean newest = i == files.size() - 1;
      try (SegmentReader r = SegmentReader.open(files.get(i), meta.partitions(), maxBody)) {
        SegmentHeader h = r.header;
        if (h.epoch != meta.epoch()) {
          throw new JournalCorruptException(
              "segment "
                  + r.path
                  + " belongs to epoch "
                  + h.epoch
                  + " but "
                  + Format.META
                  + " says "
                  + meta.epoch()
                  + ": segments of two journals are mixed in one directory; move the stray"
                  + " segment away",
              r.name,
              0);
        }
        if (expected < 0) {
          expected = h.firstSeq;
          System.arraycopy(h.lastSeqs, 0, lastSeqs, 0, lastSeqs.length);
        } else if (h.firstSeq != expected) {
          throw new JournalCorruptException(
              "seq gap: expected "
                  + expected
                  + ", found segment "
                  + r.name
                  + " starting at "
                  + h.firstSeq
                  + " (position 0); a segment is missing",
              r.name,
              0);
        } else if (!java.util.Arrays.equals(h.lastSeqs, lastSeqs)) {
          throw new JournalCorruptException(
              "segment "
                  + r.name
                  + " header's partition chain state differs from the ops before it",
              r.name,
              0);
        }
        intentIds = Math.max(intentIds, h.nextIntentId);
        Segment seg = new Segment(r.path, h.firstSeq);
        long pos = r.headerBytes();
        while (true) {
          SegmentReader.Status st = r.read(pos);
          if (st == SegmentReader.Status.END) {
            break;
          }
          if (st != SegmentReader.Status.ENTRY) {
            String problem = r.problem;
            if (!newest) {
              throw new JournalCorruptException(
                  "segment "
                      + r.path
                      + " is damaged at position "
                      + pos
                      + " ("
                      + problem
                      + ") and is not the newest segment, so this is not a torn write",
                  r.name,
                  pos);
            }
            long after = r.validEntryAfter(pos);
            if (after >= 0) {
              throw new JournalCorruptException(
                  "segment "
                      + r.path
                      + " is damaged at position "
                      + pos
                      + " ("
                      + problem
                      + "), and valid entries follow at position "
                      + after
                      + ", so this is not a torn write; ops would be lost by cutting it."
                      + " Restore the journal from a backup, or copy the segment away and cut it"
                      + " at "
                      + pos
                      + " by hand if losing those ops is acceptable",
                  r.name,
                  pos);
            }
            long size = r.length();
            log.warn(
                "journal {}: cutting a torn entry off segment {} at position {} ({} bytes: {});"
                    + " the writer stopped while appending it",
                dir,
                r.name,
                pos,
                size - pos,
                problem);
            try (RandomAccessFile rw = new RandomAccessFile(r.path.toFile(), "rw")) {
              rw.setLength(pos);
              rw.getFD().sync();
            }
            break;
          }
          switch (r.type) {
            case Format.OP:
              if (r.seq != expected) {
                throw new JournalCorruptException(
                    "seq gap: expected "
                        + expected
                        + ", found "
                        + r.seq
                        + " in segment "
                        + r.name
                        + " at position "
                        + pos,
                    r.name,
                    pos);
              }
              lastSeqs[r.partition] = r.seq;
              seg.lastSeq = r.seq;
              expected++;
              if (r.seq > acked) {
                opBytesTotal += r.entryBytes;
                maybeCheckpoint(r.seq);
              }
              if (r.intentId != 0) {
                resolveRecovered(r.intentId);
              }
              break;
            case Format.INTENT:
              IntentRecord rec;
              try {
                rec = r.intent();
              } catch (IllegalArgumentException e) {
                throw new JournalCorruptException(
                    "intent "
                        + r.intentId
                        + " in segment "
                        + r.name
                        + " at position "
                        + pos
                        + " does not decode: "
                        + e.getMessage(),
                    r.name,
                    pos);
              }
              unresolved.put(r.intentId, new Pending(r.intentId, rec, seg, r.entryBytes));
              seg.pins++;
              intentBytes += r.entryBytes;
              intentIds = Math.max(intentIds, r.intentId + 1);
              break;
            default:
              resolveRecovered(r.intentId);
              break;
          }
          pos = r.next;
        }
        seg.bytes = pos;
        segments.addLast(seg);
      }
    }
    if (segments.isEmpty()) {
      if (acked > 0) {
        throw new JournalCorruptException(
            "journal "
                + dir
                + " has no segments, but "
                + Format.ACKED
                + " says seq "
                + acked
                + " was shipped: the segments were removed. Move the directory away to start a new"
                + " journal (new epoch)",
            Format.ACKED,
            -1);
      }
      expected = 1;
      Segment s = createSegment(new SegmentHeader(meta.epoch(), 1, 1, new long[lastSeqs.length]));
      segments.addLast(s);
    }
    nextSeq = expected;
    nextIntentId = intentIds;
    if (acked > nextSeq - 1) {
      throw new JournalCorruptException(
          Format.ACKED
              + " in "
              + dir
              + " says seq "
              + acked
              + " reached Kafka, but the journal ends at seq "
              + (nextSeq - 1)
              + ": it lost its tail (a power loss under durability GROUP or NONE?). New ops would"
              + " reuse seqs Kafka already holds. Move the directory away to start a new journal"
              + " (new epoch); mirrors stop and must be rebuilt",
          Format.ACKED,
          -1);
    }
    ackedSeq = acked;
    Segment last = segments.peekLast();
    last.raf = new RandomAccessFile(last.path.toFile(), "rw");
    if (last.raf.length() != last.bytes) {
      throw new JournalException(
          "segment " + last.path + " changed while the journal was being opened");
    }
    last.raf.seek(last.bytes);
    last.raf.getFD().sync(); // what recovery kept is durable now: readers may ship all of it
    active = last;
    lastWrittenSeq = nextSeq - 1;
    // NONE promises nothing beyond the write itself: readers may ship whatever is written.
    mark =
        SyncedMark.open(
            dir, meta.epoch(), opts.durability() == Durability.NONE ? Long.MAX_VALUE : nextSeq - 1);
    advanceAck(acked);
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
        acked);
  }

  private void resolveRecovered(long intentId) {
    Pending p = unresolved.remove(intentId);
    if (p != null) {
      p.segment.pins--;
      intentBytes -= p.bytes;
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

  private static void joinQuietly(Thread t) {
    if (t == null) {
      return;
    }
    try {
      t.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A retained segment file. */
  private static final class Segment {
    final Path path;
    final String name;
    final long firstSeq;

    /** Highest OP seq in the segment, firstSeq - 1 while it has none. */
    long lastSeq;

    long bytes;

    /** Unresolved intents recorded in this segment: it is kept while any remain. */
    int pins;

    RandomAccessFile raf;

    Segment(Path path, long firstSeq) {
      this.path = path;
      this.name = path.getFileName().toString();
      this.firstSeq = firstSeq;
      this.lastSeq = firstSeq - 1;
    }
  }

  /** An unresolved intent. */
  private static final class Pending {
    final long id;
    final IntentRecord record;
    final Segment segment;
    final int bytes;

    Pending(long id, IntentRecord record, Segment segment, int bytes) {
      this.id = id;
      this.record = record;
      this.segment = segment;
      this.bytes = bytes;
    }
  }
}
