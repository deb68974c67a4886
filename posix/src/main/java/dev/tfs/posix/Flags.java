package dev.tfs.posix;

import java.util.Locale;

/**
 * Linux flag values. Most are the same on every architecture; the few open flags that differ
 * (O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE on arm64) are chosen for the running JVM's
 * architecture, and an unsupported architecture fails at class load with a clear message.
 */
public final class Flags {
  private static final boolean ARM = armLayout();

  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 01;
  public static final int O_RDWR = 02;
  public static final int O_ACCMODE = 03;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_NOCTTY = 0400;
  public static final int O_TRUNC = 01000;
  public static final int O_APPEND = 02000;
  public static final int O_NONBLOCK = 04000;
  public static final int O_DSYNC = 010000;
  public static final int O_SYNC = 04010000;
  public static final int O_CLOEXEC = 02000000;
  public static final int O_PATH = 010000000;
  public static final int O_NOATIME = 01000000;
  public static final int O_DIRECTORY = ARM ? 040000 : 0200000;
  public static final int O_NOFOLLOW = ARM ? 0100000 : 0400000;
  public static final int O_DIRECT = ARM ? 0200000 : 040000;
  public static final int O_LARGEFILE = ARM ? 0400000 : 0100000;

  public static final int AT_FDCWD = -100;
  public static final int AT_SYMLINK_NOFOLLOW = 0x100;
  public static final int AT_REMOVEDIR = 0x200;
  public static final int AT_SYMLINK_FOLLOW = 0x400;
  public static final int AT_EMPTY_PATH = 0x1000;

  public static final int RENAME_NOREPLACE = 1;
  public static final int RENAME_EXCHANGE = 2;

  public static final int XATTR_CREATE = 1;
  public static final int XATTR_REPLACE = 2;

  public static final long UTIME_NOW = (1L << 30) - 1;
  public static final long UTIME_OMIT = (1L << 30) - 2;

  public static final int FALLOC_FL_KEEP_SIZE = 0x01;
  public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  public static final int FALLOC_FL_ZERO_RANGE = 0x10;

  public static final int SEEK_SET = 0;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;

  public static final int F_OK = 0;
  public static final int X_OK = 1;
  public static final int W_OK = 2;
  public static final int R_OK = 4;
  public static final int AT_EACCESS = 0x200;

  /** openat2(2) resolve flags. */
  public static final long RESOLVE_NO_XDEV = 0x01;

  public static final long RESOLVE_NO_MAGICLINKS = 0x02;
  public static final long RESOLVE_NO_SYMLINKS = 0x04;
  public static final long RESOLVE_BENEATH = 0x08;

  /** File type bits of st_mode. */
  public static final int S_IFMT = 0170000;

  public static final int S_IFSOCK = 0140000;
  public static final int S_IFLNK = 0120000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFBLK = 0060000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFIFO = 0010000;

  private Flags() {}

  private static boolean armLayout() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86_64", "riscv64" -> false;
      case "aarch64", "arm64" -> true;
      default ->
          throw new ExceptionInInitializerError(
              "tfs-posix supports Linux on x86_64, aarch64 and riscv64; this JVM reports os.arch="
                  + arch);
    };
  }
}
