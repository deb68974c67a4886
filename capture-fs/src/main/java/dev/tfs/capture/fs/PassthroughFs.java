package dev.tfs.capture.fs;

import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Errno;
import dev.tfs.posix.Flags;
import dev.tfs.posix.LibC;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import dev.tfs.posix.StatVfs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * A FUSE file system that passes every call through to a backing store directory, byte-exact.
 *
 * <p>Every call acts relative to one {@code O_PATH} fd of the store root ({@link #root}); FUSE
 * paths ("/a/b") lose their leading '/' and are used as {@code *at} names, so the store's own
 * location never matters and non-UTF-8 names pass unchanged (see {@link Names}). Open files are
 * store fds carried in {@code fi.fh}; read and write move data between the kernel's buffer and the
 * fd with pread/pwrite on the native pointer (no Java copy).
 *
 * <p>Ownership: the daemon runs as root, so new objects are chowned to the calling process's
 * uid/gid (the group of a set-group-ID parent is kept, as the kernel would). Permission checks are
 * the kernel's ({@code default_permissions}, always on, see {@link FuseMount}). Files are opened
 * without {@code O_APPEND}: the kernel already resolves an append to an explicit offset, and a
 * store fd with O_APPEND would ignore that offset (the capture layer records the offset).
 *
 * <p>No exception ever escapes a callback: a {@link PosixException} becomes {@code -errno},
 * anything else {@code -EIO} (logged).
 *
 * <p><b>Open files whose name was removed</b> keep a libfuse hidden name ({@link HiddenFiles}): the
 * library renames such a file to {@code .fuse_hidden…} through {@link #rename}, which keeps an fd
 * of the file under that name instead of renaming anything in the store ({@link #hide}); getattr,
 * chmod, chown, utimens and truncate on a hidden name act on that fd, and the library's unlink of
 * the hidden name at the last release closes it. Calls that come with the fh (read, write,
 * ftruncate, fsync, fgetattr) act on the fh as before; {@code flag_nullpath_ok} stays for the rare
 * node that has no path at all (its directory was removed).
 *
 * <p>This class is also the "bare passthrough" the benchmark compares against; {@code CaptureFs}
 * extends it and wraps every mutating call.
 */
public class PassthroughFs extends FuseStubFS {
  private static final Logger LOG = LoggerFactory.getLogger(PassthroughFs.class);
  private static final LibC C = Posix.libc();
  private static final byte[] EMPTY_C = {0};
  private static final byte[] EMPTY = {};
  private static final ThreadLocal<Pointer> STATX =
      ThreadLocal.withInitial(() -> Memory.allocateDirect(Posix.runtime(), 256, true));

  /** The store root, opened O_PATH|O_DIRECTORY. */
  protected final int root;

  /** Open files whose last name was removed, under libfuse's hidden names. */
  protected final HiddenFiles hidden = new HiddenFiles();

  /**
   * Set by a successful chmod, chown, utimens or (f)truncate of a hidden file: the library's next
   * getattr on this thread is that call's reply, which (unlike a getattr's) it does not lower by
   * the hidden name's link.
   */
  private static final ThreadLocal<Boolean> SETATTR_REPLY = ThreadLocal.withInitial(() -> false);

  /**
   * @param root an fd of the store root directory (O_PATH is enough); owned by the caller
   */
  public PassthroughFs(int root) {
    this.root = root;
    // Modes arrive already masked by the caller's umask; ours must not mask them again.
    C.umask(0);
  }

  // ------------------------------------------------------------------ helpers

  /** Maps a failure to -errno; unexpected exceptions are logged and become -EIO. */
  protected static int fail(Throwable t, String call, String path) {
    if (t instanceof PosixException pe) {
      return -pe.errno();
    }
    if (t instanceof FsError fe) {
      return -fe.errno;
    }
    LOG.error("{}({}) failed unexpectedly", call, path, t);
    return -Errno.EIO;
  }

  /** A failure that is not a syscall's: carries the errno to reply. */
  public static final class FsError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int errno;

    public FsError(int errno, String message) {
      super(message);
      this.errno = errno;
    }
  }

  /** The calling process's uid and gid. */
  protected record Caller(int uid, int gid) {}

  protected Caller caller() {
    FuseContext ctx = getContext();
    return new Caller((int) ctx.uid.get(), (int) ctx.gid.get());
  }

  protected static int fd(FuseFileInfo fi) {
    return (int) fi.fh.get();
  }

  protected static byte[] parentOf(byte[] rel) {
    for (int i = rel.length - 1; i >= 0; i--) {
      if (rel[i] == '/') {
        return java.util.Arrays.copyOf(rel, i);
      }
    }
    return new byte[0];
  }

  /** statx of a store path (no final symlink followed), or null if absent. */
  protected Stat statOrNull(byte[] rel) throws PosixException {
    return Posix.statOrNull(root, rel, false);
  }

  protected Stat stat(byte[] rel) throws PosixException {
    return Posix.stat(root, rel, false);
  }

  /** statx of an open fd. */
  protected static Stat fstat(int fd) throws PosixException {
    Pointer buf = STATX.get();
    int r = Posix.statxRaw(fd, EMPTY_C, false, buf);
    if (r != 0) {
      throw new PosixException("statx", "fd " + fd, -r);
    }
    return Posix.readStatx(buf);
  }

  private static void fill(Pointer sx, FileStat st) {
    st.st_mode.set(sx.getShort(28) & 0xffff);
    st.st_ino.set(sx.getLong(32));
    st.st_nlink.set(sx.getInt(16) & 0xffffffffL);
    st.st_uid.set(sx.getInt(20));
    st.st_gid.set(sx.getInt(24));
    st.st_rdev.set(Posix.makedev(sx.getInt(128), sx.getInt(132)));
    st.st_size.set(sx.getLong(40));
    st.st_blksize.set(sx.getInt(4));
    st.st_blocks.set(sx.getLong(48));
    st.st_atim.tv_sec.set(sx.getLong(64));
    st.st_atim.tv_nsec.set(sx.getInt(72) & 0xffffffffL);
    st.st_mtim.tv_sec.set(sx.getLong(112));
    st.st_mtim.tv_nsec.set(sx.getInt(120) & 0xffffffffL);
    st.st_ctim.tv_sec.set(sx.getLong(96));
    st.st_ctim.tv_nsec.set(sx.getInt(104) & 0xffffffffL);
  }

  /** Chowns a new object to the caller unless it already has the right owner. */
  protected void own(byte[] rel, int fd, Caller c) throws PosixException {
    Stat parent = stat(parentOf(rel));
    // In a set-group-ID directory the new object takes the directory's group, as on any fs.
    int gid = (parent.mode() & 02000) != 0 ? parent.gid() : c.gid();
    Stat s = fd >= 0 ? fstat(fd) : stat(rel);
    if (s.uid() != c.uid() || s.gid() != gid) {
      if (fd >= 0) {
        if (C.fchown(fd, c.uid(), gid) != 0) {
          throw new PosixException("fchown", "fd " + fd, Posix.errno());
        }
      } else {
        Posix.chown(root, rel, c.uid(), gid);
      }
    }
  }

  private static long time(Timespec t) {
    long nsec = t.tv_nsec.longValue();
    if (nsec == Flags.UTIME_NOW) {
      return Posix.NOW;
    }
    if (nsec == Flags.UTIME_OMIT) {
      return Posix.OMIT;
    }
    return t.tv_sec.get() * 1_000_000_000L + nsec;
  }

  /** utimens times (ns, or {@link Posix#OMIT}/{@link Posix#NOW}) from the kernel's timespecs. */
  protected static long[] times(Timespec[] ts) {
    return new long[] {time(ts[0]), time(ts[1])};
  }

  // ------------------------------------------------------------------ store operations
  // Each throws on failure; callbacks and the capture layer share them.

  protected void storeMkdir(byte[] rel, int mode, Caller c) throws PosixException {
    Posix.mkdir(root, rel, mode);
    own(rel, -1, c);
  }

  protected void storeMknod(byte[] rel, int mode, long rdev, Caller c) throws PosixException {
    int type = mode & Flags.S_IFMT;
    if (type == Flags.S_IFREG || type == 0) {
      int fd = Posix.openat(root, rel, Flags.O_CREAT | Flags.O_EXCL | Flags.O_WRONLY, mode & 07777);
      try {
        own(rel, fd, c);
      } finally {
        Posix.closeQuietly(fd);
      }
      return;
    }
    // FIFOs, sockets and device nodes: the store decides (the kernel already refused callers
    // without CAP_MKNOD for a device; mknodat's errno is returned as it is).
    boolean device = type == Flags.S_IFCHR || type == Flags.S_IFBLK;
    Posix.mknod(root, rel, mode, device ? rdev : 0);
    own(rel, -1, c);
  }

  /**
   * Creates (O_EXCL) or opens a regular file for the create callback. Returns the fd; the first
   * element of the one-element array {@code created} tells whether the file was made by this call.
   */
  protected int storeCreate(byte[] rel, int flags, int mode, Caller c, boolean[] created)
      throws PosixException {
    int f = (flags & ~(Flags.O_APPEND | Flags.O_CREAT | Flags.O_EXCL)) | Flags.O_NOFOLLOW;
    try {
      int fd = Posix.openat(root, rel, f | Flags.O_CREAT | Flags.O_EXCL, mode);
      created[0] = true;
      try {
        own(rel, fd, c);
      } catch (PosixException e) {
        Posix.closeQuietly(fd);
        throw e;
      }
      return fd;
    } catch (PosixException e) {
      if (!e.is(Errno.EEXIST) || (flags & Flags.O_EXCL) != 0) {
        throw e;
      }
      created[0] = false;
      return Posix.openat(root, rel, f, 0);
    }
  }

  protected void storeUnlink(byte[] rel) throws PosixException {
    Posix.unlink(root, rel);
  }

  protected void storeRmdir(byte[] rel) throws PosixException {
    Posix.rmdir(root, rel);
  }

  protected void storeRename(byte[] from, byte[] to) throws PosixException {
    Posix.rename(root, from, root, to, 0);
  }

  protected void storeLink(byte[] from, byte[] to) throws PosixException {
    Posix.link(root, from, root, to);
  }

  protected void storeSymlink(byte[] target, byte[] rel, Caller c) throws PosixException {
    Posix.symlink(target, root, rel);
    own(rel, -1, c);
  }

  protected void storeChmod(byte[] rel, int mode) throws PosixException {
    Posix.chmod(root, rel, mode & 07777);
  }

  protected void storeChown(byte[] rel, int uid, int gid) throws PosixException {
    Posix.chown(root, rel, uid, gid);
  }

  protected void storeUtimens(byte[] rel, long atime, long mtime) throws PosixException {
    Posix.utimens(root, rel, atime, mtime);
  }

  protected void storeTruncate(byte[] rel, long size) throws PosixException {
    int fd = Posix.openat(root, rel, Flags.O_WRONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK, 0);
    try {
      Posix.ftruncate(fd, size);
    } finally {
      Posix.closeQuietly(fd);
    }
  }

  /** pwrite of the kernel's buffer; returns bytes written (all of them, or an exception). */
  protected static int storeWrite(int fd, Pointer buf, long size, long offset)
      throws PosixException {
    Posix.pwriteFully(fd, buf, size, offset);
    return (int) size;
  }

  protected void storeSetxattr(byte[] rel, byte[] name, byte[] value, int flags)
      throws PosixException {
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      Posix.setxattr(o.fd(), EMPTY, name, value, flags);
      return;
    }
    Posix.setxattr(root, rel, name, value, flags);
  }

  protected void storeRemovexattr(byte[] rel, byte[] name) throws PosixException {
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null ? !Posix.removexattr(o.fd(), EMPTY, name) : !Posix.removexattr(root, rel, name)) {
      throw new PosixException("removexattr", Posix.show(rel), Errno.ENODATA);
    }
  }

  // ------------------------------------------------------------------ hidden files

  /**
   * Marks the end of a successful setattr-family call on a hidden file ({@code ok}) or clears the
   * mark (the library replies with an error and asks no getattr).
   */
  protected static void setattrReply(boolean ok) {
    SETATTR_REPLY.set(ok);
  }

  /**
   * Stat of a hidden file's fd. libfuse lowers a hidden node's link count by one in a getattr reply
   * (its hidden name would be a link on a file system that kept it); the store has no such link, so
   * it is added here, except in a setattr's reply, which the library does not lower.
   */
  private static int statHidden(int fd, FileStat stat) {
    Pointer sx = STATX.get();
    int r = Posix.statxRaw(fd, EMPTY_C, false, sx);
    boolean reply = SETATTR_REPLY.get();
    SETATTR_REPLY.set(false);
    if (r != 0) {
      return r;
    }
    fill(sx, stat);
    if (!reply) {
      stat.st_nlink.set(stat.st_nlink.longValue() + 1);
    }
    return 0;
  }

  /**
   * libfuse hides an open file that is being unlinked, or renamed over, by renaming it to {@code
   * hiddenName} (see {@link HiddenFiles}). Keeps an fd of the file under that name; when the caller
   * is not {@code renaming} ({@link HiddenFiles#callerRenames}), removes {@code rel} from the store
   * as the unlink it is ({@link #unlinkHidden}).
   */
  protected int hide(String path, byte[] rel, byte[] hiddenName, boolean renaming) {
    try {
      if (hidden.move(rel, hiddenName)) {
        return 0; // a hidden name unlinked while still open: hidden again under a new name
      }
      int fd = Posix.openat(root, rel, Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK, 0);
      long ino;
      try {
        ino = fstat(fd).ino();
        if (!renaming) {
          int r = unlinkHidden(path);
          if (r != 0) {
            Posix.closeQuietly(fd);
            return r;
          }
        }
      } catch (PosixException | RuntimeException e) {
        Posix.closeQuietly(fd);
        throw e;
      }
      hidden.add(hiddenName, fd, ino);
      return 0;
    } catch (Throwable t) {
      return fail(t, "rename", path);
    }
  }

  /** True when the calling thread is inside a rename system call. */
  protected boolean callerRenames() {
    return HiddenFiles.callerRenames(getContext().pid.get());
  }

  /** The unlink of an open file's name, when libfuse hides the file for an unlink. */
  protected int unlinkHidden(String path) {
    return unlink(path);
  }

  /** After an ftruncate: when it was a hidden file's and succeeded, its getattr reply follows. */
  protected void ftruncated(String path, boolean ok) {
    if (!hidden.isEmpty()) {
      setattrReply(ok && path != null && hidden.get(Names.rel(path)) != null);
    }
  }

  /** A setattr-family call on a hidden file: {@code body} acts on its fd. */
  @FunctionalInterface
  protected interface OnFd {
    void run(int fd) throws PosixException;
  }

  private static int onHidden(String call, String path, HiddenFiles.Orphan o, OnFd body) {
    try {
      body.run(o.fd());
      setattrReply(true);
      return 0;
    } catch (Throwable t) {
      setattrReply(false);
      return fail(t, call, path);
    }
  }

  /** ftruncate of a hidden file by its name: through /proc (the kept fd is read-only). */
  protected static void truncateHidden(int fd, long size) throws PosixException {
    int w =
        Posix.openat(
            Flags.AT_FDCWD,
            ("/proc/self/fd/" + fd).getBytes(StandardCharsets.US_ASCII),
            Flags.O_WRONLY | Flags.O_NONBLOCK,
            0);
    try {
      Posix.ftruncate(w, size);
    } finally {
      Posix.closeQuietly(w);
    }
  }

  /** fchown; -1 leaves an id as it is. */
  protected static void fchown(int fd, int uid, int gid) throws PosixException {
    if (C.fchown(fd, uid, gid) != 0) {
      throw new PosixException("fchown", "fd " + fd, Posix.errno());
    }
  }

  // ------------------------------------------------------------------ read-only callbacks

  @Override
  public int getattr(String path, FileStat stat) {
    Pointer sx = STATX.get();
    byte[] rel = Names.rel(path);
    if (!hidden.isEmpty()) {
      HiddenFiles.Orphan o = hidden.get(rel);
      if (o != null) {
        return statHidden(o.fd(), stat);
      }
    }
    byte[] c = rel.length == 0 ? EMPTY_C : Posix.cstr(rel);
    int r = Posix.statxRaw(root, c, false, sx);
    if (r != 0) {
      return r;
    }
    fill(sx, stat);
    return 0;
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    if (path != null && !hidden.isEmpty() && hidden.get(Names.rel(path)) != null) {
      return statHidden(fd(fi), stat);
    }
    Pointer sx = STATX.get();
    int r = Posix.statxRaw(fd(fi), EMPTY_C, false, sx);
    if (r != 0) {
      return r;
    }
    fill(sx, stat);
    return 0;
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    try {
      byte[] target = Posix.readlink(root, Names.rel(path));
      int n = (int) Math.min(target.length, size - 1);
      buf.put(0, target, 0, n);
      buf.putByte(n, (byte) 0);
      return 0;
    } catch (Throwable t) {
      return fail(t, "readlink", path);
    }
  }

  @Override
  public int readdir(
      String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
    try {
      byte[] rel = Names.rel(path);
      int dir =
          rel.length == 0
              ? root
              : Posix.openat(root, rel, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
      try {
        List<DirEntry> entries = Posix.list(dir);
        filter.apply(buf, cname(new byte[] {'.'}), null, 0);
        filter.apply(buf, cname(new byte[] {'.', '.'}), null, 0);
        for (DirEntry e : entries) {
          if (filter.apply(buf, cname(e.name()), null, 0) != 0) {
            break;
          }
        }
      } finally {
        if (dir != root) {
          Posix.closeQuietly(dir);
        }
      }
      return 0;
    } catch (Throwable t) {
      return fail(t, "readdir", path);
    }
  }

  /** A direct, NUL-terminated buffer for the filler (bypasses any charset). */
  private static ByteBuffer cname(byte[] name) {
    ByteBuffer b = ByteBuffer.allocateDirect(name.length + 1);
    b.put(name).put((byte) 0).flip();
    return b;
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    try {
      int flags = fi.flags.get() & ~(Flags.O_APPEND | Flags.O_CREAT | Flags.O_EXCL);
      int fd = Posix.openat(root, Names.rel(path), flags | Flags.O_NOFOLLOW, 0);
      fi.fh.set(fd);
      return 0;
    } catch (Throwable t) {
      return fail(t, "open", path);
    }
  }

  @Override
  public int read(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    int fd = fd(fi);
    long done = 0;
    while (done < size) {
      long n = C.pread(fd, buf.slice(done), size - done, offset + done);
      if (n < 0) {
        int e = Posix.errno();
        if (e == Errno.EINTR) {
          continue;
        }
        return done > 0 ? (int) done : -e;
      }
      if (n == 0) {
        break;
      }
      done += n;
    }
    return (int) done;
  }

  @Override
  public int statfs(String path, Statvfs st) {
    try {
      StatVfs v = Posix.statvfs(root);
      st.f_bsize.set(v.bsize());
      st.f_frsize.set(v.frsize());
      st.f_blocks.set(v.blocks());
      st.f_bfree.set(v.bfree());
      st.f_bavail.set(v.bavail());
      st.f_files.set(v.files());
      st.f_ffree.set(v.ffree());
      st.f_favail.set(v.favail());
      st.f_fsid.set(v.fsid());
      st.f_flag.set(v.flag());
      st.f_namemax.set(v.namemax());
      return 0;
    } catch (Throwable t) {
      return fail(t, "statfs", path);
    }
  }

  @Override
  public int access(String path, int mask) {
    try {
      byte[] rel = Names.rel(path);
      if (mask == Flags.F_OK) {
        return stat(rel) != null ? 0 : -Errno.ENOENT;
      }
      return Posix.access(root, rel, mask) ? 0 : -Posix.errno();
    } catch (Throwable t) {
      return fail(t, "access", path);
    }
  }

  @Override
  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    try {
      byte[] rel = Names.rel(path);
      HiddenFiles.Orphan o = hidden.get(rel);
      byte[] v =
          o != null
              ? Posix.getxattr(o.fd(), EMPTY, Names.bytes(name))
              : Posix.getxattr(root, rel, Names.bytes(name));
      if (v == null) {
        return -Errno.ENODATA;
      }
      if (size == 0) {
        return v.length;
      }
      if (size < v.length) {
        return -Errno.ERANGE;
      }
      value.put(0, v, 0, v.length);
      return v.length;
    } catch (Throwable t) {
      return fail(t, "getxattr", path);
    }
  }

  @Override
  public int listxattr(String path, Pointer list, @size_t long size) {
    try {
      byte[] rel = Names.rel(path);
      HiddenFiles.Orphan o = hidden.get(rel);
      List<byte[]> names = o != null ? Posix.listxattr(o.fd(), EMPTY) : Posix.listxattr(root, rel);
      int total = 0;
      for (byte[] n : names) {
        total += n.length + 1;
      }
      if (size == 0) {
        return total;
      }
      if (size < total) {
        return -Errno.ERANGE;
      }
      int at = 0;
      for (byte[] n : names) {
        list.put(at, n, 0, n.length);
        list.putByte(at + n.length, (byte) 0);
        at += n.length + 1;
      }
      return total;
    } catch (Throwable t) {
      return fail(t, "listxattr", path);
    }
  }

  @Override
  public int flush(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    Posix.closeQuietly(fd(fi));
    return 0;
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    try {
      if (isdatasync != 0) {
        Posix.fdatasync(fd(fi));
      } else {
        Posix.fsync(fd(fi));
      }
      return 0;
    } catch (Throwable t) {
      return fail(t, "fsync", path);
    }
  }

  @Override
  public int opendir(String path, FuseFileInfo fi) {
    return 0;
  }

  @Override
  public int releasedir(String path, FuseFileInfo fi) {
    return 0;
  }

  // ------------------------------------------------------------------ mutating callbacks

  @Override
  public int mkdir(String path, @mode_t long mode) {
    try {
      storeMkdir(Names.rel(path), (int) mode & 07777, caller());
      return 0;
    } catch (Throwable t) {
      return fail(t, "mkdir", path);
    }
  }

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    try {
      storeMknod(Names.rel(path), (int) mode, rdev, caller());
      return 0;
    } catch (Throwable t) {
      return fail(t, "mknod", path);
    }
  }

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    try {
      int fd =
          storeCreate(
              Names.rel(path), fi.flags.get(), (int) mode & 07777, caller(), new boolean[1]);
      fi.fh.set(fd);
      return 0;
    } catch (Throwable t) {
      return fail(t, "create", path);
    }
  }

  @Override
  public int unlink(String path) {
    try {
      if (hidden.remove(Names.rel(path))) {
        return 0; // libfuse removes a hidden name at the last release: it never was in the store
      }
      storeUnlink(Names.rel(path));
      return 0;
    } catch (Throwable t) {
      return fail(t, "unlink", path);
    }
  }

  @Override
  public int rmdir(String path) {
    try {
      storeRmdir(Names.rel(path));
      return 0;
    } catch (Throwable t) {
      return fail(t, "rmdir", path);
    }
  }

  @Override
  public int rename(String oldpath, String newpath) {
    if (HiddenFiles.isHiddenName(Names.rel(newpath))) {
      return hide(oldpath, Names.rel(oldpath), Names.rel(newpath), callerRenames());
    }
    try {
      storeRename(Names.rel(oldpath), Names.rel(newpath));
      return 0;
    } catch (Throwable t) {
      return fail(t, "rename", oldpath);
    }
  }

  @Override
  public int link(String oldpath, String newpath) {
    try {
      storeLink(Names.rel(oldpath), Names.rel(newpath));
      return 0;
    } catch (Throwable t) {
      return fail(t, "link", oldpath);
    }
  }

  @Override
  public int symlink(String target, String linkpath) {
    try {
      storeSymlink(Names.bytes(target), Names.rel(linkpath), caller());
      return 0;
    } catch (Throwable t) {
      return fail(t, "symlink", linkpath);
    }
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    HiddenFiles.Orphan o = hidden.get(Names.rel(path));
    if (o != null) {
      return onHidden("chmod", path, o, fd -> Posix.fchmod(fd, (int) mode & 07777));
    }
    try {
      storeChmod(Names.rel(path), (int) mode);
      return 0;
    } catch (Throwable t) {
      return fail(t, "chmod", path);
    }
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    HiddenFiles.Orphan o = hidden.get(Names.rel(path));
    if (o != null) {
      return onHidden("chown", path, o, fd -> fchown(fd, (int) uid, (int) gid));
    }
    try {
      storeChown(Names.rel(path), (int) uid, (int) gid);
      return 0;
    } catch (Throwable t) {
      return fail(t, "chown", path);
    }
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    HiddenFiles.Orphan o = hidden.get(Names.rel(path));
    if (o != null) {
      long[] t = times(timespec);
      return onHidden("utimens", path, o, fd -> Posix.futimens(fd, t[0], t[1]));
    }
    try {
      long[] t = times(timespec);
      storeUtimens(Names.rel(path), t[0], t[1]);
      return 0;
    } catch (Throwable t) {
      return fail(t, "utimens", path);
    }
  }

  @Override
  public int truncate(String path, @off_t long size) {
    HiddenFiles.Orphan o = hidden.get(Names.rel(path));
    if (o != null) {
      return onHidden("truncate", path, o, fd -> truncateHidden(fd, size));
    }
    try {
      storeTruncate(Names.rel(path), size);
      return 0;
    } catch (Throwable t) {
      return fail(t, "truncate", path);
    }
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    try {
      Posix.ftruncate(fd(fi), size);
      ftruncated(path, true);
      return 0;
    } catch (Throwable t) {
      ftruncated(path, false);
      return fail(t, "ftruncate", path);
    }
  }

  @Override
  public int write(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    try {
      return storeWrite(fd(fi), buf, size, offset);
    } catch (Throwable t) {
      return fail(t, "write", path);
    }
  }

  @Override
  public int fallocate(
      String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
    try {
      Posix.fallocate(fd(fi), mode, off, length);
      return 0;
    } catch (Throwable t) {
      return fail(t, "fallocate", path);
    }
  }

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    try {
      byte[] v = new byte[(int) size];
      value.get(0, v, 0, v.length);
      storeSetxattr(Names.rel(path), Names.bytes(name), v, flags);
      return 0;
    } catch (Throwable t) {
      return fail(t, "setxattr", path);
    }
  }

  @Override
  public int removexattr(String path, String name) {
    try {
      storeRemovexattr(Names.rel(path), Names.bytes(name));
      return 0;
    } catch (Throwable t) {
      return fail(t, "removexattr", path);
    }
  }
}
