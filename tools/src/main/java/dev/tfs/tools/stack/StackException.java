package dev.tfs.tools.stack;

/**
 * A problem the user can fix, with a message that says what is wrong and what to do. The launcher
 * prints the message alone (no stack trace) and exits with {@link #exitCode()}.
 */
public class StackException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Not root, no /dev/fuse, no libfuse, a port in use, a stale mount. */
  public static final int ENVIRONMENT = 3;

  /** The build is missing or broken. */
  public static final int BUILD = 4;

  /** A component did not start or become ready in time. */
  public static final int STARTUP = 5;

  private final int exitCode;

  public StackException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public StackException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
