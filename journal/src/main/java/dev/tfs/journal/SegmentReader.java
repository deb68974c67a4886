package dev.tfs.journal;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads one segment file entry by entry, through a private buffer, without locks: the writer may be
 * appending at the same time. Used by writer recovery, {@link JournalReader} and {@link
 * JournalDump}.
 *
 * <p>{@link #read} classifies what is at a position: a complete entry with a valid checksum ({@link
 * Status#ENTRY}), the clean end of the file ({@link Status#END}), the start of an entry that is not
 * all there ({@link Status#SHORT}: being written, or torn by a crash), or bytes that are not a
 * valid entry ({@link Status#BAD}: torn, or damaged). Telling torn from damaged is the caller's job
 * ({@link #validEntryAfter}).
 *
 * <p>A {@link RandomAccessFile} rather than a FileChannel: an interrupted thread closes a
 * FileChannel it is using, which would break every later read for a caller (a Connect task) whose
 * thread was merely interrupted.
 */
final class SegmentReader implements Closeable {
  enum Status {
    ENTRY,
    END,
    SHORT,
    BAD
  }

  final Path path;
  final String name;
  final SegmentHeader header;
  private final RandomAccessFile raf;
  private final int maxBody;
  private final int partitions;

  private byte[] buf = new byte[64 * 1024];
  private boolean scanning;
  private long bufStart;
  private int bufLen;

  // The last read(): where, what, and the parsed fields (valid when status == ENTRY).
  Status status;
  long position;
  long next;
  byte type;
  String problem;
  long seq;
  int partition;
  long intentId;
  int entryBytes;

  /** Length field of the entry at {@link #position}, -1 when it was not readable. */
  int claimedLength;

  private int bodyOff;
  private int keyOff;
  private int keyLen;
  private int valueOff;
  private int valueLen;

  private SegmentReader(
      Path path, RandomAccessFile raf, SegmentHeader header, int partitions, int maxBody) {
    this.path = path;
    this.name = path.getFileName().toString();
    this.raf = raf;
    this.header = header;
    this.partitions = partitions;
    this.maxBody = maxBody;
  }

  /**
   * Opens a segment and validates its header.
   *
   * @throws NoSuchFileException when the file does not exist (deleted after acknowledgement)
   * @throws JournalCorruptException when the header is invalid
   */
  static SegmentReader open(Path path, int partitions, int maxBody) throws IOException {
    RandomAccessFile raf;
    try {
      raf = new RandomAccessFile(path.toFile(), "r");
    } catch (java.io.FileNotFoundException e) {
      throw new NoSuchFileException(path.toString(), null, e.getMessage());
    }
    try {
      int size = Format.headerBytes(partitions);
      byte[] h = new byte[size];
      int n = 0;
      while (n < size) {
        int r = raf.read(h, n, size - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
      SegmentHeader[] out = new SegmentHeader[1];
      String problem = SegmentHeader.decode(h, n, partitions, out);
      if (problem != null) {
        throw new JournalCorruptException(
            "segment " + path + " has an invalid header: " + problem, path.getFileName() + "", 0);
      }
      long named = Format.segmentFirstSeq(path.getFileName().toString());
      if (named >= 0 && named != out[0].firstSeq) {
        throw new JournalCorruptException(
            "segment "
                + path
                + " header says first seq "
                + out[0].firstSeq
                + " but its name says "
                + named,
            path.getFileName() + "",
            0);
      }
      SegmentReader r = new SegmentReader(path, raf, out[0], partitions, maxBody);
      raf = null;
      return r;
    } finally {
      if (raf != null) {
        raf.close();
      }
    }
  }

  int headerBytes() {
    return header.size();
  }

  long length() throws IOException {
    return raf.length();
  }

  /** Forgets buffered bytes, so the next read sees the file as it is now. */
  void invalidate() {
    bufLen = 0;
  }

  /** Classifies what is at {@code pos}; fills the fields above. */
  Status read(long pos) throws IOException {
    position = pos;
    problem = null;
    next = pos;
    claimedLength = -1;
    int avail = fill(pos, Format.FRAME);
    if (avail == 0) {
      status = Status.END;
      return status;
    }
    if (avail < Format.FRAME) {
      problem = "only " + avail + " bytes of an entry's 8-byte frame";
      return fail(Status.SHORT);
    }
    int o = (int) (pos - bufStart);
    int len = Format.getInt(buf, o);
    int crc = Format.getInt(buf, o + 4);
    claimedLength = len;
    if (len < 1 || len > maxBody) {
      problem = "entry length " + len + " is not in [1, " + maxBody + "]";
      return fail(Status.BAD);
    }
    avail = fill(pos, Format.FRAME + len);
    if (avail < Format.FRAME + len) {
      problem = "entry of " + (Format.FRAME + len) + " bytes, only " + avail + " present";
      return fail(Status.SHORT);
    }
    o = (int) (pos - bufStart);
    int actual = Format.crc(buf, o + Format.FRAME, len);
    if (actual != crc) {
      problem = String.format("entry CRC mismatch (stored %08x, computed %08x)", crc, actual);
      return fail(Status.BAD);
    }
    bodyOff = o + Format.FRAME;
    type = buf[bodyOff];
    entryBytes = Format.FRAME + len;
    seq = 0;
    partition = -1;
    intentId = 0;
    switch (type) {
      case Format.OP:
        {
          if (len < 1 + Format.OP_FIXED + 1) {
            problem = "OP entry of " + len + " bytes is too short";
            return fail(Status.BAD);
          }
          seq = Format.getLong(buf, bodyOff + 1);
          partition = Format.getInt(buf, bodyOff + 9);
          intentId = Format.getLong(buf, bodyOff + 13);
          keyLen = Format.getInt(buf, bodyOff + 21);
          keyOff = bodyOff + 1 + Format.OP_FIXED;
          valueOff = keyOff + keyLen;
          valueLen = len - 1 - Format.OP_FIXED - keyLen;
          if (keyLen < 0 || valueLen < 1 || seq < 1 || partition < 0 || partition >= partitions) {
            problem = "OP entry fields out of range (seq " + seq + ", partition " + partition + ")";
            return fail(Status.BAD);
          }
          break;
        }
      case Format.INTENT:
        if (len < 1 + 8 + 1) {
          problem = "INTENT entry of " + len + " bytes is too short";
          return fail(Status.BAD);
        }
        intentId = Format.getLong(buf, bodyOff + 1);
        break;
      case Format.ABORT:
        if (len != 1 + 8) {
          problem = "ABORT entry of " + len + " bytes, expected 9";
          return fail(Status.BAD);
        }
        intentId = Format.getLong(buf, bodyOff + 1);
        break;
      default:
        problem = "unknown entry type " + type;
        return fail(Status.BAD);
    }
    next = pos + entryBytes;
    status = Status.ENTRY;
    return status;
  }

  private Status fail(Status s) {
    if (!scanning) {
      // What was not a valid entry may be rewritten (a torn tail cut and appended anew): re-read.
      invalidate();
    }
    status = s;
    return status;
  }

  /** Key bytes of the OP entry just read. */
  byte[] key() {
    return java.util.Arrays.copyOfRange(buf, keyOff, keyOff + keyLen);
  }

  /** Value bytes of the OP entry just read. */
  byte[] value() {
    return java.util.Arrays.copyOfRange(buf, valueOff, valueOff + valueLen);
  }

  /** Intent descriptor of the INTENT entry just read. */
  IntentRecord intent() {
    return IntentRecord.decode(buf, bodyOff + 9, entryBytes - Format.FRAME - 9);
  }

  /**
   * The position of the first complete, checksum-valid entry after the damaged one at {@code bad},
   * or -1 when there is none: tells a torn tail (nothing valid follows) from damage in the middle.
   * Tries the position the damaged entry's length field points to first, then every byte. Changes
   * the fields of the last read.
   */
  long validEntryAfter(long bad) throws IOException {
    long end = raf.length();
    scanning = true;
    try {
      read(bad);
      long hint = claimedLength > 0 ? bad + Format.FRAME + claimedLength : -1;
      if (hint > bad && hint < end && read(hint) == Status.ENTRY) {
        return hint;
      }
      for (long p = bad + 1; p + Format.FRAME < end; p++) {
        if (read(p) == Status.ENTRY) {
          return p;
        }
      }
      return -1;
    } finally {
      scanning = false;
      invalidate();
    }
  }

  /** Bytes available from {@code pos} in the buffer after making sure {@code n} are, if present. */
  private int fill(long pos, int n) throws IOException {
    if (pos >= bufStart && pos + n <= bufStart + bufLen) {
      return (int) (bufStart + bufLen - pos);
    }
    if (buf.length < n) {
      buf = new byte[Math.max(n, Math.min(buf.length * 2, maxBody + Format.FRAME))];
    }
    raf.seek(pos);
    int got = 0;
    while (got < buf.length) {
      int r = raf.read(buf, got, buf.length - got);
      if (r < 0) {
        break;
      }
      got += r;
    }
    bufStart = pos;
    bufLen = got;
    return got;
  }

  @Override
  public void close() throws IOException {
    raf.close();
  }
}
