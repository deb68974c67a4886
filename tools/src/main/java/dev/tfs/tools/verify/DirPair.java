package dev.tfs.tools.verify;

import dev.tfs.posix.Posix;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The two open directory fds (source and mirror) of one directory being compared, shared by the
 * walker and the content comparisons queued for its files: the fds are closed when the last holder
 * releases them, so a queued comparison never reads through a closed (or reused) fd.
 */
final class DirPair {
  private static final byte[] NO_BUFFER = new byte[0];

  final int a;
  final int b;
  // "/proc/self/fd/N/" for each side: the xattr calls name entries through it (no *at variant).
  final byte[] procA;
  final byte[] procB;
  private final AtomicInteger refs = new AtomicInteger(1);

  /** Takes ownership of both fds; the creator holds the first reference. */
  DirPair(int a, int b) {
    this.a = a;
    this.b = b;
    this.procA = ("/proc/self/fd/" + a + "/").getBytes(StandardCharsets.US_ASCII);
    this.procB = ("/proc/self/fd/" + b + "/").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * True when entry {@code name} of side {@code fd} (empty: the directory itself) may have xattrs:
   * one llistxattr with no buffer, which returns the size of the name list. Most entries have none,
   * so their values are never read.
   */
  boolean mayHaveXattrs(boolean sourceSide, byte[] name) {
    byte[] prefix = sourceSide ? procA : procB;
    int plen = name.length == 0 ? prefix.length - 1 : prefix.length;
    byte[] path = Arrays.copyOf(prefix, plen + name.length + 1);
    System.arraycopy(name, 0, path, plen, name.length);
    long n =
        name.length == 0
            ? Posix.libc().listxattr(path, NO_BUFFER, 0)
            : Posix.libc().llistxattr(path, NO_BUFFER, 0);
    // An error (e.g. ENOTSUP) is left to the full listing, which reports or ignores it.
    return n != 0;
  }

  DirPair retain() {
    refs.incrementAndGet();
    return this;
  }

  void release() {
    if (refs.decrementAndGet() == 0) {
      Posix.closeQuietly(a);
      Posix.closeQuietly(b);
    }
  }
}
