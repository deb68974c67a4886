package dev.tfs.journal;

import java.io.Closeable;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code synced} file: the highest seq the writer has made as durable as its policy promises.
 * Readers ship nothing beyond it, so under FSYNC and GROUP an op can never reach Kafka and then
 * vanish from the journal in a power loss, after which its seq would be given to a different op (a
 * mirror would skip that op as already applied). Under NONE the writer promises nothing beyond the
 * write itself and sets the mark to {@link Long#MAX_VALUE}.
 *
 * <p>24 bytes, rewritten in place (never replaced, so readers can keep it open): the seq, the seq
 * XOR a constant (a read that raced with a rewrite fails this check and is retried), the epoch.
 * Through {@link RandomAccessFile} for the same reason as the segments (interrupt safety).
 */
final class SyncedMark implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(SyncedMark.class);

  static final String FILE = "synced";
  private static final long CHECK = 0x5446534A53594E43L; // "TFSJSYNC"
  private static final int SIZE = 24;

  private final RandomAccessFile raf;
  private final long epoch;
  private final Path file;
  private final byte[] buf = new byte[SIZE];
  private long published;

  private SyncedMark(Path file, RandomAccessFile raf, long epoch) {
    this.file = file;
    this.raf = raf;
    this.epoch = epoch;
  }

  /** The writer's side: sets the mark to {@code seq} for {@code epoch} (even if lower). */
  static SyncedMark open(Path dir, long epoch, long seq) throws IOException {
    Path file = dir.resolve(FILE);
    RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw");
    SyncedMark m = new SyncedMark(file, raf, epoch);
    try {
      m.write(seq);
    } catch (IOException e) {
      raf.close();
      throw e;
    }
    m.published = seq;
    return m;
  }

  /** Moves the mark forward to {@code seq} (never backwards); a failure only delays readers. */
  synchronized void publish(long seq) {
    if (seq > published) {
      try {
        write(seq);
        published = seq;
      } catch (IOException e) {
        log.error("cannot update {}: shippers wait until it works ({})", file, e.toString());
      }
    }
  }

  private void write(long seq) throws IOException {
    Format.putLong(buf, 0, seq);
    Format.putLong(buf, 8, seq ^ CHECK);
    Format.putLong(buf, 16, epoch);
    raf.seek(0);
    raf.write(buf);
  }

  @Override
  public synchronized void close() throws IOException {
    raf.close();
  }

  /** A reader's view of the mark. */
  static final class View implements Closeable {
    private final Path file;
    private final long epoch;
    private final byte[] buf = new byte[SIZE];
    private RandomAccessFile raf;

    View(Path dir, long epoch) {
      this.file = dir.resolve(FILE);
      this.epoch = epoch;
    }

    /**
     * The highest seq a reader may return; 0 while the file does not exist yet (the writer creates
     * it when it opens the journal) or belongs to another epoch.
     */
    long limit() throws IOException {
      if (raf == null) {
        try {
          raf = new RandomAccessFile(file.toFile(), "r");
        } catch (FileNotFoundException e) {
          return 0;
        }
      }
      for (int attempt = 0; attempt < 100; attempt++) {
        raf.seek(0);
        int n = 0;
        while (n < SIZE) {
          int r = raf.read(buf, n, SIZE - n);
          if (r < 0) {
            break;
          }
          n += r;
        }
        if (n == SIZE) {
          long seq = Format.getLong(buf, 0);
          if (Format.getLong(buf, 8) == (seq ^ CHECK)) {
            return Format.getLong(buf, 16) == epoch ? seq : 0;
          }
        }
        Thread.onSpinWait(); // raced with a rewrite (or the file is being created): again
      }
      return 0;
    }

    @Override
    public void close() throws IOException {
      if (raf != null) {
        raf.close();
        raf = null;
      }
    }
  }
}
