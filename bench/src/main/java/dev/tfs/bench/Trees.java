package dev.tfs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Deterministic test trees, markers, and waiting for a mirror to show a file. */
final class Trees {
  static final int MARKER_BYTES = 64;

  private Trees() {}

  /** A tree: file sizes and directory fan-out; file i is {@code d<i % dirs>/f<i>}. */
  // A workload description, never compared or hashed: the array is fine.
  @SuppressWarnings("ArrayRecordComponent")
  record Spec(long[] sizes, int dirs, int block) {
    int files() {
      return sizes.length;
    }

    long bytes() {
      return Arrays.stream(sizes).sum();
    }

    Path file(Path root, int i) {
      return root.resolve(String.format("d%03d/f%06d", i % dirs, i));
    }
  }

  /** {@code n} files of {@code size} bytes each. */
  static Spec uniform(int n, long size, int dirs, int block) {
    long[] s = new long[n];
    Arrays.fill(s, size);
    return new Spec(s, dirs, block);
  }

  /**
   * {@code n} files totalling exactly {@code total} bytes, sizes spread uniformly between about a
   * tenth of the mean and 1.9 × the mean.
   */
  static Spec mixed(int n, long total, int dirs, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] w = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      w[i] = 0.1 + 1.8 * r.nextDouble();
      sum += w[i];
    }
    long[] s = new long[n];
    long assigned = 0;
    for (int i = 0; i < n; i++) {
      s[i] = Math.max(1, (long) (w[i] / sum * total));
      assigned += s[i];
    }
    // Rounding leftovers go to the files in turn, so the total is exact.
    long diff = total - assigned;
    for (int i = 0; diff != 0; i = (i + 1) % n) {
      long step = diff > 0 ? 1 : (s[i] > 1 ? -1 : 0);
      long chunk = Math.max(1, Math.abs(diff) / n);
      s[i] += step * chunk;
      diff -= step * chunk;
    }
    return new Spec(s, dirs, 1 << 20);
  }

  /** Writes the tree under {@code root} (directories first); content seeded by file index. */
  static void write(Spec spec, Path root, long seed) throws IOException {
    for (int d = 0; d < Math.min(spec.dirs(), spec.files()); d++) {
      Files.createDirectories(root.resolve(String.format("d%03d", d)));
    }
    ByteBuffer scratch = ByteBuffer.allocateDirect(spec.block());
    for (int i = 0; i < spec.files(); i++) {
      Data.writeFile(spec.file(root, i), spec.sizes()[i], spec.block(), seed + i, scratch);
    }
  }

  /** Writes marker file {@code name} (the last op of a sequence). */
  static void marker(Path dir, String name) throws IOException {
    Files.write(dir.resolve(name), Data.bytes(MARKER_BYTES, name.hashCode()));
  }

  static boolean hasSize(Path p, long size) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size()
          == size;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Waits until {@code p} exists with {@code size} bytes, polling every millisecond; checks the
   * mirror connector (if given) for failure now and then. Returns System.nanoTime() when seen.
   */
  static long awaitFile(Env env, Path p, long size, Duration timeout, String connector) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long nextCheck = System.nanoTime() + 2_000_000_000L;
    while (true) {
      if (hasSize(p, size)) {
        return System.nanoTime();
      }
      long now = System.nanoTime();
      if (now > deadline) {
        throw new BenchException("timed out after " + timeout.toSeconds() + " s waiting for " + p);
      }
      if (connector != null && now > nextCheck) {
        env.stack.checkNotFailed(connector);
        nextCheck = now + 2_000_000_000L;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }

  /** Waits until {@code dir} has any entry; returns System.nanoTime() when seen. */
  static long awaitNonEmpty(Path dir, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (var s = Files.list(dir)) {
        if (s.findAny().isPresent()) {
          return System.nanoTime();
        }
      } catch (IOException e) {
        // not yet created
      }
      if (System.nanoTime() > deadline) {
        throw new BenchException("timed out waiting for anything in " + dir);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
  }
}
