package dev.tfs.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code acked} file: the highest seq Kafka has acknowledged (every lower seq too), for one
 * epoch. Text, three lines: {@code epoch=<epoch>}, {@code seq=<seq>}, {@code crc32c=<hex>} (CRC32C
 * of the first two lines). Replaced atomically (temp file, fsync, rename, directory fsync) and only
 * ever moved forward: writers serialize on {@code acked.lock} (a file lock between processes, a
 * monitor within one JVM, where file locks do not exclude each other) and re-read before writing.
 */
final class AckFile {
  private static final Logger log = LoggerFactory.getLogger(AckFile.class);
  private static final ConcurrentHashMap<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

  private AckFile() {}

  /**
   * The acknowledged seq recorded for {@code epoch}: 0 when the file is missing, belongs to another
   * epoch, or is damaged (logged; re-shipping from an older position is safe, the sink dedups by
   * seq).
   */
  static long read(Path dir, long epoch) throws IOException {
    Path file = dir.resolve(Format.ACKED);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return 0;
    }
    long[] parsed = parse(bytes);
    if (parsed == null) {
      log.warn("{} is damaged; treating the acknowledged seq as 0 (ops will be re-shipped)", file);
      return 0;
    }
    return parsed[0] == epoch ? parsed[1] : 0;
  }

  /** {epoch, seq}, or null when the bytes are not a valid acked file. */
  static long[] parse(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    int crcAt = text.indexOf("crc32c=");
    if (crcAt < 0) {
      return null;
    }
    byte[] head = text.substring(0, crcAt).getBytes(StandardCharsets.UTF_8);
    try {
      long stored = Long.parseLong(text.substring(crcAt + 7).strip(), 16);
      if (stored != (Format.crc(head, 0, head.length) & 0xffffffffL)) {
        return null;
      }
      long epoch = -1;
      long seq = -1;
      for (String line : text.substring(0, crcAt).split("\n", -1)) {
        if (line.startsWith("epoch=")) {
          epoch = Long.parseLong(line.substring(6));
        } else if (line.startsWith("seq=")) {
          seq = Long.parseLong(line.substring(4));
        }
      }
      return epoch < 0 || seq < 0 ? null : new long[] {epoch, seq};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static byte[] format(long epoch, long seq) {
    String head = "epoch=" + epoch + "\nseq=" + seq + "\n";
    byte[] h = head.getBytes(StandardCharsets.UTF_8);
    return (head + String.format("crc32c=%08x\n", Format.crc(h, 0, h.length)))
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Records {@code seq} as acknowledged for {@code epoch} unless a higher seq already is.
   *
   * @param checkEpoch called under the lock before writing, to refuse writing for a journal that
   *     was replaced meanwhile (may throw)
   * @return the acknowledged seq now recorded (at least {@code seq})
   */
  static long advance(Path dir, long epoch, long seq, Runnable checkEpoch) throws IOException {
    // File locks do not exclude each other within one JVM (they throw instead): one monitor per
    // real directory does that, whatever path spelling each caller uses.
    Path key;
    try {
      key = dir.toRealPath();
    } catch (IOException e) {
      key = dir.toAbsolutePath().normalize();
    }
    Object jvmLock = JVM_LOCKS.computeIfAbsent(key, k -> new Object());
    synchronized (jvmLock) {
      try (FileChannel ch =
          FileChannel.open(
              dir.resolve(Format.ACKED_LOCK),
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE)) {
        FileLock fileLock = ch.lock(); // between processes; the monitor covers this JVM
        try {
          checkEpoch.run();
          long current = read(dir, epoch);
          if (seq <= current) {
            return current;
          }
          Format.writeAtomically(dir.resolve(Format.ACKED), format(epoch, seq));
          return seq;
        } finally {
          fileLock.release();
        }
      }
    }
  }
}
