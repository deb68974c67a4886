package dev.tfs.tools.verify;

import dev.tfs.posix.Flags;
import dev.tfs.posix.LibC;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import jnr.ffi.Pointer;

/**
 * Compares file contents on a small worker pool while the walker goes on: the walker hands over
 * batches of (directory pair, name, size); a worker opens both files, reads them in 1 MiB chunks
 * into direct buffers and compares. The queue is bounded and a full queue makes the walker compare
 * the batch itself, so memory and open fds stay bounded however far the walker is ahead.
 */
final class ContentComparer implements AutoCloseable {
  /** Reports a content difference for a file of a queued batch. */
  interface Sink {
    void differ(TreeVerifier.Frame dir, byte[] name, String what);
  }

  private static final int CHUNK = 1 << 20;
  private static final int QUEUED_BATCHES = 8;
  private static final int BATCH_FILES = 256;
  private static final long BATCH_BYTES = 16L << 20;
  // A batch pins the directory fds of its files; few distinct directories per batch keeps the
  // number of pinned fds small (QUEUED_BATCHES + workers + 1) * BATCH_DIRS * 2.
  private static final int BATCH_DIRS = 8;
  private static final int OPEN = Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK;
  private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

  // A queue entry handed to one worker, never compared or hashed: the array is fine.
  @SuppressWarnings("ArrayRecordComponent")
  private record Task(TreeVerifier.Frame dir, DirPair dirs, byte[] name, long size) {}

  /** One thread's read buffers: direct, so pread fills them without a copy. */
  private static final class Buffers {
    final ByteBuffer a = ByteBuffer.allocateDirect(CHUNK);
    final ByteBuffer b = ByteBuffer.allocateDirect(CHUNK);
    final Pointer pa = Pointer.wrap(Posix.runtime(), a);
    final Pointer pb = Pointer.wrap(Posix.runtime(), b);
  }

  private final Sink sink;
  private final LongAdder bytes;
  private final ThreadPoolExecutor pool;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private List<Task> batch = new ArrayList<>();
  private long batchBytes;
  private final List<DirPair> batchDirs = new ArrayList<>();

  ContentComparer(Sink sink, LongAdder bytes, int workers) {
    this.sink = sink;
    this.bytes = bytes;
    this.pool =
        new ThreadPoolExecutor(
            workers,
            workers,
            1,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_BATCHES),
            r -> {
              Thread t = new Thread(r, "tfs-verify-content");
              t.setDaemon(true);
              return t;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
  }

  /** Queues the comparison of {@code name} (same size on both sides) in {@code dirs}. */
  void add(TreeVerifier.Frame dir, DirPair dirs, byte[] name, long size) throws PosixException {
    rethrow();
    if (!batchDirs.contains(dirs)) {
      if (batchDirs.size() == BATCH_DIRS) {
        flush();
      }
      batchDirs.add(dirs);
    }
    batch.add(new Task(dir, dirs.retain(), name, size));
    batchBytes += size;
    if (batch.size() >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
      flush();
    }
  }

  private void flush() {
    if (batch.isEmpty()) {
      return;
    }
    List<Task> tasks = batch;
    batch = new ArrayList<>();
    batchBytes = 0;
    batchDirs.clear();
    pool.execute(() -> run(tasks));
  }

  private void run(List<Task> tasks) {
    for (Task t : tasks) {
      try {
        if (failure.get() == null) {
          compare(t);
        }
      } catch (PosixException | RuntimeException e) {
        failure.compareAndSet(null, e);
      } finally {
        t.dirs().release();
      }
    }
  }

  private void compare(Task t) throws PosixException {
    int fa = Posix.openat(t.dirs().a, t.name(), OPEN, 0);
    try {
      int fb = Posix.openat(t.dirs().b, t.name(), OPEN, 0);
      try {
        compare(t, fa, fb);
      } finally {
        Posix.closeQuietly(fb);
      }
    } finally {
      Posix.closeQuietly(fa);
    }
  }

  private void compare(Task t, int fa, int fb) throws PosixException {
    Buffers buf = BUFFERS.get();
    LibC libc = Posix.libc();
    long pos = 0;
    // Read up to the size both sides had when stat'ed (no extra read to find the end of file).
    while (pos < t.size()) {
      long na = libc.pread(fa, buf.pa, CHUNK, pos);
      if (na < 0) {
        throw new PosixException("pread", Posix.show(t.name()), Posix.errno());
      }
      long nb = libc.pread(fb, buf.pb, CHUNK, pos);
      if (nb < 0) {
        throw new PosixException("pread", Posix.show(t.name()), Posix.errno());
      }
      // Short reads are allowed on either side: advance by what both returned.
      int n = (int) Math.min(na, nb);
      if (n == 0) {
        if (na != nb) {
          sink.differ(
              t.dir(), t.name(), "content length differs (file changed during the comparison?)");
        }
        return;
      }
      buf.a.clear().limit(n);
      buf.b.clear().limit(n);
      int mismatch = buf.a.mismatch(buf.b);
      if (mismatch >= 0) {
        sink.differ(t.dir(), t.name(), "content differs at byte " + (pos + mismatch));
        return;
      }
      bytes.add(n);
      pos += n;
    }
  }

  private void rethrow() throws PosixException {
    Throwable f = failure.get();
    if (f instanceof PosixException pe) {
      throw pe;
    }
    if (f instanceof RuntimeException re) {
      throw re;
    }
  }

  /** Compares what is still queued, waits for the workers and throws their first failure. */
  void finish() throws PosixException {
    flush();
    pool.shutdown();
    try {
      while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
        // a large file on a slow disk: keep waiting
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for content comparisons", e);
    }
    rethrow();
  }

  /** Drops what is not compared yet (after a failure) and releases the pinned directories. */
  @Override
  public void close() {
    failure.compareAndSet(null, new java.util.concurrent.CancellationException("verify aborted"));
    for (Task t : batch) {
      t.dirs().release();
    }
    batch.clear();
    for (Runnable r : pool.shutdownNow()) {
      r.run(); // each queued batch releases its directories; failure set: it compares nothing
    }
  }
}
