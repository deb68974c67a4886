package dev.tfs.posix;

import java.io.IOException;

/**
 * A failed system call: the call, the path it acted on (printable form) and errno. Messages read
 * like {@code renameat2(a/b -> c): No such file or directory (errno 2 ENOENT)}.
 */
public class PosixException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;
  private final String call;

  public PosixException(String call, String subject, int errno) {
    super(call + "(" + subject + "): " + Posix.describe(errno));
    this.errno = errno;
    this.call = call;
  }

  /** The errno value (Linux numbering, e.g. {@link Errno#ENOENT}). */
  public int errno() {
    return errno;
  }

  /** The name of the failed call. */
  public String call() {
    return call;
  }

  /** True when errno is {@code e}. */
  public boolean is(int e) {
    return errno == e;
  }
}
