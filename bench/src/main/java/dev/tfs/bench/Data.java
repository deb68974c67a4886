package dev.tfs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Deterministic, incompressible file content (xorshift), so that lz4 in the shipper or anything
 * else that compresses does not flatter a subject, and so runs are comparable.
 */
final class Data {
  private Data() {}

  /** Fills {@code buf} (from position to limit) from {@code seed}. */
  static void fill(ByteBuffer buf, long seed) {
    long x = seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    if (x == 0) {
      x = 1;
    }
    ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    while (b.remaining() >= 8) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b.putLong(x);
    }
    while (b.hasRemaining()) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b.put((byte) x);
    }
  }

  static byte[] bytes(int n, long seed) {
    byte[] a = new byte[n];
    fill(ByteBuffer.wrap(a), seed);
    return a;
  }

  /**
   * Writes a file of {@code size} bytes in {@code block}-sized writes with content from {@code
   * seed}, through a channel (one write call per block).
   */
  static void writeFile(Path f, long size, int block, long seed, ByteBuffer scratch)
      throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            f,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      long off = 0;
      long blockNo = 0;
      while (off < size) {
        int n = (int) Math.min(block, size - off);
        scratch.clear().limit(n);
        fill(scratch, seed * 1_000_003L + blockNo++);
        while (scratch.hasRemaining()) {
          ch.write(scratch);
        }
        off += n;
      }
    }
  }

  /** Creates {@code dir} and parents. */
  static void mkdirs(Path dir) throws IOException {
    Files.createDirectories(dir);
  }

  /**
   * Deletes trees at the end of a group rather than between repetitions: on ext4, inodes freed in
   * the last seconds (35 s while their table block is dirty) are skipped when new files are
   * created, and each skip costs a buffer lookup, so deleting 10,000 files made the next subject's
   * creates up to 15× slower (spreads of ±1400% in a trial run). Then syncs and waits out the
   * window, so the next group starts clean.
   */
  static void emptyTrash(java.util.List<Path> trash) {
    if (trash.isEmpty()) {
      return;
    }
    for (Path p : trash) {
      deleteTree(p);
    }
    trash.clear();
    Procs.sync();
    Procs.sleep(6000);
  }

  /** Deletes a tree if it exists (no symlinks followed). */
  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Procs.run(
        java.util.List.of("rm", "-rf", "--one-file-system", dir.toString()),
        java.time.Duration.ofMinutes(10));
  }
}
