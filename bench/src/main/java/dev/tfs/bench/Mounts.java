package dev.tfs.bench;

import dev.tfs.capture.fs.FuseMount;
import java.nio.file.Path;
import java.time.Duration;

/** Mount checks and unmounting. */
final class Mounts {
  private Mounts() {}

  static boolean isMounted(Path dir) {
    return FuseMount.isMounted(dir);
  }

  /** fusermount -u, lazily (-z) when the mount stays busy. */
  static void unmount(Path dir) {
    if (!FuseMount.unmount(dir, false, Duration.ofSeconds(10))) {
      FuseMount.unmount(dir, true, Duration.ofSeconds(10));
    }
  }

  /** Waits for a FUSE mount at {@code dir} while {@code p} runs. */
  static void awaitMounted(Path dir, Procs.Proc p, Duration timeout) {
    Procs.await(
        p.name + " to mount " + dir,
        timeout,
        () -> {
          if (!p.alive()) {
            throw new BenchException(
                p.name + " exited before mounting " + dir + ":\n" + p.tail(15));
          }
          return isMounted(dir);
        });
  }

  /** Waits for the mount at {@code dir} to disappear. */
  static void awaitUnmounted(Path dir, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isMounted(dir) && System.nanoTime() < deadline) {
      Procs.sleep(20);
    }
    if (isMounted(dir)) {
      unmount(dir);
    }
  }
}
