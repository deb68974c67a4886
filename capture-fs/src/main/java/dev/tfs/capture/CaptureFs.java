package dev.tfs.capture;

import dev.tfs.capture.StoreOps.AttrFields;
import dev.tfs.capture.fs.HiddenFiles;
import dev.tfs.capture.fs.Names;
import dev.tfs.capture.fs.PassthroughFs;
import dev.tfs.journal.IntentRecord;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Write;
import dev.tfs.posix.Errno;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.util.List;
import jnr.ffi.Pointer;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The capture layer: a {@link PassthroughFs} whose every mutating call that succeeds on the store
 * becomes an op in the journal before the caller hears of the success.
 *
 * <p><b>Protocol</b> (per call, all under the ordering locks): {@code journal.intent} (a small
 * descriptor, no data) → apply to the store → on success stat what changed and {@code
 * journal.commit} the op(s), then reply success; on failure {@code journal.abort} and reply the
 * error. A crash between intent and commit leaves an unresolved intent that {@link Recovery}
 * reconciles with the store before the next mount (G1). If the journal itself fails after the store
 * changed, the file system stops accepting changes (every later mutating call fails with EIO) so
 * the journal never records ops out of store order; a restart reconciles.
 *
 * <p><b>Ordering</b> (G2: seq order = the order ops took effect on the store): every call runs
 * under {@link CaptureLocks}, taken in their one order (namespace lock, path locks, one inode lock;
 * that class says what each guarantees):
 *
 * <ul>
 *   <li>rename holds the namespace <em>write</em> lock: it moves whole subtrees;
 *   <li>create, mkdir, mknod, symlink, unlink and rmdir lock the entry's path and its parent's;
 *       link the existing name, the new name and the new name's parent; calls on a path or an open
 *       file lock that path (for a file, the name its handle shows now: {@code
 *       OpenHandles.Handle.lockName});
 *   <li>unlink and link also lock the file's inode; data and attribute calls lock the inode they
 *       change.
 * </ul>
 *
 * <p><b>Open files</b> are tracked by {@link OpenHandles} with their current name, so a write
 * through an fd is recorded under the name the file has when the write takes effect. A write
 * through a handle whose file has no name left is applied to the store and not captured.
 *
 * <p><b>Op bodies</b> come from {@link StoreOps}, the same code {@link Recovery} uses for an intent
 * a crash left unresolved.
 */
public class CaptureFs extends PassthroughFs {
  private static final Logger LOG = LoggerFactory.getLogger(CaptureFs.class);

  private final JournalWriter journal;
  private final CaptureMetrics metrics;
  private final CaptureLocks locks = new CaptureLocks();
  private final OpenHandles handles;
  private final StoreOps store;
  private volatile String broken;

  public CaptureFs(int root, JournalWriter journal, CaptureMetrics metrics) {
    super(root);
    this.journal = journal;
    this.metrics = metrics;
    this.handles = new OpenHandles(root);
    this.store = new StoreOps(journal, root);
  }

  /** Why the file system stopped accepting changes, or null while it works. */
  public String brokenReason() {
    return broken;
  }

  // ------------------------------------------------------------------ the protocol

  /** A store action that may fail with a syscall error. */
  @FunctionalInterface
  private interface Apply<T> {
    T run() throws PosixException;
  }

  /** The ops an applied action became (stat after the op; may fail). */
  @FunctionalInterface
  private interface OpsOf<T> {
    List<OpDraft> ops(T result) throws PosixException;
  }

  /** A store action with no result. */
  @FunctionalInterface
  private interface Action {
    void run() throws PosixException;
  }

  private static Apply<Void> action(Action a) {
    return () -> {
      a.run();
      return null;
    };
  }

  private void checkUsable() {
    String b = broken;
    if (b != null) {
      throw new FsError(Errno.EIO, "capture stopped: " + b);
    }
  }

