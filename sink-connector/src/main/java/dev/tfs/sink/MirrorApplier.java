package dev.tfs.sink;

import dev.tfs.op.OpKind;
import dev.tfs.op.OpRules;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Fallocate;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.RemoveXattr;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;
import dev.tfs.posix.Errno;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies ops to a mirror directory, confined beneath its root (guarantee G5), each op idempotent
 * under one re-application (G3).
 *
 * <p><b>Confinement.</b> The root is opened once as an {@code O_PATH} directory fd. For every op
 * the parent directory is opened with {@link Posix#openBeneath} (openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk), so no symlink is followed in any component and no
 * path can leave the root; the final component is then acted on with *at calls that never follow it
 * ({@code AT_SYMLINK_NOFOLLOW}, {@code O_NOFOLLOW}, the {@code l*xattr} calls). Every op is also
 * checked against {@link OpRules} here, whatever the caller did before, so a hostile record that
 * reaches this class without the decoder is still refused. Symlink targets are stored, never
 * resolved.
 *
 * <p><b>Strict order.</b> A missing parent directory is an error (kind {@code DIVERGED}), never
 * created on the fly: with ops applied in seq order it can only mean that the mirror no longer
 * matches the source.
 *
 * <p><b>Idempotence.</b> The task records an op as applied after applying it, so after a crash the
 * last op may be applied a second time. Each kind tolerates that: writes, truncates and attribute
 * changes repeat harmlessly; create of an existing regular file, mkdir of an existing directory,
 * mknod of an existing node of the same type (a device: and number), a skipped device node and
 * every change to the skipped names ({@link SkippedNodes}), unlink/rmdir of a missing name, a
 * rename whose source is gone and whose target exists, a link whose target is already the same
 * inode, a symlink with the same target, and removal of a missing xattr all succeed without change.
 *
 * <p><b>Device nodes</b> ({@link SpecialFiles}): under {@link SpecialFiles#SKIP} a char or block
 * device is not created; its name goes into {@link SkippedNodes} (logged once, counted), and later
 * ops on that name follow the skip: unlink drops the name, rename moves it (and replaces what the
 * target held), link adds the new name, setattr/setxattr/removexattr are no-ops; each still opens
 * the parent confined as any op does, so the skip never loosens G5. Under {@link
 * SpecialFiles#CREATE} the same node is made (type, device number, mode, owner), which needs a
 * worker running as root. A file is never opened for writing before it was checked to be a regular
 * file, so no record can make the task open a device.
 *
 * <p><b>Times.</b> Ops carry the source's post-op mtimes of the object ({@code mtime}) and of the
 * changed directories ({@code parentMtime}, {@code toParentMtime}); they are applied after the op
 * so the mirror shows the source's times.
 *
 * <p>Not thread-safe: one applier per mirror, used by one thread (the order is the point).
 */
public final class MirrorApplier implements AutoCloseable {
  /** Who owns the files the mirror creates. */
  public enum OwnerPolicy {
    /** Set the source's uid/gid when the worker runs as root; otherwise keep the worker's. */
    AUTO,
    /** Always set the source's uid/gid; fail when not permitted. */
    PRESERVE,
    /** Never set uid/gid: files belong to the worker's user. */
    IGNORE
  }

  /** What the mirror does with char and block device nodes ({@code tfs.special.files}). */
  public enum SpecialFiles {
    /**
     * Create none: count them, log each name once, let later ops on their names follow the skip.
     */
    SKIP,
    /** Create the same node (type, major:minor, mode, owner); needs a worker running as root. */
    CREATE
  }

  private static final Logger log = LoggerFactory.getLogger(MirrorApplier.class);
  private static final byte[] EMPTY = new byte[0];
  private static final int WRITE_FD_CACHE = 64;
  private static final int SCRATCH_BYTES = 1 << 20;

  private final Path root;
  private final int rootFd;
  private final boolean setOwners;
  private final boolean isRoot;
  private final SpecialFiles special;
  private final SkippedNodes skipped;
  private final LinkedHashMap<ByteBuffer, Integer> writeFds =
      new LinkedHashMap<>(WRITE_FD_CACHE * 2, 0.75f, true);
  private final Pointer scratch;
  private boolean dirty;
  private long bytesWritten;
  private boolean closed;
  private String faultCall;
  private int faultErrno;

  /**
   * Opens the mirror root (which must exist and be a directory; a symlinked root is refused);
   * device nodes are skipped ({@link SpecialFiles#SKIP}, the connector's default) and the skipped
   * names live as long as this applier.
   *
   * @throws PosixException when the root cannot be opened
   */
  public MirrorApplier(Path root, OwnerPolicy policy) throws PosixException {
    this(root, policy, SpecialFiles.SKIP, SkippedNodes.inMemory());
  }

  /**
   * Opens the mirror root with a device-node policy and the names skipped so far ({@link
   * SkippedNodes#open} for a mirror that outlives this applier).
   *
   * @throws PosixException when the root cannot be opened
   */
  public MirrorApplier(Path root, OwnerPolicy policy, SpecialFiles special, SkippedNodes skipped)
      throws PosixException {
    this(root, policy, special, skipped, Posix.geteuid());
  }

  /** With the worker's effective uid given (tests: a non-root worker without being one). */
  MirrorApplier(
      Path root, OwnerPolicy policy, SpecialFiles special, SkippedNodes skipped, int effectiveUid)
      throws PosixException {
    this.special = special;
    this.skipped = skipped;
    this.root = root.toAbsolutePath().normalize();
    this.rootFd =
        Posix.openat(
            Flags.AT_FDCWD,
            this.root.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8),
            Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW,
            0);
    this.isRoot = effectiveUid == 0;
    this.setOwners = policy == OwnerPolicy.PRESERVE || (policy == OwnerPolicy.AUTO && isRoot);
    this.scratch = Memory.allocateDirect(Posix.runtime(), SCRATCH_BYTES, false);
  }

  /** The mirror root this applier writes beneath. */
  public Path root() {
    return root;
  }

  /** True when uid/gid from ops are applied. */
  public boolean setsOwners() {
    return setOwners;
  }

  /** The device-node policy. */
  public SpecialFiles specialFiles() {
    return special;
  }

  /** How many names of device nodes the mirror holds no node for (tfs.special.files=skip). */
  public int skippedSpecialFiles() {
    return skipped.size();
  }

  /** File content bytes written since this applier was opened. */
  public long bytesWritten() {
    return bytesWritten;
  }

  /**
   * Applies one op beneath the root.
   *
   * @throws ApplyException when the op is refused (hostile or malformed), does not match the mirror
   *     (diverged), or fails for lack of space, permission or another I/O error; nothing outside
   *     the root has been touched either way
   */
  public void apply(OpRecord op) throws ApplyException {
    String problem;
    try {
      problem = OpRules.problem(op);
    } catch (RuntimeException e) {
      problem = "malformed op: " + e;
    }
    if (problem != null) {
      throw new ApplyException(
          ApplyException.Kind.REFUSED,
          op.getSeq(),
          "refused op seq " + op.getSeq() + ": " + problem,
          null);
    }
    byte[] path = Ops.path(op);
    OpKind kind = OpKind.of(op);
    try {
      boolean changed =
          switch (kind) {
            case CREATE -> {
              create(op, path, (Create) op.getOp());
              yield true;
            }
            case MKDIR -> {
              mkdir(op, path, (Mkdir) op.getOp());
              yield true;
            }
            case MKNOD -> {
              mknod(op, path, (Mknod) op.getOp());
              yield true;
            }
            case WRITE -> {
              write(op, path, (Write) op.getOp());
              yield true;
            }
            case TRUNCATE -> {
              truncate(op, path, (Truncate) op.getOp());
              yield true;
            }
            case FALLOCATE -> {
              fallocate(op, path, (Fallocate) op.getOp());
              yield true;
            }
            case UNLINK -> {
              unlink(op, path);
              yield true;
            }
            case RMDIR -> {
              rmdir(op, path);
              yield true;
            }
            case RENAME -> {
              rename(op, path, (Rename) op.getOp());
              yield true;
            }
            case LINK -> {
              link(op, path, (Link) op.getOp());
              yield true;
            }
            case SYMLINK -> {
              symlink(op, path, (Symlink) op.getOp());
              yield true;
            }
            case SETATTR -> {
              setattr(op, path, (SetAttr) op.getOp());
              yield true;
            }
            case SETXATTR -> {
              setxattr(op, path, (SetXattr) op.getOp());
              yield true;
            }
            case REMOVEXATTR -> {
              removexattr(op, path, (RemoveXattr) op.getOp());
              yield true;
            }
            // Markers only: the task records the snapshot's progress in the mirror state.
            case SNAPSHOT_BEGIN, SNAPSHOT_END -> false;
          };
      if (changed) {
        dirty = true;
      }
      saveSkipped(op);
    } catch (PosixException e) {
      throw fromErrno(op, e);
    } catch (IllegalArgumentException e) {
      // Posix.cstr refuses a NUL byte; OpPaths refuses a bad path.
      throw refused(op, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ op kinds

  private void create(OpRecord op, byte[] path, Create c) throws PosixException, ApplyException {
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      int fd;
      try {
        fd =
            Posix.openat(
                d.fd, name, Flags.O_WRONLY | Flags.O_CREAT | Flags.O_EXCL | Flags.O_NOFOLLOW, 0600);
      } catch (PosixException e) {
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
        // Re-application: the file is there already; anything else at that name is divergence.
        Stat s = Posix.stat(d.fd, name, false);
        if (!s.isRegular()) {
          throw diverged(op, "create: " + show(path) + " already exists as " + typeName(s));
        }
        fd = openForWrite(op, d.fd, name);
      }
      boolean cached = false;
      try {
        owner(op, fd, EMPTY, c.getUid(), c.getGid(), true);
        Posix.fchmod(fd, c.getMode());
        if (op.getMtime() != null) {
          Posix.futimens(fd, Posix.OMIT, op.getMtime());
        }
        cacheWriteFd(path, fd);
        cached = true;
      } finally {
        if (!cached) {
          Posix.closeQuietly(fd);
        }
      }
      parentTime(d, op.getParentMtime());
    }
    skipped.remove(path); // a real object holds the name now
  }

  private void mkdir(OpRecord op, byte[] path, Mkdir m) throws PosixException, ApplyException {
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      try {
        Posix.mkdir(d.fd, name, 0700);
      } catch (PosixException e) {
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
        Stat s = Posix.stat(d.fd, name, false);
        if (!s.isDirectory()) {
          throw diverged(op, "mkdir: " + show(path) + " already exists as " + typeName(s));
        }
      }
      owner(op, d.fd, name, m.getUid(), m.getGid(), false);
      Posix.chmod(d.fd, name, m.getMode());
      objectTime(d.fd, name, op.getMtime());
      parentTime(d, op.getParentMtime());
    }
    skipped.remove(path); // a real object holds the name now
  }

  private void mknod(OpRecord op, byte[] path, Mknod m) throws PosixException, ApplyException {
    int type = m.getMode() & Flags.S_IFMT;
    boolean device = type == Flags.S_IFCHR || type == Flags.S_IFBLK;
    if (!device && type != Flags.S_IFIFO && type != Flags.S_IFSOCK) {
      throw refused(
          op, "mknod of type " + Integer.toOctalString(type) + " (only FIFO, socket, device)");
    }
    long rdev = device ? m.getRdev() : 0L;
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      if (device && special == SpecialFiles.SKIP) {
        skipDevice(op, d, path, name, type, rdev);
        return;
      }
      if (device && !isRoot) {
        throw cannotCreateDevice(op, path, type, rdev, "the worker does not run as root");
      }
      try {
        Posix.mknod(d.fd, name, type | 0600, rdev);
      } catch (PosixException e) {
        if (device && e.is(Errno.EPERM)) {
          throw cannotCreateDevice(op, path, type, rdev, e.getMessage());
        }
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
        Stat s = Posix.stat(d.fd, name, false);
        if (s.type() != type || (device && s.rdev() != rdev)) {
          throw diverged(op, "mknod: " + show(path) + " already exists as " + typeName(s));
        }
      }
      owner(op, d.fd, name, m.getUid(), m.getGid(), false);
      Posix.chmod(d.fd, name, m.getMode() & 07777);
      objectTime(d.fd, name, op.getMtime());
      parentTime(d, op.getParentMtime());
    }
    skipped.remove(path); // a real node holds the name now
  }

  /**
   * tfs.special.files=skip: the device is not created; its name is remembered (and logged once) so
   * later ops on it follow the skip. The parent was opened confined, as for any op, and its mtime
   * is the source's (its entries changed there).
   */
  private void skipDevice(OpRecord op, Dir d, byte[] path, byte[] name, int type, long rdev)
      throws PosixException, ApplyException {
    Stat s = Posix.statOrNull(d.fd, name, false);
    if (s != null && (s.type() != type || s.rdev() != rdev)) {
      throw diverged(op, "mknod: " + show(path) + " already exists as " + typeName(s));
    }
    // s != null: the same node, made while the policy was create; it stays as it is.
    if (s == null && skipped.add(path)) {
      log.info(
          "skipped {} device node {} ({}:{}) at seq {}: tfs.special.files=skip creates no device"
              + " nodes in the mirror {}",
          type == Flags.S_IFCHR ? "char" : "block",
          show(path),
          OpRules.deviceMajor(rdev),
          OpRules.deviceMinor(rdev),
          op.getSeq(),
          root);
    }
    parentTime(d, op.getParentMtime());
  }

  private ApplyException cannotCreateDevice(
      OpRecord op, byte[] path, int type, long rdev, String why) {
    return new ApplyException(
        ApplyException.Kind.PERMISSION,
        op.getSeq(),
        "cannot create "
            + (type == Flags.S_IFCHR ? "char" : "block")
            + " device node "
            + show(path)
            + " ("
            + OpRules.deviceMajor(rdev)
            + ":"
            + OpRules.deviceMinor(rdev)
            + ", seq "
            + op.getSeq()
            + "): "
            + why
            + "; tfs.special.files=create makes device nodes and needs the worker to run as root"
            + " (with CAP_MKNOD). Run the worker as root, or set tfs.special.files=skip (device"
            + " nodes are then counted and logged, not created) and restart the task",
        null);
  }

  private void write(OpRecord op, byte[] path, Write w) throws PosixException, ApplyException {
    int fd = writeFd(op, path);
    ByteBuffer data = w.getData().duplicate();
    long offset = w.getOffset();
    int len = data.remaining();
    int done = 0;
    while (done < len) {
      int n = Math.min(SCRATCH_BYTES, len - done);
      if (data.hasArray()) {
        scratch.put(0, data.array(), data.arrayOffset() + data.position() + done, n);
      } else {
        byte[] tmp = new byte[n];
        data.duplicate().position(data.position() + done).get(tmp);
        scratch.put(0, tmp, 0, n);
      }
      fault("pwrite");
      Posix.pwriteFully(fd, scratch, n, offset + done);
      done += n;
    }
    bytesWritten += len;
    if (op.getMtime() != null) {
      Posix.futimens(fd, Posix.OMIT, op.getMtime());
    }
  }

  private void truncate(OpRecord op, byte[] path, Truncate t)
      throws PosixException, ApplyException {
    int fd = writeFd(op, path);
    fault("ftruncate");
    Posix.ftruncate(fd, t.getSize());
    if (op.getMtime() != null) {
      Posix.futimens(fd, Posix.OMIT, op.getMtime());
    }
  }

  private void fallocate(OpRecord op, byte[] path, Fallocate f)
      throws PosixException, ApplyException {
    int mode = f.getMode();
    boolean keep = (mode & Flags.FALLOC_FL_KEEP_SIZE) != 0;
    boolean punch = (mode & Flags.FALLOC_FL_PUNCH_HOLE) != 0;
    boolean zero = (mode & Flags.FALLOC_FL_ZERO_RANGE) != 0;
    int known = Flags.FALLOC_FL_KEEP_SIZE | Flags.FALLOC_FL_PUNCH_HOLE | Flags.FALLOC_FL_ZERO_RANGE;
    if ((mode & ~known) != 0 || (punch && (zero || !keep))) {
      throw refused(op, "fallocate mode " + mode + " is not one tfs replays");
    }
    int fd = writeFd(op, path);
    try {
      Posix.fallocate(fd, mode, f.getOffset(), f.getLength());
    } catch (PosixException e) {
      if (!e.is(Errno.EOPNOTSUPP)) {
        throw e;
      }
      // The mirror's file system cannot do it natively: same content by other means.
      if (punch || zero) {
        long size = Posix.stat(fd, EMPTY, false).size();
        long end = f.getOffset() + f.getLength();
        long zeroEnd = keep ? Math.min(end, size) : end;
        writeZeros(fd, f.getOffset(), zeroEnd);
      } else if (!keep) {
        long size = Posix.stat(fd, EMPTY, false).size();
        long end = f.getOffset() + f.getLength();
        if (end > size) {
          Posix.ftruncate(fd, end);
        }
      }
    }
    if (op.getMtime() != null) {
      Posix.futimens(fd, Posix.OMIT, op.getMtime());
    }
  }

  private void unlink(OpRecord op, byte[] path) throws PosixException, ApplyException {
    invalidateWriteFds();
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      if (skipped.remove(path)) {
        // A skipped device node: there is nothing to remove, only the name to forget.
        parentTime(d, op.getParentMtime());
        return;
      }
      try {
        Posix.unlink(d.fd, name);
      } catch (PosixException e) {
        if (e.is(Errno.EISDIR)) {
          throw diverged(op, "unlink: " + show(path) + " is a directory in the mirror");
        }
        if (!e.is(Errno.ENOENT)) {
          throw e;
        }
        // Re-application: already gone.
      }
      parentTime(d, op.getParentMtime());
    }
  }

  private void rmdir(OpRecord op, byte[] path) throws PosixException, ApplyException {
    invalidateWriteFds();
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      try {
        Posix.rmdir(d.fd, name);
      } catch (PosixException e) {
        if (e.is(Errno.ENOTEMPTY) || e.is(Errno.EEXIST)) {
          throw diverged(op, "rmdir: " + show(path) + " is not empty in the mirror");
        }
        if (e.is(Errno.ENOTDIR)) {
          throw diverged(op, "rmdir: " + show(path) + " is not a directory in the mirror");
        }
        if (!e.is(Errno.ENOENT)) {
          throw e;
        }
      }
      parentTime(d, op.getParentMtime());
    }
    skipped.removeBeneath(path); // none expected: the source removed an empty directory
  }

  private void rename(OpRecord op, byte[] path, Rename r) throws PosixException, ApplyException {
    invalidateWriteFds();
    byte[] to = Ops.bytes(r.getTo());
    try (Dir from = parent(op, path);
        Dir dest = parent(op, to)) {
      byte[] fromName = OpPaths.name(path);
      byte[] toName = OpPaths.name(to);
      if (skipped.contains(path)) {
        renameSkipped(op, path, to, dest, toName);
        parentTime(from, op.getParentMtime());
        parentTime(dest, r.getToParentMtime());
        return;
      }
      try {
        Posix.rename(from.fd, fromName, dest.fd, toName, 0);
        skipped.renamed(path, to);
      } catch (PosixException e) {
        if (e.is(Errno.ENOTEMPTY)
            || e.is(Errno.EEXIST)
            || e.is(Errno.EISDIR)
            || e.is(Errno.ENOTDIR)) {
          // The source could do this rename, so the mirror's entries differ from the source's.
          throw diverged(op, "rename onto " + show(to) + ": " + e.getMessage());
        }
        if (!e.is(Errno.ENOENT)) {
          throw e;
        }
        boolean srcGone = Posix.statOrNull(from.fd, fromName, false) == null;
        boolean dstThere = Posix.statOrNull(dest.fd, toName, false) != null || skipped.contains(to);
        if (!(srcGone && dstThere)) {
          throw diverged(op, "rename: source " + show(path) + " is missing in the mirror");
        }
        // Re-application: the rename was done.
      }
      parentTime(from, op.getParentMtime());
      parentTime(dest, r.getToParentMtime());
    }
  }

  /**
   * The rename of a skipped device node: the skip follows it to {@code to}; what the source's
   * rename replaced there (a non-directory) is removed from the mirror too.
   */
  private void renameSkipped(OpRecord op, byte[] path, byte[] to, Dir dest, byte[] toName)
      throws PosixException, ApplyException {
    Stat t = Posix.statOrNull(dest.fd, toName, false);
    if (t != null && t.isDirectory()) {
      throw diverged(
          op, "rename of a skipped device node onto " + show(to) + ", a directory in the mirror");
    }
    if (t != null) {
      Posix.unlink(dest.fd, toName);
    }
    skipped.renamed(path, to);
  }

  private void link(OpRecord op, byte[] path, Link l) throws PosixException, ApplyException {
    invalidateWriteFds();
    byte[] to = Ops.bytes(l.getTo());
    try (Dir from = parent(op, path);
        Dir dest = parent(op, to)) {
      byte[] fromName = OpPaths.name(path);
      byte[] toName = OpPaths.name(to);
      Stat src = Posix.statOrNull(from.fd, fromName, false);
      if (src == null && skipped.contains(path)) {
        // A further name of a skipped device node: skipped too.
        Stat dst = Posix.statOrNull(dest.fd, toName, false);
        if (dst != null) {
          throw diverged(op, "link: " + show(to) + " already exists as " + typeName(dst));
        }
        if (skipped.add(to)) {
          log.info(
              "skipped device node {} (a hard link to the skipped {}) at seq {}:"
                  + " tfs.special.files=skip",
              show(to),
              show(path),
              op.getSeq());
        }
        parentTime(dest, l.getToParentMtime());
        return;
      }
      if (src == null) {
        throw diverged(op, "link: source " + show(path) + " is missing in the mirror");
      }
      if (src.isDirectory()) {
        throw refused(op, "hard link to a directory");
      }
      try {
        Posix.link(from.fd, fromName, dest.fd, toName);
      } catch (PosixException e) {
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
        Stat dst = Posix.stat(dest.fd, toName, false);
        if (dst.ino() != src.ino() || dst.dev() != src.dev()) {
          throw diverged(op, "link: " + show(to) + " already exists as another file");
        }
      }
      parentTime(dest, l.getToParentMtime());
    }
    skipped.remove(to); // a real object holds the name now
  }

  private void symlink(OpRecord op, byte[] path, Symlink s) throws PosixException, ApplyException {
    byte[] target = Ops.bytes(s.getTarget());
    try (Dir d = parent(op, path)) {
      byte[] name = OpPaths.name(path);
      try {
        Posix.symlink(target, d.fd, name);
      } catch (PosixException e) {
        if (!e.is(Errno.EEXIST)) {
          throw e;
        }
        Stat st = Posix.stat(d.fd, name, false);
        if (!st.isSymlink() || !java.util.Arrays.equals(Posix.readlink(d.fd, name), target)) {
          throw diverged(op, "symlink: " + show(path) + " already exists as something else");
        }
      }
      owner(op, d.fd, name, s.getUid(), s.getGid(), false);
      objectTime(d.fd, name, op.getMtime());
      parentTime(d, op.getParentMtime());
    }
    skipped.remove(path); // a real object holds the name now
  }

  private void setattr(OpRecord op, byte[] path, SetAttr a) throws PosixException, ApplyException {
    try (Dir d = path.length == 0 ? new Dir(rootFd, false) : parent(op, path)) {
      byte[] name = path.length == 0 ? EMPTY : OpPaths.name(path);
      if (skipped.contains(path)) {
        return; // the attributes of a skipped device node: nothing to set
      }
      Stat s = Posix.statOrNull(d.fd, name, false);
      if (s == null) {
        throw diverged(op, "setattr: " + show(path) + " is missing in the mirror");
      }
      if (s.isSymlink() && a.getMode() != null) {
        throw refused(op, "chmod of a symlink (" + show(path) + ") would follow it");
      }
      if (a.getUid() != null || a.getGid() != null) {
        owner(
            op,
            d.fd,
            name,
            a.getUid() == null ? -1 : a.getUid(),
            a.getGid() == null ? -1 : a.getGid(),
            false);
      }
      if (a.getMode() != null) {
        Posix.chmod(d.fd, name, a.getMode());
      }
      long atime = a.getAtime() == null ? Posix.OMIT : a.getAtime();
      long mtime =
          a.getMtime() != null ? a.getMtime() : op.getMtime() != null ? op.getMtime() : Posix.OMIT;
      if (atime != Posix.OMIT || mtime != Posix.OMIT) {
        Posix.utimens(d.fd, name, atime, mtime);
      }
    }
  }

  private void setxattr(OpRecord op, byte[] path, SetXattr x)
      throws PosixException, ApplyException {
    try (Dir d = path.length == 0 ? new Dir(rootFd, false) : parent(op, path)) {
      byte[] name = path.length == 0 ? EMPTY : OpPaths.name(path);
      if (skipped.contains(path)) {
        return; // an xattr of a skipped device node: nothing to set
      }
      requireExists(op, d, name, path);
      byte[] value = Ops.bytes(x.getValue());
      try {
        fault("setxattr");
        Posix.setxattr(d.fd, name, Ops.bytes(x.getName()), value, 0);
      } catch (PosixException e) {
        if (e.is(Errno.E2BIG) || e.is(Errno.ERANGE) || (e.is(Errno.ENOSPC) && hasRoom(value))) {
          throw new ApplyException(
              ApplyException.Kind.XATTR_TOO_LARGE,
              op.getSeq(),
              "op "
                  + describe(op)
                  + " failed: "
                  + e.getMessage()
                  + "; the xattr value of "
                  + value.length
                  + " bytes exceeds what the mirror's file system allows for one xattr value (ext4"
                  + " without the ea_inode feature: one block, usually 4,096 bytes; Linux: at most"
                  + " 65,536 bytes), although the disk has room. Put the mirror on a file system"
                  + " whose xattr limit matches the source's (e.g. ext4 with ea_inode, XFS), or"
                  + " drop the xattr at the source",
              e);
        }
        throw e;
      }
    }
  }

  private void removexattr(OpRecord op, byte[] path, RemoveXattr x)
      throws PosixException, ApplyException {
    try (Dir d = path.length == 0 ? new Dir(rootFd, false) : parent(op, path)) {
      byte[] name = path.length == 0 ? EMPTY : OpPaths.name(path);
      if (skipped.contains(path)) {
        return; // an xattr of a skipped device node: nothing to remove
      }
      requireExists(op, d, name, path);
      Posix.removexattr(d.fd, name, Ops.bytes(x.getName()));
    }
  }

  // ------------------------------------------------------------------ helpers

  /** Makes the skipped names durable before the op counts as applied (see {@link SkippedNodes}). */
  private void saveSkipped(OpRecord op) throws ApplyException {
    try {
      skipped.save();
    } catch (java.io.IOException e) {
      throw new ApplyException(
          ApplyException.Kind.IO,
          op.getSeq(),
          "op "
              + describe(op)
              + " applied, but the list of skipped device nodes cannot be written: "
              + e.getMessage()
              + "; restart the task once the cause is fixed (the op is re-applied)",
          e);
    }
  }

  /** An open directory fd, closed unless it is the root's. */
  private static final class Dir implements AutoCloseable {
    final int fd;
    final boolean owned;

    Dir(int fd, boolean owned) {
      this.fd = fd;
      this.owned = owned;
    }

    @Override
    public void close() {
      if (owned) {
        Posix.closeQuietly(fd);
      }
    }
  }

  /** The parent directory of {@code path}, opened beneath the root without following symlinks. */
  private Dir parent(OpRecord op, byte[] path) throws ApplyException {
    byte[] parent = OpPaths.parent(path);
    if (parent.length == 0) {
      return new Dir(rootFd, false);
    }
    try {
      return new Dir(Posix.openBeneath(rootFd, parent, Flags.O_PATH | Flags.O_DIRECTORY, 0), true);
    } catch (PosixException e) {
      if (e.is(Errno.ELOOP) || e.is(Errno.EXDEV)) {
        throw refused(
            op,
            "the directory "
                + show(parent)
                + " is, or passes through, a symlink in the mirror; tfs never follows one (G5)");
      }
      if (e.is(Errno.ENOENT)) {
        throw diverged(
            op,
            "parent directory "
                + show(parent)
                + " is missing in the mirror (ops are applied in strict seq order, so the mirror"
                + " no longer matches the source)");
      }
      if (e.is(Errno.ENOTDIR)) {
        byte[] link = symlinkComponent(parent);
        if (link != null) {
          // The record asks to go through a symlink (the final component of a parent opened with
          // O_PATH|O_NOFOLLOW yields ENOTDIR rather than ELOOP): a confinement refusal.
          throw refused(
              op,
              "the directory "
                  + show(link)
                  + " on the way to "
                  + show(path)
                  + " is a symlink in the mirror; tfs never follows one (G5)");
        }
        throw diverged(op, "a component of " + show(parent) + " is not a directory in the mirror");
      }
      throw fromErrno(op, e);
    }
  }

  /** The first component of {@code dir} (a path beneath the root) that is a symlink, or null. */
  private byte[] symlinkComponent(byte[] dir) {
    for (int i = 0; i <= dir.length; i++) {
      if (i == dir.length || dir[i] == '/') {
        byte[] prefix = java.util.Arrays.copyOf(dir, i);
        Stat s;
        try {
          s = Posix.statOrNull(rootFd, prefix, false);
        } catch (PosixException | IllegalArgumentException e) {
          return null;
        }
        if (s == null || !s.isDirectory()) {
          return s != null && s.isSymlink() ? prefix : null;
        }
      }
    }
    return null;
  }

  /** True when the mirror's file system has clearly more room than {@code value} needs. */
  private boolean hasRoom(byte[] value) {
    try {
      return java.nio.file.Files.getFileStore(root).getUsableSpace() > value.length + (1L << 20);
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Test hook: the next posix call named {@code call} ({@code setxattr}, {@code pwrite}, {@code
   * ftruncate}) fails with {@code errno}, as a mirror file system at its limits would fail it.
   */
  void failNextForTest(String call, int errno) {
    faultCall = call;
    faultErrno = errno;
  }

  private void fault(String call) throws PosixException {
    if (call.equals(faultCall)) {
      faultCall = null;
      throw new PosixException(call, root.toString(), faultErrno);
    }
  }

  private void requireExists(OpRecord op, Dir d, byte[] name, byte[] path)
      throws PosixException, ApplyException {
    if (name.length > 0 && Posix.statOrNull(d.fd, name, false) == null) {
      throw diverged(op, OpKind.of(op).label() + ": " + show(path) + " is missing in the mirror");
    }
  }

  /** An fd open for writing on the regular file at {@code path}, cached for consecutive writes. */
  private int writeFd(OpRecord op, byte[] path) throws PosixException, ApplyException {
    ByteBuffer key = ByteBuffer.wrap(path);
    Integer cached = writeFds.get(key);
    if (cached != null) {
      return cached;
    }
    try (Dir d = parent(op, path)) {
      if (skipped.contains(path)) {
        throw diverged(
            op,
            show(path)
                + " is a device node this mirror skipped (tfs.special.files=skip); a source never"
                + " records content for a device node");
      }
      int fd = openForWrite(op, d.fd, OpPaths.name(path));
      cacheWriteFd(path, fd);
      return fd;
    }
  }

  /**
   * Opens an existing regular file for writing without following a symlink. O_NONBLOCK so a FIFO at
   * that name cannot block the task; the type is checked on the open fd. When the worker is not
   * root and the file is read-only for its owner, the owner write bit is added for the open and
   * restored (the source wrote through an fd it opened before the chmod).
   */
  private int openForWrite(OpRecord op, int dirfd, byte[] name)
      throws PosixException, ApplyException {
    int flags = Flags.O_WRONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK;
    Stat before = Posix.statOrNull(dirfd, name, false);
    if (before != null && (before.type() == Flags.S_IFCHR || before.type() == Flags.S_IFBLK)) {
      // Never open a device: opening one can act on the mirror host's hardware.
      throw diverged(
          op,
          show(Ops.path(op)) + " is " + typeName(before) + " in the mirror, not a regular file");
    }
    int fd;
    try {
      fd = Posix.openat(dirfd, name, flags, 0);
    } catch (PosixException e) {
      if (e.is(Errno.ELOOP)) {
        throw refused(op, "the file " + show(name) + " is a symlink in the mirror; not following");
      }
      if (e.is(Errno.ENOENT)) {
        throw diverged(op, "file " + show(Ops.path(op)) + " is missing in the mirror");
      }
      if (e.is(Errno.EISDIR)) {
        throw diverged(op, show(Ops.path(op)) + " is a directory in the mirror");
      }
      if (e.is(Errno.ENXIO)) {
        throw diverged(op, show(Ops.path(op)) + " is a FIFO or socket in the mirror");
      }
      Stat s = e.is(Errno.EACCES) && !isRoot ? Posix.statOrNull(dirfd, name, false) : null;
      if (s == null || !s.isRegular() || s.uid() != Posix.geteuid()) {
        throw e;
      }
      Posix.chmod(dirfd, name, s.permissions() | 0200);
      try {
        fd = Posix.openat(dirfd, name, flags, 0);
      } finally {
        Posix.chmod(dirfd, name, s.permissions());
      }
    }
    Stat s = Posix.stat(fd, EMPTY, false);
    if (!s.isRegular()) {
      Posix.closeQuietly(fd);
      throw diverged(
          op, show(Ops.path(op)) + " is a " + typeName(s) + " in the mirror, not a regular file");
    }
    return fd;
  }

  private void cacheWriteFd(byte[] path, int fd) {
    Integer old = writeFds.put(ByteBuffer.wrap(path.clone()), fd);
    if (old != null && old != fd) {
      Posix.closeQuietly(old);
    }
    if (writeFds.size() > WRITE_FD_CACHE) {
      Iterator<Map.Entry<ByteBuffer, Integer>> it = writeFds.entrySet().iterator();
      Map.Entry<ByteBuffer, Integer> eldest = it.next();
      Posix.closeQuietly(eldest.getValue());
      it.remove();
    }
  }

  /** Any namespace change may make a cached path name another file: forget them all. */
  private void invalidateWriteFds() {
    for (int fd : writeFds.values()) {
      Posix.closeQuietly(fd);
    }
    writeFds.clear();
  }

  private void owner(OpRecord op, int dirfd, byte[] name, int uid, int gid, boolean isFd)
      throws PosixException, ApplyException {
    if (!setOwners || (uid == -1 && gid == -1)) {
      return;
    }
    try {
      if (isFd) {
        if (Posix.libc().fchown(dirfd, uid, gid) != 0) {
          throw new PosixException("fchown", show(Ops.path(op)), Posix.errno());
        }
      } else {
        Posix.chown(dirfd, name, uid, gid);
      }
    } catch (PosixException e) {
      if (e.is(Errno.EPERM)) {
        throw new ApplyException(
            ApplyException.Kind.PERMISSION,
            op.getSeq(),
            "cannot set owner "
                + uid
                + ":"
                + gid
                + " of "
                + show(Ops.path(op))
                + " (seq "
                + op.getSeq()
                + "): "
                + e.getMessage()
                + ". Run the worker as root, or set tfs.owner.policy=auto or ignore.",
            e);
      }
      throw e;
    }
  }

  private static void objectTime(int dirfd, byte[] name, Long mtime) throws PosixException {
    if (mtime != null) {
      Posix.utimens(dirfd, name, Posix.OMIT, mtime);
    }
  }

  private static void parentTime(Dir d, Long mtime) throws PosixException {
    if (mtime != null) {
      Posix.utimens(d.fd, EMPTY, Posix.OMIT, mtime);
    }
  }

  private void writeZeros(int fd, long from, long to) throws PosixException {
    scratch.setMemory(0, SCRATCH_BYTES, (byte) 0);
    for (long at = from; at < to; ) {
      long n = Math.min(SCRATCH_BYTES, to - at);
      Posix.pwriteFully(fd, scratch, n, at);
      at += n;
    }
  }

  /**
   * Makes everything applied so far durable: fsyncs the cached write fds, then {@code syncfs(2)}
   * the mirror's file system (which also covers directories changed by renames, files closed
   * earlier and metadata). One call instead of tracking every touched inode; on a mirror that
   * shares its file system with busy writers, prefer {@code tfs.fsync=none} plus a journaled file
   * system.
   */
  public void sync() throws PosixException {
    if (!dirty) {
      return;
    }
    for (int fd : writeFds.values()) {
      Posix.fsync(fd);
    }
    // syncfs needs a real fd: the root fd is O_PATH.
    int fd = Posix.openat(rootFd, new byte[] {'.'}, Flags.O_RDONLY | Flags.O_DIRECTORY, 0);
    try {
      if (Posix.libc().syncfs(fd) != 0) {
        throw new PosixException("syncfs", root.toString(), Posix.errno());
      }
    } finally {
      Posix.closeQuietly(fd);
    }
    dirty = false;
  }

  /** Closes the cached fds and the root fd. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    invalidateWriteFds();
    Posix.closeQuietly(rootFd);
  }

  // ------------------------------------------------------------------ errors

  private ApplyException refused(OpRecord op, String why) {
    return new ApplyException(
        ApplyException.Kind.REFUSED, op.getSeq(), "refused op " + describe(op) + ": " + why, null);
  }

  private ApplyException diverged(OpRecord op, String why) {
    return new ApplyException(
        ApplyException.Kind.DIVERGED,
        op.getSeq(),
        "cannot apply op "
            + describe(op)
            + ": "
            + why
            + ". The mirror at "
            + root
            + " has diverged from the source; rebuild it into a new empty tfs.mirror.root.",
        null);
  }

  private ApplyException fromErrno(OpRecord op, PosixException e) {
    ApplyException.Kind kind;
    String advice;
    if (e.is(Errno.ENOSPC) || e.is(Errno.EDQUOT)) {
      kind = ApplyException.Kind.NO_SPACE;
      advice =
          "the mirror's file system is full or over quota; free space under "
              + root
              + " and restart the task (the op is re-applied)";
    } else if (e.is(Errno.EFBIG)) {
      kind = ApplyException.Kind.FILE_TOO_LARGE;
      advice =
          "the file would be larger than the largest file the mirror's file system under "
              + root
              + " allows (e.g. 16 TiB on ext4 with 4 KiB blocks); put the mirror on a file system"
              + " that holds files this large and restart the task (the op is re-applied)";
    } else if (e.is(Errno.EPERM) || e.is(Errno.EACCES) || e.is(Errno.EROFS)) {
      kind = ApplyException.Kind.PERMISSION;
      advice =
          "the worker lacks permission under "
              + root
              + "; fix ownership/permissions (or run as root) and restart the task";
    } else if (e.is(Errno.ELOOP)) {
      kind = ApplyException.Kind.REFUSED;
      advice = "a symlink in the mirror is in the way; tfs never follows one (G5)";
    } else {
      kind = ApplyException.Kind.IO;
      advice = "restart the task once the cause is fixed (the op is re-applied)";
    }
    return new ApplyException(
        kind, op.getSeq(), "op " + describe(op) + " failed: " + e.getMessage() + "; " + advice, e);
  }

  private static String describe(OpRecord op) {
    try {
      return Ops.describe(op);
    } catch (RuntimeException e) {
      return "seq " + op.getSeq();
    }
  }

  private static String show(byte[] path) {
    return OpPaths.display(path);
  }

  private static String typeName(Stat s) {
    if (s.isRegular()) {
      return "a regular file";
    }
    if (s.isDirectory()) {
      return "a directory";
    }
    if (s.isSymlink()) {
      return "a symlink";
    }
    if (s.isFifo()) {
      return "a FIFO";
    }
    if (s.isSocket()) {
      return "a socket";
    }
    if (s.type() == Flags.S_IFCHR || s.type() == Flags.S_IFBLK) {
      return (s.type() == Flags.S_IFCHR ? "a char device " : "a block device ")
          + s.rdevMajor()
          + ":"
          + s.rdevMinor();
    }
    return "a special file";
  }

  /** Test hook: the paths with a cached write fd. */
  List<byte[]> cachedWritePaths() {
    List<byte[]> out = new ArrayList<>();
    for (ByteBuffer b : writeFds.keySet()) {
      out.add(Ops.bytes(b));
    }
    return out;
  }
}
