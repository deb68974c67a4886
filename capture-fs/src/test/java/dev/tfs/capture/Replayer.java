package dev.tfs.capture;

import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalReader;
import dev.tfs.op.OpCodec;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Fallocate;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.RemoveXattr;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.Rmdir;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal op applier for tests: replays ops onto a directory (no confinement checks, no
 * idempotence: the real one is the sink connector's), including the times ops carry.
 */
public final class Replayer {
  private Replayer() {}

  /** Every op in the journal at {@code dir}, decoded, in seq order (checks density). */
  public static List<OpRecord> read(Path dir) throws Exception {
    List<OpRecord> out = new ArrayList<>();
    OpCodec codec = new OpCodec();
    try (JournalReader r = JournalReader.open(dir)) {
      r.seek(1);
      long expect = 1;
      for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
        if (e.seq() != expect) {
          throw new AssertionError("seq " + e.seq() + " where " + expect + " was expected");
        }
        expect++;
        out.add(codec.decode(e.value()));
      }
    }
    return out;
  }

  /** Applies {@code ops} in order to the empty directory {@code target}. */
  public static void replay(List<OpRecord> ops, Path target) throws Exception {
    int root = Posix.openDirectory(target);
    try {
      for (OpRecord op : ops) {
        apply(root, op);
      }
    } finally {
      Posix.closeQuietly(root);
    }
  }

  static void apply(int root, OpRecord op) throws Exception {
    byte[] p = Ops.path(op);
    Object b = op.getOp();
    byte[] timed = p;
    if (b instanceof Create c) {
      int fd = Posix.openat(root, p, Flags.O_CREAT | Flags.O_EXCL | Flags.O_WRONLY, 0);
      Posix.closeQuietly(fd);
      Posix.chown(root, p, c.getUid(), c.getGid());
      Posix.chmod(root, p, c.getMode());
    } else if (b instanceof Mkdir m) {
      Posix.mkdir(root, p, 0700);
      Posix.chown(root, p, m.getUid(), m.getGid());
      Posix.chmod(root, p, m.getMode());
    } else if (b instanceof Mknod m) {
      Posix.mknod(root, p, m.getMode(), 0);
      Posix.chown(root, p, m.getUid(), m.getGid());
      Posix.chmod(root, p, m.getMode() & 07777);
    } else if (b instanceof Write w) {
      int fd = Posix.openat(root, p, Flags.O_WRONLY | Flags.O_NOFOLLOW, 0);
      try {
        byte[] d = Ops.bytes(w.getData());
        Posix.pwriteFully(fd, d, d.length, w.getOffset());
      } finally {
        Posix.closeQuietly(fd);
      }
    } else if (b instanceof Truncate t) {
      int fd = Posix.openat(root, p, Flags.O_WRONLY | Flags.O_NOFOLLOW, 0);
      try {
        Posix.ftruncate(fd, t.getSize());
      } finally {
        Posix.closeQuietly(fd);
      }
    } else if (b instanceof Fallocate f) {
      int fd = Posix.openat(root, p, Flags.O_WRONLY | Flags.O_NOFOLLOW, 0);
      try {
        Posix.fallocate(fd, f.getMode(), f.getOffset(), f.getLength());
      } finally {
        Posix.closeQuietly(fd);
      }
    } else if (b instanceof Unlink) {
      Posix.unlink(root, p);
      timed = null;
    } else if (b instanceof Rmdir) {
      Posix.rmdir(root, p);
      timed = null;
    } else if (b instanceof Rename r) {
      byte[] to = Ops.bytes(r.getTo());
      Posix.rename(root, p, root, to, 0);
      setMtime(root, OpPaths.parent(to), r.getToParentMtime());
      timed = null;
    } else if (b instanceof Link l) {
      byte[] to = Ops.bytes(l.getTo());
      Posix.link(root, p, root, to);
      setMtime(root, OpPaths.parent(to), l.getToParentMtime());
    } else if (b instanceof Symlink s) {
      Posix.symlink(Ops.bytes(s.getTarget()), root, p);
      Posix.chown(root, p, s.getUid(), s.getGid());
    } else if (b instanceof SetAttr a) {
      if (a.getUid() != null || a.getGid() != null) {
        Posix.chown(
            root, p, a.getUid() == null ? -1 : a.getUid(), a.getGid() == null ? -1 : a.getGid());
      }
      if (a.getMode() != null) {
        Posix.chmod(root, p, a.getMode());
      }
      if (a.getAtime() != null || a.getMtime() != null) {
        Posix.utimens(
            root,
            p,
            a.getAtime() == null ? Posix.OMIT : a.getAtime(),
            a.getMtime() == null ? Posix.OMIT : a.getMtime());
      }
    } else if (b instanceof SetXattr x) {
      Posix.setxattr(root, p, Ops.bytes(x.getName()), Ops.bytes(x.getValue()), 0);
    } else if (b instanceof RemoveXattr x) {
      Posix.removexattr(root, p, Ops.bytes(x.getName()));
    }
    if (timed != null) {
      setMtime(root, timed, op.getMtime());
    }
    if (op.getParentMtime() != null && p.length > 0) {
      setMtime(root, OpPaths.parent(p), op.getParentMtime());
    }
  }

  private static void setMtime(int root, byte[] p, Long mtime) throws Exception {
    if (mtime != null) {
      Posix.utimens(root, p, Posix.OMIT, mtime);
    }
  }
}
