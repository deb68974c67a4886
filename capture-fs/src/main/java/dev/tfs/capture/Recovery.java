package dev.tfs.capture;

import static dev.tfs.capture.CaptureFs.now;
import static dev.tfs.capture.CaptureFs.op;

import dev.tfs.journal.Intent;
import dev.tfs.journal.IntentRecord;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Fallocate;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.RemoveXattr;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.Rmdir;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Unlink;
import dev.tfs.path.OpPaths;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the intents a crash left unresolved, before the mount serves anything ("redo or
 * reconcile"): each one is compared with the store and either committed with what the store now
 * holds, or aborted when the op evidently did not happen.
 *
 * <p>Why this is enough: an intent is recorded before the store is touched and the caller hears of
 * success only after the commit, and the ordering locks make an unresolved intent the last op on
 * its object (and, for namespace ops, the last op at all). So logging the store's current state for
 * that object cannot reorder anything, and when the op did not happen the logged state equals what
 * the journal already implies (a no-op on replay).
 *
 * <ul>
 *   <li>write: the store's current bytes of the range (clipped to the file size), or abort when the
 *       file is gone or ends before the range;
 *   <li>truncate: the store's current size; fallocate: redone (it is idempotent);
 *   <li>create, mkdir, mknod, symlink: logged with the store's mode/owner/target when the object
 *       exists with the right type;
 *   <li>unlink, rmdir: logged when the name is gone; rename: when the source is gone and the target
 *       present; link: when both names are the same inode;
 *   <li>setattr: the store's current values of the fields the intent named; setxattr: the current
 *       value when set; removexattr: logged when the attribute is absent.
 * </ul>
 */
public final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  /** Outcome counts, for the log and tests. */
  public record Result(int committed, int aborted) {}

  /** Resolves every unresolved intent of {@code journal} against the store at {@code root}. */
  public static Result reconcile(JournalWriter journal, int root) throws PosixException {
    int committed = 0;
    int aborted = 0;
    for (Intent in : journal.unresolvedIntents()) {
      List<OpDraft> ops = opsFor(journal, root, in.record());
      if (ops.isEmpty()) {
        journal.abort(in.id());
        aborted++;
        LOG.info("recovery: {} did not take effect; aborted", in);
      } else {
        journal.commit(in.id(), ops);
        committed++;
        LOG.info("recovery: {} is on the store; committed as {} op(s)", in, ops.size());
      }
    }
    if (committed + aborted > 0) {
      journal.sync();
    }
    return new Result(committed, aborted);
  }

  private static Stat st(int root, byte[] p) throws PosixException {
    return Posix.statOrNull(root, p, false);
  }

  private static Long parentMtime(int root, byte[] p) throws PosixException {
    Stat s = st(root, OpPaths.parent(p));
    return s == null ? null : s.mtimeNs();
  }

  static List<OpDraft> opsFor(JournalWriter journal, int root, IntentRecord r)
      throws PosixException {
    byte[] p = r.path();
    Stat s = p.length == 0 ? Posix.stat(root, p, false) : st(root, p);
    List<OpDraft> out = new ArrayList<>();
    switch (r.kind()) {
      case WRITE:
        {
          if (s == null || !s.isRegular() || s.size() <= r.offset()) {
            return out;
          }
          long len = Math.min(r.length(), s.size() - r.offset());
          byte[] data = new byte[(int) len];
          int fd = Posix.openat(root, p, Flags.O_RDONLY | Flags.O_NOFOLLOW, 0);
          try {
            byte[] buf = new byte[(int) Math.min(len, 1 << 20)];
            int done = 0;
            while (done < len) {
              int n =
                  Posix.pread(fd, buf, (int) Math.min(buf.length, len - done), r.offset() + done);
              if (n <= 0) {
                break;
              }
              System.arraycopy(buf, 0, data, done, n);
              done += n;
            }
          } finally {
            Posix.closeQuietly(fd);
          }
          return journal.writeOps(p, r.offset(), data, 0, data.length, now(), s.mtimeNs());
        }
      case TRUNCATE:
        if (s != null && s.isRegular()) {
          out.add(op(p, new Truncate(s.size()), s.mtimeNs(), null));
        }
        return out;
      case FALLOCATE:
        if (s != null && s.isRegular()) {
          int fd = Posix.openat(root, p, Flags.O_WRONLY | Flags.O_NOFOLLOW, 0);
          try {
            Posix.fallocate(fd, r.mode(), r.offset(), r.length());
          } finally {
            Posix.closeQuietly(fd);
          }
          Stat after = Posix.stat(root, p, false);
          out.add(op(p, new Fallocate(r.mode(), r.offset(), r.length()), after.mtimeNs(), null));
        }
        return out;
      case CREATE:
        if (s != null && s.isRegular()) {
          out.add(
              op(
                  p,
                  new Create(s.permissions(), s.uid(), s.gid()),
                  s.mtimeNs(),
                  parentMtime(root, p)));
          if (s.size() > 0) {
            // Cannot happen (the creator never got the fd), but never leave content unlogged.
            out.add(op(p, new Truncate(s.size()), s.mtimeNs(), null));
          }
        }
        return out;
      case MKDIR:
        if (s != null && s.isDirectory()) {
          out.add(
              op(
                  p,
                  new Mkdir(s.permissions(), s.uid(), s.gid()),
                  s.mtimeNs(),
                  parentMtime(root, p)));
        }
        return out;
      case MKNOD:
        if (s != null && (s.isFifo() || s.isSocket())) {
          out.add(op(p, new Mknod(s.mode(), s.uid(), s.gid()), s.mtimeNs(), parentMtime(root, p)));
        }
        return out;
      case SYMLINK:
        if (s != null && s.isSymlink()) {
          byte[] target = Posix.readlink(root, p);
          out.add(
              op(
                  p,
                  new Symlink(ByteBuffer.wrap(target), s.uid(), s.gid()),
                  s.mtimeNs(),
                  parentMtime(root, p)));
        }
        return out;
      case UNLINK:
        if (s == null) {
          out.add(op(p, new Unlink(), null, parentMtime(root, p)));
        }
        return out;
      case RMDIR:
        if (s == null) {
          out.add(op(p, new Rmdir(), null, parentMtime(root, p)));
        }
        return out;
      case RENAME:
        {
          byte[] to = r.to();
          if (s == null && st(root, to) != null) {
            out.add(
                op(
                    p,
                    new Rename(ByteBuffer.wrap(to), parentMtime(root, to)),
                    null,
                    parentMtime(root, p)));
          }
          return out;
        }
      case LINK:
        {
          byte[] to = r.to();
          Stat t = st(root, to);
          if (s != null && t != null && s.ino() == t.ino() && s.dev() == t.dev()) {
            out.add(op(p, new Link(ByteBuffer.wrap(to), parentMtime(root, to)), null, null));
          }
          return out;
        }
      case SETATTR:
        if (s != null) {
          SetAttr.Builder a = SetAttr.newBuilder();
          if (r.mode() != null && !s.isSymlink()) {
            a.setMode(s.permissions());
          }
          if (r.uid() != null) {
            a.setUid(s.uid());
          }
          if (r.gid() != null) {
            a.setGid(s.gid());
          }
          // utimens intents of UTIME_NOW carry no time: record both times then.
          boolean times = r.mode() == null && r.uid() == null && r.gid() == null;
          if (r.atime() != null || times) {
            a.setAtime(s.atimeNs());
          }
          if (r.mtime() != null || times) {
            a.setMtime(s.mtimeNs());
          }
          out.add(op(p, a.build(), s.mtimeNs(), null));
        }
        return out;
      case SETXATTR:
        if (s != null) {
          byte[] v = Posix.getxattr(root, p, r.xattrName());
          if (v != null) {
            out.add(
                op(
                    p,
                    new SetXattr(ByteBuffer.wrap(r.xattrName()), ByteBuffer.wrap(v)),
                    null,
                    null));
          }
        }
        return out;
      case REMOVEXATTR:
        if (s != null && Posix.getxattr(root, p, r.xattrName()) == null) {
          out.add(op(p, new RemoveXattr(ByteBuffer.wrap(r.xattrName())), null, null));
        }
        return out;
      default:
        return out;
    }
  }
}
