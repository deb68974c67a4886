package dev.tfs.posix;

/** Linux errno values (identical on x86_64, aarch64 and riscv64). */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int ENXIO = 6;
  public static final int E2BIG = 7;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENODEV = 19;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENFILE = 23;
  public static final int EMFILE = 24;
  public static final int ETXTBSY = 26;
  public static final int EFBIG = 27;
  public static final int ENOSPC = 28;
  public static final int ESPIPE = 29;
  public static final int EROFS = 30;
  public static final int EMLINK = 31;
  public static final int ERANGE = 34;
  public static final int ENAMETOOLONG = 36;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ELOOP = 40;
  public static final int ENODATA = 61;
  public static final int EOVERFLOW = 75;
  public static final int EOPNOTSUPP = 95;
  public static final int ENOTSUP = EOPNOTSUPP;
  public static final int EDQUOT = 122;

  private Errno() {}

  /** The symbolic name of an errno value, e.g. {@code ENOENT}, or {@code E<n>}. */
  public static String name(int errno) {
    for (java.lang.reflect.Field f : Errno.class.getFields()) {
      try {
        if (f.getType() == int.class && f.getInt(null) == errno) {
          return f.getName();
        }
      } catch (IllegalAccessException e) {
        throw new AssertionError(e);
      }
    }
    return "E" + errno;
  }
}
