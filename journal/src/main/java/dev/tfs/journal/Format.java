package dev.tfs.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * The on-disk format, in one place. All integers are big-endian.
 *
 * <pre>
 * segment  = header entry*
 * header   = magic "TFSJ" (4) | format version (4) | epoch (8) | first seq (8)
 *          | next intent id (8) | partitions P (4) | last seq per partition (8 * P)
 *          | CRC32C of all preceding header bytes (4)
 * entry    = length L (4) | CRC32C of the L bytes that follow (4) | type (1) | payload (L - 1)
 * OP       = type 1 | seq (8) | partition (4) | resolved intent id or 0 (8) | key length K (4)
 *          | key (K) = op path | value = OpCodec.encode(op), the exact Kafka record value
 * INTENT   = type 2 | intent id (8) | IntentRecord.encode()
 * ABORT    = type 3 | intent id (8)
 * </pre>
 */
final class Format {
  static final int VERSION = 1;
  static final int MAGIC = 0x5446534A; // "TFSJ"

  static final byte OP = 1;
  static final byte INTENT = 2;
  static final byte ABORT = 3;

  /** Entry frame before the type byte: length and CRC. */
  static final int FRAME = 8;

  /** OP payload bytes after the type byte and before the key: seq, partition, intent, keyLen. */
  static final int OP_FIXED = 8 + 4 + 8 + 4;

  /** Hard upper bound on maxRecordBytes: 64 MiB, far beyond Kafka's message limits. */
  static final int MAX_RECORD_BYTES = 64 << 20;

  static final String META = "journal.meta";
  static final String EPOCHS_SEEN = "journal.epochs-seen";
  static final String ACKED = "acked";
  static final String ACKED_LOCK = "acked.lock";
  static final String LOCK = "lock";
  static final String SEGMENT_PREFIX = "seg-";
  static final String SEGMENT_SUFFIX = ".log";

  private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

  private Format() {}

  /** Largest entry body (type + payload) a journal with this record bound can hold. */
  static int maxBody(int maxRecordBytes) {
    // OP: 1 + OP_FIXED + path (< 4096) + value; intents are far smaller than 32 KiB.
    return maxRecordBytes + 32 * 1024;
  }

  static int headerBytes(int partitions) {
    return 4 + 4 + 8 + 8 + 8 + 4 + 8 * partitions + 4;
  }

  static String segmentName(long firstSeq) {
    return String.format("%s%020d%s", SEGMENT_PREFIX, firstSeq, SEGMENT_SUFFIX);
  }

  /** The first seq a segment file name encodes, or -1 when it is not a segment name. */
  static long segmentFirstSeq(String name) {
    if (!name.startsWith(SEGMENT_PREFIX)
        || !name.endsWith(SEGMENT_SUFFIX)
        || name.length() != SEGMENT_PREFIX.length() + 20 + SEGMENT_SUFFIX.length()) {
      return -1;
    }
    String digits = name.substring(SEGMENT_PREFIX.length(), SEGMENT_PREFIX.length() + 20);
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return -1;
      }
    }
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Segment files in {@code dir}, oldest (lowest first seq) first. */
  static List<Path> listSegments(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, SEGMENT_PREFIX + "*")) {
      for (Path p : ds) {
        if (segmentFirstSeq(p.getFileName().toString()) >= 0) {
          out.add(p);
        }
      }
    }
    // Zero-padded names sort numerically.
    Collections.sort(
        out, (a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    return out;
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = CRC.get();
    c.reset();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static void putLong(byte[] b, int off, long v) {
    putInt(b, off, (int) (v >>> 32));
    putInt(b, off + 4, (int) v);
  }

  static int getInt(byte[] b, int off) {
    return (b[off] & 0xff) << 24
        | (b[off + 1] & 0xff) << 16
        | (b[off + 2] & 0xff) << 8
        | (b[off + 3] & 0xff);
  }

  static long getLong(byte[] b, int off) {
    return ((long) getInt(b, off) << 32) | (getInt(b, off + 4) & 0xffffffffL);
  }

  /** Bytes of the Avro zig-zag varint encoding of {@code v}. */
  static int varLongSize(long v) {
    long z = (v << 1) ^ (v >> 63);
    int n = 1;
    while ((z & ~0x7FL) != 0) {
      z >>>= 7;
      n++;
    }
    return n;
  }

  /** Writes the Avro zig-zag varint of {@code v} at {@code off}; returns the bytes written. */
  static int putVarLong(byte[] b, int off, long v) {
    long z = (v << 1) ^ (v >> 63);
    int i = off;
    while ((z & ~0x7FL) != 0) {
      b[i++] = (byte) ((z & 0x7F) | 0x80);
      z >>>= 7;
    }
    b[i++] = (byte) z;
    return i - off;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /**
   * Replaces {@code target} with {@code content} atomically: temp file in the same directory,
   * fsync, rename, fsync of the directory. Readers see the old or the new file, never a mix.
   */
  static void writeAtomically(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp =
        dir.resolve(
            target.getFileName()
                + ".tmp-"
                + ProcessHandle.current().pid()
                + "-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("the journal's file system cannot rename atomically: " + dir, e);
      }
      fsyncDir(dir);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** fsync a directory so a rename or create in it survives power loss (best effort elsewhere). */
  static void fsyncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (FileSystemException e) {
      // Some file systems refuse to open or sync directories; nothing more can be done there.
    }
  }

  /** True when the exception (or a cause) is ENOSPC. */
  static boolean isDiskFull(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && (m.contains("No space left on device") || m.contains("Disk quota"))) {
        return true;
      }
    }
    return false;
  }
}