  /** intent → apply → commit (or abort): the protocol of the class comment. */
  private <T> T captured(IntentRecord intent, Apply<T> apply, OpsOf<T> record)
      throws PosixException {
    checkUsable();
    long t0 = System.nanoTime();
    long id;
    try {
      id = journal.intent(intent);
    } catch (RuntimeException e) {
      // Nothing touched the store: the call fails, the file system stays usable.
      LOG.error("journal refused an intent ({}); failing the call", e.toString());
      throw new FsError(Errno.EIO, "journal: " + e.getMessage());
    }
    metrics.intentNanos(System.nanoTime() - t0);
    T result;
    try {
      result = apply.run();
    } catch (PosixException | RuntimeException e) {
      try {
        journal.abort(id);
      } catch (RuntimeException a) {
        stop("abort failed: " + a, a);
      }
      throw e;
    }
    try {
      List<OpDraft> ops = record.ops(result);
      if (ops.isEmpty()) {
        journal.abort(id);
      } else {
        journal.commit(id, ops);
        metrics.captured(intent.kind(), ops.size(), dataBytes(ops));
      }
    } catch (PosixException | RuntimeException e) {
      stop("the store changed but the op could not be journaled: " + e, e);
      throw new FsError(Errno.EIO, "journal: " + e.getMessage());
    }
    return result;
  }

  private void stop(String why, Throwable t) {
    if (broken == null) {
      broken = why;
      LOG.error(
          "tfs-capture stops accepting changes: {}. Reads still work; restart tfs-capture to"
              + " reconcile the store with the journal.",
          why,
          t);
      metrics.broken(why);
    }
  }

  private static long dataBytes(List<OpDraft> ops) {
    long n = 0;
    for (OpDraft d : ops) {
      if (d.body() instanceof Write w) {
        n += w.getData().remaining();
      }
    }
    return n;
  }

  // ------------------------------------------------------------------ locking a call

  @FunctionalInterface
  private interface Body {
    void run() throws PosixException;
  }

  @FunctionalInterface
  private interface HandleBody {
    int run(int fd, byte[] path) throws PosixException;
  }

  /** Runs {@code body} under the namespace write lock (rename). */
  private int exclusiveOp(String call, String path, Body body) {
    CaptureLocks.Held held = locks.exclusive();
    try {
      body.run();
      return 0;
    } catch (Throwable t) {
      return fail(t, call, path);
    } finally {
      held.close();
    }
  }

  /**
   * Runs a namespace change under the path locks of {@code paths} and, when {@code inodeOf} names
   * an existing object, that object's inode lock.
   */
  private int namespaceOp(String call, String path, byte[][] paths, byte[] inodeOf, Body body) {
    try (CaptureLocks.Held held = locks.shared(paths)) {
      if (inodeOf != null) {
        // Stable while its path lock is held: only calls holding that lock change the name.
        Stat st = statOrNull(inodeOf);
        if (st != null) {
          held.inode(st.ino());
        }
      }
      body.run();
      return 0;
    } catch (Throwable t) {
      return fail(t, call, path);
    }
  }

  /** An entry and its parent directory: the path locks of a create or a remove. */
  private static byte[][] entry(byte[] rel) {
    return new byte[][] {parentOf(rel), rel};
  }

  /** Runs {@code body} under the path lock of {@code rel} and the lock of its inode. */
  private int inodeOp(String call, String path, byte[] rel, Body body) {
    try (CaptureLocks.Held held = locks.shared(rel)) {
      held.inode(stat(rel).ino());
      body.run();
      return 0;
    } catch (Throwable t) {
      return fail(t, call, path);
    }
  }

