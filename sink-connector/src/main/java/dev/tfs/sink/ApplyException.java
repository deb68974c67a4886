package dev.tfs.sink;

/**
 * An op that could not be applied to the mirror. The {@link Kind} tells the task what to do: every
 * kind stops the task (the failed op is not recorded as applied, so a restart after the cause is
 * fixed re-applies it), but the messages differ so an operator knows whether to free space, fix
 * permissions, or rebuild the mirror.
 */
public final class ApplyException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why the op failed. */
  public enum Kind {
    /** The op would act outside the mirror root or through a symlink, or is malformed (G5). */
    REFUSED,
    /** The mirror does not match what the op expects: it diverged from the source. */
    DIVERGED,
    /** The mirror's file system is full or a quota is exceeded (ENOSPC, EDQUOT). */
    NO_SPACE,
    /**
     * An xattr value is larger than the mirror's file system allows for one value (ENOSPC or E2BIG
     * from setxattr while the disk has room; ext4 holds one block without {@code ea_inode}, the
     * Linux VFS at most 65,536 bytes).
     */
    XATTR_TOO_LARGE,
    /** A write, truncate or fallocate beyond the mirror file system's maximum file size (EFBIG). */
    FILE_TOO_LARGE,
    /** The worker may not do what the op needs (EPERM, EACCES, EROFS). */
    PERMISSION,
    /** Any other I/O failure. */
    IO
  }

  private final Kind kind;
  private final long seq;

  public ApplyException(Kind kind, long seq, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.seq = seq;
  }

  /** Why the op failed. */
  public Kind kind() {
    return kind;
  }

  /** seq of the op that failed. */
  public long seq() {
    return seq;
  }
}
