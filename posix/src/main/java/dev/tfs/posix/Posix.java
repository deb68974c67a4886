package dev.tfs.posix;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * Byte-exact POSIX file calls for Linux, relative to directory file descriptors.
 *
 * <p>Why not {@code java.nio.file}: Java decodes file names with the platform charset, so a name
 * that is not valid in it cannot be created or even listed faithfully; it cannot make FIFOs, set
 * xattrs on symlinks or outside the {@code user.} namespace, punch holes, or resolve a path with
 * the guarantee that no symlink is followed. tfs needs all of that on both ends of a mirror.
 *
 * <p>Every method takes names as raw bytes, acts relative to a directory fd (or {@link
 * Flags#AT_FDCWD}), and throws {@link PosixException} (an {@link java.io.IOException}) naming the
 * call, the path and errno. {@link #openBeneath} resolves a multi-segment path beneath a root
 * without following any symlink (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a
 * component-by-component O_NOFOLLOW walk on kernels older than 5.6): the basis of the sink's
 * confinement guarantee.
 *
 * <p>Thread-safe; each thread has its own small native scratch buffers.
 */
public final class Posix {
  /** Sentinel time meaning "leave this time unchanged" (UTIME_OMIT). */
  public static final long OMIT = Long.MIN_VALUE;

  /** Sentinel time meaning "set this time to now" (UTIME_NOW). */
  public static final long NOW = Long.MIN_VALUE + 1;

  /** Linux PATH_MAX. */
  public static final int PATH_MAX = 4096;

  private static final long SYS_OPENAT2 = 437;
  private static final int STATX_BASIC_STATS = 0x7ff;
  private static final byte[] EMPTY = {0};
  private static final byte[] DOT = {'.', 0};

  private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
  private static final ThreadLocal<Pointer> STATX_BUF =
      ThreadLocal.withInitial(() -> Memory.allocateDirect(RUNTIME, 256, true));
  private static volatile boolean openat2Missing;

  private Posix() {}

  /** The raw bindings, for hot paths that want return codes instead of exceptions. */
  public static LibC libc() {
    return LIBC;
  }

  /** The jnr runtime the bindings use (to allocate native memory). */
  public static Runtime runtime() {
    return RUNTIME;
  }

  /** errno of the last failed call on this thread. */
  public static int errno() {
    return RUNTIME.getLastError();
  }

  /** e.g. {@code No such file or directory (errno 2 ENOENT)}. */
  public static String describe(int errno) {
    String text;
    try {
      text = LIBC.strerror(errno);
    } catch (RuntimeException e) {
      text = "error";
    }
    return text + " (errno " + errno + " " + Errno.name(errno) + ")";
  }

  /**
   * The name as a NUL-terminated C string.
   *
   * @throws IllegalArgumentException when the name contains a NUL byte (it would be truncated)
   */
  public static byte[] cstr(byte[] name) {
    byte[] out = new byte[name.length + 1];
    for (int i = 0; i < name.length; i++) {
      if (name[i] == 0) {
        throw new IllegalArgumentException("name contains a NUL byte at offset " + i);
      }
      out[i] = name[i];
    }
    return out;
  }

  /** Printable form of a name for messages: UTF-8 where valid, {@code \xNN} elsewhere. */
  public static String show(byte[] name) {
    StringBuilder sb = new StringBuilder();
    String decoded = new String(name, StandardCharsets.UTF_8);
    if (java.util.Arrays.equals(decoded.getBytes(StandardCharsets.UTF_8), name)) {
      for (int i = 0; i < decoded.length(); i++) {
        char c = decoded.charAt(i);
        if (c < 0x20 || c == 0x7f) {
          sb.append(String.format("\\x%02x", (int) c));
        } else {
          sb.append(c);
        }
      }
      return sb.toString();
    }
    for (byte b : name) {
      int v = b & 0xff;
      if (v < 0x20 || v >= 0x7f || v == '\\') {
        sb.append(String.format("\\x%02x", v));
      } else {
        sb.append((char) v);
      }
    }
    return sb.toString();
  }

  private static PosixException fail(String call, byte[] name) {
    return new PosixException(call, name == null ? "" : show(name), errno());
  }

  private static PosixException fail(String call, String subject) {
    return new PosixException(call, subject, errno());
  }

  // ---------------------------------------------------------------- open, close, resolve

  /** openat(2). Returns the new fd. */
  public static int openat(int dirfd, byte[] name, int flags, int mode) throws PosixException {
    int fd = LIBC.openat(dirfd, cstr(name), flags | Flags.O_CLOEXEC, mode);
    if (fd < 0) {
      throw fail("openat", name);
    }
    return fd;
  }

  /** Opens a directory by its Java path (for roots given on a command line or in a config). */
  public static int openDirectory(java.nio.file.Path dir) throws PosixException {
    byte[] name = dir.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8);
    return openat(Flags.AT_FDCWD, name, Flags.O_PATH | Flags.O_DIRECTORY, 0);
  }

  /**
   * Opens {@code path} (a relative, '/'-separated path; empty means {@code rootfd} itself) beneath
   * {@code rootfd} with no symlink followed in any component, the last included, and no {@code ..}
   * escape. A symlink anywhere on the way fails with ELOOP, a non-directory in the middle with
   * ENOTDIR.
   */
  public static int openBeneath(int rootfd, byte[] path, int flags, int mode)
      throws PosixException {
    byte[] p = path.length == 0 ? DOT : cstr(path);
    flags |= Flags.O_CLOEXEC | Flags.O_NOFOLLOW;
    if (!openat2Missing) {
      long[] how = {
        flags & 0xffffffffL,
        (flags & Flags.O_CREAT) != 0 ? mode : 0,
        Flags.RESOLVE_BENEATH | Flags.RESOLVE_NO_SYMLINKS | Flags.RESOLVE_NO_MAGICLINKS
      };
      long fd = LIBC.syscall(SYS_OPENAT2, rootfd, p, how, 24);
      if (fd >= 0) {
        return (int) fd;
      }
      int err = errno();
      if (err != Errno.ENOSYS) {
        throw new PosixException("openat2", show(path), err);
      }
      openat2Missing = true;
    }
    return walkBeneath(rootfd, path, flags, mode);
  }

  /** Tests only: use (or stop using) the pre-openat2 walk, as on kernels older than 5.6. */
  static void forceWalkFallback(boolean walk) {
    openat2Missing = walk;
  }

  /** The fallback for kernels without openat2: one O_NOFOLLOW openat per component. */
  private static int walkBeneath(int rootfd, byte[] path, int flags, int mode)
      throws PosixException {
    if (path.length == 0) {
      return openat(rootfd, new byte[] {'.'}, flags, mode);
    }
    int dir = openat(rootfd, new byte[] {'.'}, Flags.O_PATH | Flags.O_DIRECTORY, 0);
    try {
      int start = 0;
      for (int i = 0; i <= path.length; i++) {
        if (i < path.length && path[i] != '/') {
          continue;
        }
        byte[] seg = java.util.Arrays.copyOfRange(path, start, i);
        if (seg.length == 0
            || (seg.length == 1 && seg[0] == '.')
            || (seg.length == 2 && seg[0] == '.' && seg[1] == '.')) {
          throw new PosixException("openat2", show(path), Errno.EXDEV);
        }
        boolean last = i == path.length;
        int next;
        try {
          next =
              last
                  ? openat(dir, seg, flags | Flags.O_NOFOLLOW, mode)
                  : openat(dir, seg, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
        } catch (PosixException e) {
          // O_DIRECTORY reports a symlink as ENOTDIR; report it as openat2 would (ELOOP).
          Stat s = e.is(Errno.ENOTDIR) ? statOrNull(dir, seg, false) : null;
          if (s != null && s.isSymlink()) {
            throw new PosixException("openat", show(path), Errno.ELOOP);
          }
          throw e;
        }
        closeQuietly(dir);
        dir = next;
        start = i + 1;
      }
      return dir;
    } catch (PosixException e) {
      closeQuietly(dir);
      throw e;
    }
  }

  /** close(2); EINTR is not retried (Linux closes the fd regardless). */
  public static void close(int fd) throws PosixException {
    if (LIBC.close(fd) != 0 && errno() != Errno.EINTR) {
      throw fail("close", "fd " + fd);
    }
  }

  /** close(2), ignoring errors: for cleanup paths. */
  public static void closeQuietly(int fd) {
    if (fd >= 0) {
      LIBC.close(fd);
    }
  }

  // ---------------------------------------------------------------- attributes

  /**
   * statx(2) of {@code name} relative to {@code dirfd}; an empty name means {@code dirfd} itself.
   * Never follows a final symlink unless {@code follow}.
   */
  public static Stat stat(int dirfd, byte[] name, boolean follow) throws PosixException {
    Stat s = statOrNull(dirfd, name, follow);
    if (s == null) {
      throw new PosixException("statx", show(name), Errno.ENOENT);
    }
    return s;
  }

  /** Like {@link #stat} but null when the name does not exist (ENOENT). */
  public static Stat statOrNull(int dirfd, byte[] name, boolean follow) throws PosixException {
    Pointer buf = STATX_BUF.get();
    int flags = follow ? 0 : Flags.AT_SYMLINK_NOFOLLOW;
    byte[] p = name.length == 0 ? EMPTY : cstr(name);
    if (name.length == 0) {
      flags |= Flags.AT_EMPTY_PATH;
    }
    if (LIBC.statx(dirfd, p, flags, STATX_BASIC_STATS, buf) != 0) {
      if (errno() == Errno.ENOENT) {
        return null;
      }
      throw fail("statx", name);
    }
    return readStatx(buf);
  }

  /** Raw statx into a caller buffer of at least 256 bytes; returns 0 or -errno. For hot paths. */
  public static int statxRaw(int dirfd, byte[] cName, boolean follow, Pointer buf) {
    int flags = follow ? 0 : Flags.AT_SYMLINK_NOFOLLOW;
    if (cName.length == 1) {
      flags |= Flags.AT_EMPTY_PATH;
    }
    return LIBC.statx(dirfd, cName, flags, STATX_BASIC_STATS, buf) == 0 ? 0 : -errno();
  }

  /** Decodes a struct statx. */
  public static Stat readStatx(Pointer b) {
    int blksize = b.getInt(4);
    long nlink = b.getInt(16) & 0xffffffffL;
    int uid = b.getInt(20);
    int gid = b.getInt(24);
    int mode = b.getShort(28) & 0xffff;
    long ino = b.getLong(32);
    long size = b.getLong(40);
    long blocks = b.getLong(48);
    long atime = b.getLong(64) * 1_000_000_000L + (b.getInt(72) & 0xffffffffL);
    long ctime = b.getLong(96) * 1_000_000_000L + (b.getInt(104) & 0xffffffffL);
    long mtime = b.getLong(112) * 1_000_000_000L + (b.getInt(120) & 0xffffffffL);
    long rdev = makedev(b.getInt(128), b.getInt(132));
    long dev = makedev(b.getInt(136), b.getInt(140));
    return new Stat(
        mode, ino, dev, nlink, uid, gid, rdev, size, blocks, blksize, atime, mtime, ctime);
  }

  /** glibc's makedev encoding of (major, minor). */
  public static long makedev(int major, int minor) {
    long ma = major & 0xffffffffL;
    long mi = minor & 0xffffffffL;
    return ((ma & 0xfffff000L) << 32)
        | ((ma & 0xfffL) << 8)
        | ((mi & 0xffffff00L) << 12)
        | (mi & 0xffL);
  }

  /** fchmodat(2) without following a final symlink (Linux has no modes on symlinks). */
  public static void chmod(int dirfd, byte[] name, int mode) throws PosixException {
    if (name.length == 0) {
      // chmod of the directory fd itself: through /proc, which follows to the directory.
      if (LIBC.fchmodat(Flags.AT_FDCWD, cstr(procPath(dirfd, name)), mode, 0) != 0) {
        throw fail("fchmodat", "fd " + dirfd);
      }
      return;
    }
    if (LIBC.fchmodat(dirfd, cstr(name), mode, Flags.AT_SYMLINK_NOFOLLOW) != 0) {
      throw fail("fchmodat", name);
    }
  }

  /** fchmod(2). */
  public static void fchmod(int fd, int mode) throws PosixException {
    if (LIBC.fchmod(fd, mode) != 0) {
      throw fail("fchmod", "fd " + fd);
    }
  }

  /** fchownat(2) without following a final symlink; -1 leaves an id unchanged. */
  public static void chown(int dirfd, byte[] name, int uid, int gid) throws PosixException {
    int flags = Flags.AT_SYMLINK_NOFOLLOW | (name.length == 0 ? Flags.AT_EMPTY_PATH : 0);
    if (LIBC.fchownat(dirfd, name.length == 0 ? EMPTY : cstr(name), uid, gid, flags) != 0) {
      throw fail("fchownat", name);
    }
  }

  /**
   * utimensat(2) without following a final symlink. Times in ns since the Unix epoch, or {@link
   * #OMIT} / {@link #NOW}.
   */
  public static void utimens(int dirfd, byte[] name, long atimeNs, long mtimeNs)
      throws PosixException {
    long[] ts = timespecs(atimeNs, mtimeNs);
    int flags = Flags.AT_SYMLINK_NOFOLLOW | (name.length == 0 ? Flags.AT_EMPTY_PATH : 0);
    if (name.length == 0) {
      // utimensat has no AT_EMPTY_PATH; futimens needs a real (non O_PATH) fd: go through /proc.
      if (LIBC.utimensat(Flags.AT_FDCWD, cstr(procPath(dirfd, name)), ts, 0) != 0) {
        throw fail("utimensat", "fd " + dirfd);
      }
      return;
    }
    if (LIBC.utimensat(dirfd, cstr(name), ts, flags & ~Flags.AT_EMPTY_PATH) != 0) {
      throw fail("utimensat", name);
    }
  }

  /** futimens(2) on an open fd. */
  public static void futimens(int fd, long atimeNs, long mtimeNs) throws PosixException {
    if (LIBC.futimens(fd, timespecs(atimeNs, mtimeNs)) != 0) {
      throw fail("futimens", "fd " + fd);
    }
  }

  /** struct timespec[2] for utimensat from ns times or the OMIT/NOW sentinels. */
  public static long[] timespecs(long atimeNs, long mtimeNs) {
    long[] ts = new long[4];
    timespec(ts, 0, atimeNs);
    timespec(ts, 2, mtimeNs);
    return ts;
  }

  private static void timespec(long[] ts, int at, long ns) {
    if (ns == OMIT) {
      ts[at] = 0;
      ts[at + 1] = Flags.UTIME_OMIT;
    } else if (ns == NOW) {
      ts[at] = 0;
      ts[at + 1] = Flags.UTIME_NOW;
    } else {
      ts[at] = Math.floorDiv(ns, 1_000_000_000L);
      ts[at + 1] = Math.floorMod(ns, 1_000_000_000L);
    }
  }

  // ---------------------------------------------------------------- namespace

  /** mkdirat(2). */
  public static void mkdir(int dirfd, byte[] name, int mode) throws PosixException {
    if (LIBC.mkdirat(dirfd, cstr(name), mode) != 0) {
      throw fail("mkdirat", name);
    }
  }

  /** mknodat(2), e.g. for a FIFO: {@code mode = S_IFIFO | 0644}. */
  public static void mknod(int dirfd, byte[] name, int mode, long dev) throws PosixException {
    if (LIBC.mknodat(dirfd, cstr(name), mode, dev) != 0) {
      throw fail("mknodat", name);
    }
  }

  /** unlinkat(2) of a non-directory. */
  public static void unlink(int dirfd, byte[] name) throws PosixException {
    if (LIBC.unlinkat(dirfd, cstr(name), 0) != 0) {
      throw fail("unlinkat", name);
    }
  }

  /** unlinkat(2) with AT_REMOVEDIR. */
  public static void rmdir(int dirfd, byte[] name) throws PosixException {
    if (LIBC.unlinkat(dirfd, cstr(name), Flags.AT_REMOVEDIR) != 0) {
      throw fail("rmdir", name);
    }
  }

  /** renameat2(2); flags 0 or RENAME_NOREPLACE / RENAME_EXCHANGE. */
  public static void rename(int olddir, byte[] oldname, int newdir, byte[] newname, int flags)
      throws PosixException {
    if (LIBC.renameat2(olddir, cstr(oldname), newdir, cstr(newname), flags) != 0) {
      throw new PosixException("renameat2", show(oldname) + " -> " + show(newname), errno());
    }
  }

  /** linkat(2): a hard link {@code newname} to {@code oldname}; a symlink is linked itself. */
  public static void link(int olddir, byte[] oldname, int newdir, byte[] newname)
      throws PosixException {
    if (LIBC.linkat(olddir, cstr(oldname), newdir, cstr(newname), 0) != 0) {
      throw new PosixException("linkat", show(oldname) + " -> " + show(newname), errno());
    }
  }

  /** symlinkat(2): a symlink {@code name} whose content is {@code target}. */
  public static void symlink(byte[] target, int dirfd, byte[] name) throws PosixException {
    if (LIBC.symlinkat(cstr(target), dirfd, cstr(name)) != 0) {
      throw fail("symlinkat", name);
    }
  }

  /** readlinkat(2): the symlink's content, byte for byte. */
  public static byte[] readlink(int dirfd, byte[] name) throws PosixException {
    byte[] buf = new byte[PATH_MAX];
    byte[] p = name.length == 0 ? EMPTY : cstr(name);
    long n = LIBC.readlinkat(dirfd, p, buf, buf.length);
    if (n < 0) {
      throw fail("readlinkat", name);
    }
    return java.util.Arrays.copyOf(buf, (int) n);
  }

  /** faccessat(2) with the effective ids; true when allowed. */
  public static boolean access(int dirfd, byte[] name, int mode) {
    byte[] p = name.length == 0 ? DOT : cstr(name);
    return LIBC.faccessat(dirfd, p, mode, Flags.AT_EACCESS) == 0;
  }

  /** The entries of an open directory (O_PATH fds work), without "." and "..". */
  public static List<DirEntry> list(int dirfd) throws PosixException {
    int fd = openat(dirfd, new byte[] {'.'}, Flags.O_RDONLY | Flags.O_DIRECTORY, 0);
    Pointer dir = LIBC.fdopendir(fd);
    if (dir == null) {
      PosixException e = fail("fdopendir", "fd " + dirfd);
      closeQuietly(fd);
      throw e;
    }
    try {
      List<DirEntry> out = new ArrayList<>();
      while (true) {
        RUNTIME.setLastError(0);
        Pointer ent = LIBC.readdir(dir);
        if (ent == null) {
          if (errno() != 0) {
            throw fail("readdir", "fd " + dirfd);
          }
          return out;
        }
        long ino = ent.getLong(0);
        int type = ent.getByte(18) & 0xff;
        int len = ent.indexOf(19, (byte) 0);
        byte[] name = new byte[len];
        ent.get(19, name, 0, len);
        if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) {
          continue;
        }
        out.add(new DirEntry(name, ino, type));
      }
    } finally {
      LIBC.closedir(dir);
    }
  }

  // ---------------------------------------------------------------- data

  /** pread(2) into {@code buf[0, len)}; returns the bytes read (0 at end of file). */
  public static int pread(int fd, byte[] buf, int len, long offset) throws PosixException {
    long n = LIBC.pread(fd, buf, len, offset);
    if (n < 0) {
      throw fail("pread", "fd " + fd);
    }
    return (int) n;
  }

  /** pwrite(2) of all of {@code buf[0, len)} at {@code offset}, retrying short writes. */
  public static void pwriteFully(int fd, byte[] buf, int len, long offset) throws PosixException {
    if (len == 0) {
      return;
    }
    Pointer mem = Memory.allocateDirect(RUNTIME, len, false);
    mem.put(0, buf, 0, len);
    pwriteFully(fd, mem, len, offset);
  }

  /** pwrite(2) of all of native {@code buf[0, len)} at {@code offset}, retrying short writes. */
  public static void pwriteFully(int fd, Pointer buf, long len, long offset) throws PosixException {
    long done = 0;
    while (done < len) {
      long n = LIBC.pwrite(fd, buf.slice(done), len - done, offset + done);
      if (n < 0) {
        if (errno() == Errno.EINTR) {
          continue;
        }
        throw fail("pwrite", "fd " + fd);
      }
      done += n;
    }
  }

  /** ftruncate(2). */
  public static void ftruncate(int fd, long size) throws PosixException {
    if (LIBC.ftruncate(fd, size) != 0) {
      throw fail("ftruncate", "fd " + fd);
    }
  }

  /** fallocate(2). */
  public static void fallocate(int fd, int mode, long offset, long length) throws PosixException {
    if (LIBC.fallocate(fd, mode, offset, length) != 0) {
      throw fail("fallocate", "fd " + fd);
    }
  }

  /** fsync(2). */
  public static void fsync(int fd) throws PosixException {
    if (LIBC.fsync(fd) != 0) {
      throw fail("fsync", "fd " + fd);
    }
  }

  /** fdatasync(2). */
  public static void fdatasync(int fd) throws PosixException {
    if (LIBC.fdatasync(fd) != 0) {
      throw fail("fdatasync", "fd " + fd);
    }
  }

  /** lseek(2), e.g. SEEK_DATA / SEEK_HOLE to copy sparse files; -1 with ENXIO past the data. */
  public static long lseek(int fd, long offset, int whence) throws PosixException {
    long r = LIBC.lseek(fd, offset, whence);
    if (r < 0 && errno() != Errno.ENXIO) {
      throw fail("lseek", "fd " + fd);
    }
    return r;
  }

  /** fstatvfs(3). */
  public static StatVfs statvfs(int fd) throws PosixException {
    Pointer b = Memory.allocateDirect(RUNTIME, 128, true);
    if (LIBC.fstatvfs(fd, b) != 0) {
      throw fail("fstatvfs", "fd " + fd);
    }
    return new StatVfs(
        b.getLong(0),
        b.getLong(8),
        b.getLong(16),
        b.getLong(24),
        b.getLong(32),
        b.getLong(40),
        b.getLong(48),
        b.getLong(56),
        b.getLong(64),
        b.getLong(72),
        b.getLong(80));
  }

  // ---------------------------------------------------------------- xattrs

  /**
   * The {@code /proc/self/fd/N/name} path that names {@code name} inside the directory {@code
   * dirfd} refers to: Linux has no *at xattr calls before 6.13, and the l*xattr calls on this path
   * act on exactly that entry (a final symlink is not followed; the directory is the one the fd
   * holds, even if it was renamed).
   */
  static byte[] procPath(int dirfd, byte[] name) {
    byte[] prefix = ("/proc/self/fd/" + dirfd).getBytes(StandardCharsets.US_ASCII);
    if (name.length == 0) {
      return prefix;
    }
    byte[] out = java.util.Arrays.copyOf(prefix, prefix.length + 1 + name.length);
    out[prefix.length] = '/';
    System.arraycopy(name, 0, out, prefix.length + 1, name.length);
    return out;
  }

  /** The value of xattr {@code attr} of {@code name} (empty: the directory itself), or null. */
  public static byte[] getxattr(int dirfd, byte[] name, byte[] attr) throws PosixException {
    byte[] p = cstr(procPath(dirfd, name));
    byte[] a = cstr(attr);
    byte[] buf = new byte[256];
    while (true) {
      long n =
          name.length == 0
              ? LIBC.getxattr(p, a, buf, buf.length)
              : LIBC.lgetxattr(p, a, buf, buf.length);
      if (n >= 0) {
        return java.util.Arrays.copyOf(buf, (int) n);
      }
      int e = errno();
      if (e == Errno.ENODATA) {
        return null;
      }
      if (e != Errno.ERANGE || buf.length >= 65536) {
        throw new PosixException("getxattr", show(name) + " " + show(attr), e);
      }
      buf = new byte[65536];
    }
  }

  /** Sets xattr {@code attr} of {@code name} (empty: the directory itself). */
  public static void setxattr(int dirfd, byte[] name, byte[] attr, byte[] value, int flags)
      throws PosixException {
    byte[] p = cstr(procPath(dirfd, name));
    int r =
        name.length == 0
            ? LIBC.setxattr(p, cstr(attr), value, value.length, flags)
            : LIBC.lsetxattr(p, cstr(attr), value, value.length, flags);
    if (r != 0) {
      throw new PosixException("setxattr", show(name) + " " + show(attr), errno());
    }
  }

  /** Removes xattr {@code attr}; false when it was not set (ENODATA). */
  public static boolean removexattr(int dirfd, byte[] name, byte[] attr) throws PosixException {
    byte[] p = cstr(procPath(dirfd, name));
    int r = name.length == 0 ? LIBC.removexattr(p, cstr(attr)) : LIBC.lremovexattr(p, cstr(attr));
    if (r != 0) {
      if (errno() == Errno.ENODATA) {
        return false;
      }
      throw new PosixException("removexattr", show(name) + " " + show(attr), errno());
    }
    return true;
  }

  /** The xattr names of {@code name} (empty: the directory itself). */
  public static List<byte[]> listxattr(int dirfd, byte[] name) throws PosixException {
    byte[] p = cstr(procPath(dirfd, name));
    byte[] buf = new byte[1024];
    long n;
    while (true) {
      n =
          name.length == 0
              ? LIBC.listxattr(p, buf, buf.length)
              : LIBC.llistxattr(p, buf, buf.length);
      if (n >= 0) {
        break;
      }
      int e = errno();
      if (e == Errno.ENOTSUP || e == Errno.EOPNOTSUPP) {
        return List.of();
      }
      if (e != Errno.ERANGE || buf.length >= 1 << 20) {
        throw new PosixException("listxattr", show(name), e);
      }
      buf = new byte[buf.length * 16];
    }
    List<byte[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < n; i++) {
      if (buf[i] == 0) {
        if (i > start) {
          out.add(java.util.Arrays.copyOfRange(buf, start, i));
        }
        start = i + 1;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- process

  public static int geteuid() {
    return LIBC.geteuid();
  }

  public static int getegid() {
    return LIBC.getegid();
  }

  public static int getpid() {
    return LIBC.getpid();
  }
}