  /**
   * Runs {@code body} for a call on an open fh, under the path lock of the name its handle shows
   * now (when it has one) and the inode's lock; {@code body} gets that name (null: none).
   */
  private int handleOp(String call, FuseFileInfo fi, HandleBody body) {
    int fd = fd(fi);
    OpenHandles.Handle h = handles.get(fd);
    byte[] name = null;
    try (CaptureLocks.Held held = locks.shared()) {
      name = h == null ? null : h.lockName(held);
      held.inode(h != null ? h.ino : fstat(fd).ino());
      return body.run(fd, name);
    } catch (Throwable t) {
      return fail(t, call, name == null ? "(unlinked)" : Posix.show(name));
    }
  }

  /**
   * Runs {@code body} for a setattr-family call on a hidden file (an open file whose last name was
   * removed, {@link dev.tfs.capture.fs.HiddenFiles}), on its fd, under the path lock of a name the
   * file still has (another hard link, as a handle of it shows; {@code body} gets it, or null) and
   * the inode's lock. For a setattr-family call ({@code replyFollows}) marks the library's getattr
   * reply that follows (see {@link #setattrReply}).
   */
  private int hiddenOp(
      String call, String path, HiddenFiles.Orphan o, boolean replyFollows, HandleBody body) {
    byte[] name = null;
    try (CaptureLocks.Held held = locks.shared()) {
      name = handles.lockNameOf(o.ino(), held);
      held.inode(o.ino());
      body.run(o.fd(), name);
      setattrReply(replyFollows);
      return 0;
    } catch (Throwable t) {
      setattrReply(false);
      return fail(t, call, name == null ? path : Posix.show(name));
    }
  }

  // ------------------------------------------------------------------ open files

  @Override
  public int open(String path, FuseFileInfo fi) {
    byte[] rel = Names.rel(path);
    // Under the name's path lock: a name not yet committed cannot be opened, and an unlink or
    // rename cannot slip between opening the store file and tracking the handle's name.
    CaptureLocks.Held held = locks.shared(rel);
    try {
      int r = super.open(path, fi);
      if (r == 0) {
        handles.opened(fd(fi), rel);
      }
      return r;
    } finally {
      held.close();
    }
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    handles.released(fd(fi));
    return super.release(path, fi);
  }

  // ------------------------------------------------------------------ namespace calls

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    byte[] rel = Names.rel(path);
    int flags = fi.flags.get();
    int perms = (int) mode & 07777;
    Caller c = caller();
    return namespaceOp(
        "create",
        path,
        entry(rel),
        null,
        () -> {
          boolean[] created = new boolean[1];
          int fd =
              captured(
                  IntentRecord.builder(OpKind.CREATE, rel).mode(perms).build(),
                  () -> storeCreate(rel, flags, perms, c, created),
                  f -> created[0] ? store.created(rel, fstat(f), null) : List.of());
          fi.fh.set(fd);
          handles.opened(fd, rel);
          if (!created[0] && (flags & Flags.O_TRUNC) != 0) {
            truncateFd(fd, rel, 0);
          }
        });
  }

  @Override
  public int mkdir(String path, @mode_t long mode) {
    byte[] rel = Names.rel(path);
    int perms = (int) mode & 07777;
    Caller c = caller();
    return namespaceOp(
        "mkdir",
        path,
        entry(rel),
        null,
        () ->
            captured(
                IntentRecord.builder(OpKind.MKDIR, rel).mode(perms).build(),
                action(() -> storeMkdir(rel, perms, c)),
                x -> store.created(rel, stat(rel), null)));
  }

  @Override
  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    byte[] rel = Names.rel(path);
    Caller c = caller();
    int type = (int) mode & Flags.S_IFMT;
    boolean regular = type == Flags.S_IFREG || type == 0;
    return namespaceOp(
        "mknod",
        path,
        entry(rel),
        null,
        () ->
            captured(
                IntentRecord.builder(regular ? OpKind.CREATE : OpKind.MKNOD, rel)
                    .mode((int) mode)
                    .build(),
                action(() -> storeMknod(rel, (int) mode, rdev, c)),
                x -> store.created(rel, stat(rel), null)));
  }

  @Override
  public int symlink(String target, String linkpath) {
    byte[] rel = Names.rel(linkpath);
    byte[] t = Names.bytes(target);
    Caller c = caller();
    return namespaceOp(
        "symlink",
        linkpath,
        entry(rel),
        null,
        () ->
            captured(
                IntentRecord.builder(OpKind.SYMLINK, rel).target(t).build(),
                action(() -> storeSymlink(t, rel, c)),
                x -> store.created(rel, stat(rel), t)));
  }

  @Override
  public int link(String oldpath, String newpath) {
    byte[] from = Names.rel(oldpath);
    byte[] to = Names.rel(newpath);
    return namespaceOp(
        "link",
        newpath,
        new byte[][] {from, parentOf(to), to},
        from,
        () ->
            captured(
                IntentRecord.link(from, to),
                action(() -> storeLink(from, to)),
                x -> List.of(store.link(from, to))));
  }

  @Override
  public int unlink(String path) {
    byte[] rel = Names.rel(path);
    if (hidden.get(rel) != null) {
      return super.unlink(path); // the hidden name only: never in the store, never captured
    }
    return namespaceOp(
        "unlink",
        path,
        entry(rel),
        rel,
        () -> {
          captured(
              IntentRecord.of(OpKind.UNLINK, rel),
              action(() -> storeUnlink(rel)),
              x -> List.of(store.unlink(rel)));
          handles.unlinked(rel);
        });
  }

  @Override
  public int rmdir(String path) {
    byte[] rel = Names.rel(path);
    // No inode lock: a directory has no open handles here and no other names, and every call on
    // it holds its path lock, which this holds too.
    return namespaceOp(
        "rmdir",
        path,
        entry(rel),
        null,
        () ->
            captured(
                IntentRecord.of(OpKind.RMDIR, rel),
                action(() -> storeRmdir(rel)),
                x -> List.of(store.rmdir(rel))));
  }

  @Override
  public int rename(String oldpath, String newpath) {
    byte[] from = Names.rel(oldpath);
    byte[] to = Names.rel(newpath);
    if (HiddenFiles.isHiddenName(to)) {
      // libfuse hides an open file: captured as the unlink it is (unlinkHidden), or not at all
      // when a rename over the file follows (that rename is captured as before). A caller in
      // rename(2) may also be a user naming a file so: a hide only when the name has an open
      // handle (the library hides only those); else a plain rename, below.
      boolean renaming = callerRenames();
      if (!renaming || hidden.get(from) != null || handles.anyAt(from)) {
        return hide(oldpath, from, to, renaming);
      }
    }
    return exclusiveOp(
        "rename",
        oldpath,
        () -> {
          captured(
              IntentRecord.rename(from, to),
              action(() -> storeRename(from, to)),
              x -> List.of(store.rename(from, to)));
          handles.renamed(from, to);
        });
  }

  // ------------------------------------------------------------------ attribute calls

  @Override
  public int chmod(String path, @mode_t long mode) {
    byte[] rel = Names.rel(path);
    int perms = (int) mode & 07777;
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "chmod",
          path,
          o,
          true,
          (fd, name) -> {
            if (name == null) {
              metrics.uncaptured();
              Posix.fchmod(fd, perms);
              return 0;
            }
            captured(
                IntentRecord.builder(OpKind.SETATTR, name).mode(perms).build(),
                action(() -> Posix.fchmod(fd, perms)),
                x -> List.of(store.setAttr(name, fstat(fd), AttrFields.chmod())));
            return 0;
          });
    }
    return inodeOp(
        "chmod",
        path,
        rel,
        () ->
            captured(
                IntentRecord.builder(OpKind.SETATTR, rel).mode(perms).build(),
                action(() -> storeChmod(rel, perms)),
                x -> List.of(store.setAttr(rel, stat(rel), AttrFields.chmod()))));
  }

  @Override
  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    byte[] rel = Names.rel(path);
    int u = (int) uid;
    int g = (int) gid;
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "chown",
          path,
          o,
          true,
          (fd, name) -> {
            if (name == null) {
              metrics.uncaptured();
              fchown(fd, u, g);
              return 0;
            }
            captured(
                IntentRecord.builder(OpKind.SETATTR, name)
                    .uid(u == -1 ? null : u)
                    .gid(g == -1 ? null : g)
                    .build(),
                action(() -> fchown(fd, u, g)),
                x -> List.of(store.setAttr(name, fstat(fd), AttrFields.chown(u != -1, g != -1))));
            return 0;
          });
    }
    return inodeOp(
        "chown",
        path,
        rel,
        () ->
            captured(
                IntentRecord.builder(OpKind.SETATTR, rel)
                    .uid(u == -1 ? null : u)
                    .gid(g == -1 ? null : g)
                    .build(),
                action(() -> storeChown(rel, u, g)),
                x -> List.of(store.setAttr(rel, stat(rel), AttrFields.chown(u != -1, g != -1)))));
  }

  @Override
  public int utimens(String path, Timespec[] timespec) {
    byte[] rel = Names.rel(path);
    long[] t = times(timespec);
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "utimens",
          path,
          o,
          true,
          (fd, name) -> {
            if (name == null) {
              metrics.uncaptured();
              Posix.futimens(fd, t[0], t[1]);
              return 0;
            }
            captured(
                IntentRecord.builder(OpKind.SETATTR, name)
                    .atime(t[0] == Posix.OMIT || t[0] == Posix.NOW ? null : t[0])
                    .mtime(t[1] == Posix.OMIT || t[1] == Posix.NOW ? null : t[1])
                    .build(),
                action(() -> Posix.futimens(fd, t[0], t[1])),
                x ->
                    List.of(
                        store.setAttr(
                            name,
                            fstat(fd),
                            AttrFields.utimens(t[0] != Posix.OMIT, t[1] != Posix.OMIT))));
            return 0;
          });
    }
    return inodeOp(
        "utimens",
        path,
        rel,
        () ->
            captured(
                IntentRecord.builder(OpKind.SETATTR, rel)
                    .atime(t[0] == Posix.OMIT || t[0] == Posix.NOW ? null : t[0])
                    .mtime(t[1] == Posix.OMIT || t[1] == Posix.NOW ? null : t[1])
                    .build(),
                action(() -> storeUtimens(rel, t[0], t[1])),
                x ->
                    List.of(
                        store.setAttr(
                            rel,
                            stat(rel),
                            AttrFields.utimens(t[0] != Posix.OMIT, t[1] != Posix.OMIT)))));
  }

  @Override
  public int truncate(String path, @off_t long size) {
    byte[] rel = Names.rel(path);
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "truncate",
          path,
          o,
          true,
          (fd, name) -> {
            if (name == null) {
              metrics.uncaptured();
              truncateHidden(fd, size);
              return 0;
            }
            captured(
                IntentRecord.truncate(name, size),
                action(() -> truncateHidden(fd, size)),
                x -> List.of(store.truncate(name, fstat(fd))));
            return 0;
          });
    }
    return inodeOp(
        "truncate",
        path,
        rel,
        () ->
            captured(
                IntentRecord.truncate(rel, size),
                action(() -> storeTruncate(rel, size)),
                x -> List.of(store.truncate(rel, stat(rel)))));
  }

  private void truncateFd(int fd, byte[] rel, long size) throws PosixException {
    if (rel == null) {
      Posix.ftruncate(fd, size);
      return;
    }
    captured(
        IntentRecord.truncate(rel, size),
        action(() -> Posix.ftruncate(fd, size)),
        x -> List.of(store.truncate(rel, fstat(fd))));
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    int r =
        handleOp(
            "ftruncate",
            fi,
            (fd, rel) -> {
              truncateFd(fd, rel, size);
              return 0;
            });
    ftruncated(path, r == 0);
    return r;
  }

  @Override
  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    byte[] rel = Names.rel(path);
    byte[] n = Names.bytes(name);
    byte[] v = new byte[(int) size];
    value.get(0, v, 0, v.length);
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "setxattr",
          path,
          o,
          false,
          (fd, other) -> {
            if (other == null) {
              metrics.uncaptured();
              storeSetxattr(rel, n, v, flags);
              return 0;
            }
            captured(
                IntentRecord.builder(OpKind.SETXATTR, other).xattrName(n).build(),
                action(() -> storeSetxattr(rel, n, v, flags)),
                x -> List.of(store.setXattr(other, n, v)));
            return 0;
          });
    }
    return inodeOp(
        "setxattr",
        path,
        rel,
        () ->
            captured(
                IntentRecord.builder(OpKind.SETXATTR, rel).xattrName(n).build(),
                action(() -> storeSetxattr(rel, n, v, flags)),
                x -> List.of(store.setXattr(rel, n, v))));
  }

  @Override
  public int removexattr(String path, String name) {
    byte[] rel = Names.rel(path);
    byte[] n = Names.bytes(name);
    HiddenFiles.Orphan o = hidden.get(rel);
    if (o != null) {
      return hiddenOp(
          "removexattr",
          path,
          o,
          false,
          (fd, other) -> {
            if (other == null) {
              metrics.uncaptured();
              storeRemovexattr(rel, n);
              return 0;
            }
            captured(
                IntentRecord.builder(OpKind.REMOVEXATTR, other).xattrName(n).build(),
                action(() -> storeRemovexattr(rel, n)),
                x -> List.of(store.removeXattr(other, n)));
            return 0;
          });
    }
    return inodeOp(
        "removexattr",
        path,
        rel,
        () ->
            captured(
                IntentRecord.builder(OpKind.REMOVEXATTR, rel).xattrName(n).build(),
                action(() -> storeRemovexattr(rel, n)),
                x -> List.of(store.removeXattr(rel, n))));
  }

  // ------------------------------------------------------------------ data calls

  @Override
  public int write(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return handleOp(
        "write",
        fi,
        (fd, rel) -> {
          if (rel == null) {
            // Unlinked while open and no other link remains: no name to record the write under,
            // and no name through which a mirror could show it.
            metrics.uncaptured();
            return storeWrite(fd, buf, size, offset);
          }
          int n = (int) size;
          return captured(
              IntentRecord.write(rel, offset, n),
              () -> storeWrite(fd, buf, size, offset),
              written -> {
                // The one copy the journal needs: kernel buffer -> record bytes.
                byte[] data = new byte[n];
                buf.get(0, data, 0, n);
                return store.write(rel, offset, data, 0, n, fstat(fd).mtimeNs());
              });
        });
  }

  @Override
  public int fallocate(
      String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
    return handleOp(
        "fallocate",
        fi,
        (fd, rel) -> {
          if (rel == null) {
            Posix.fallocate(fd, mode, off, length);
            return 0;
          }
          captured(
              IntentRecord.builder(OpKind.FALLOCATE, rel)
                  .mode(mode)
                  .offset(off)
                  .length(length)
                  .build(),
              action(() -> Posix.fallocate(fd, mode, off, length)),
              x -> List.of(store.fallocate(rel, mode, off, length, fstat(fd))));
          return 0;
        });
  }

  @Override
  public int fsync(String path, int isdatasync, FuseFileInfo fi) {
    int r = super.fsync(path, isdatasync, fi);
    if (r != 0) {
      return r;
    }
    try {
      // The application's durability promise covers the journal too.
      journal.sync();
      metrics.fsync();
      return 0;
    } catch (RuntimeException e) {
      return fail(e, "fsync", path);
    }
  }
}
