package dev.tfs.capture;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Store state → op drafts: the one place that turns what the store holds after an op into the op's
 * body and the times it left ({@code mtime} of the object, {@code parentMtime} and {@code
 * toParentMtime} of the directories whose entries changed). Used by the capture callbacks (right
 * after the store call, under the ordering locks), by {@link Recovery} (for an intent a crash left
 * unresolved) and by {@link Bootstrap} (the bodies; a snapshot records times last).
 *
 * <p>Every draft takes effect {@link #now()}; the journal numbers it when it is committed, so no op
 * is ever built with a placeholder volume, epoch or seq.
 */
final class StoreOps {
  private final JournalWriter journal;
  private final int root;

  /**
   * @param journal chunks writes ({@link JournalWriter#writeOps})
   * @param root the store root fd
   */
  StoreOps(JournalWriter journal, int root) {
    this.journal = journal;
    this.root = root;
  }

  /** Which attributes a setattr call named: the fields its op records. */
  record AttrFields(boolean mode, boolean uid, boolean gid, boolean atime, boolean mtime) {
    /** Everything (bootstrap: the store's attributes as they are). */
    static final AttrFields ALL = new AttrFields(true, true, true, true, true);

    static AttrFields chmod() {
      return new AttrFields(true, false, false, false, false);
    }

    /** chown may clear the set-user/group-ID bits: the mode it left is recorded too. */
    static AttrFields chown(boolean uid, boolean gid) {
      return new AttrFields(true, uid, gid, false, false);
    }

    /** utimens: a time that is not UTIME_OMIT (a given time or UTIME_NOW). */
    static AttrFields utimens(boolean atime, boolean mtime) {
      return new AttrFields(false, false, false, atime, mtime);
    }

    /**
     * The fields a setattr intent names, as its call records them. A utimens intent of UTIME_NOW
     * carries no time (it is only known after the call), so a utimens intent records both times
     * (the store's current values: the one it did not change is a no-op on replay).
     */
    static AttrFields of(IntentRecord r) {
      boolean owner = r.uid() != null || r.gid() != null;
      boolean times = r.mode() == null && !owner;
      return new AttrFields(
          r.mode() != null || owner,
          r.uid() != null,
          r.gid() != null,
          r.atime() != null || times,
          r.mtime() != null || times);
    }
  }

  /** Now, in ns since the Unix epoch: when a draft takes effect. */
  static long now() {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }

  /** An op taking effect now, with the times it left. */
  static OpDraft draft(byte[] path, Object body, Long mtime, Long parentMtime) {
    return new OpDraft(path, now(), body, mtime, parentMtime);
  }

  // ------------------------------------------------------------------ bodies

  /**
   * The body that makes an object like {@code s}: create, mkdir, mknod (FIFO, socket, or a char or
   * block device with the store's device number) or symlink ({@code target}, or read from the store
   * when null); null for a type tfs does not know.
   */
  Object entryBody(byte[] p, Stat s, byte[] target) throws PosixException {
    if (s.isRegular()) {
      return new Create(s.permissions(), s.uid(), s.gid());
    } else if (s.isDirectory()) {
      return new Mkdir(s.permissions(), s.uid(), s.gid());
    } else if (s.isSymlink()) {
      byte[] t = target != null ? target : Posix.readlink(root, p);
      return new Symlink(ByteBuffer.wrap(t), s.uid(), s.gid());
    } else if (s.isFifo() || s.isSocket()) {
      return new Mknod(s.mode(), s.uid(), s.gid(), 0L);
    } else if (s.type() == Flags.S_IFCHR || s.type() == Flags.S_IFBLK) {
      // Schema v2: the device number as the store's stat shows it (glibc dev_t encoding).
      return new Mknod(s.mode(), s.uid(), s.gid(), s.rdev());
    }
    return null;
  }

  /** The {@code fields} of {@code s} (a symlink has no mode of its own). */
  static SetAttr setAttrBody(Stat s, AttrFields fields) {
    SetAttr.Builder a = SetAttr.newBuilder();
    if (fields.mode() && !s.isSymlink()) {
      a.setMode(s.permissions());
    }
    if (fields.uid()) {
      a.setUid(s.uid());
    }
    if (fields.gid()) {
      a.setGid(s.gid());
    }
    if (fields.atime()) {
      a.setAtime(s.atimeNs());
    }
    if (fields.mtime()) {
      a.setMtime(s.mtimeNs());
    }
    return a.build();
  }

  static SetXattr setXattrBody(byte[] name, byte[] value) {
    return new SetXattr(ByteBuffer.wrap(name), ByteBuffer.wrap(value));
  }

  // ------------------------------------------------------------------ drafts with their times

  /**
   * A new object at {@code p} that the store shows as {@code s} (null: absent), with its mtime and
   * its directory's; none for a type tfs does not know. A new regular file with content (never
   * expected: its creator had no fd yet) gets its size too, so no content goes unlogged.
   */
  List<OpDraft> created(byte[] p, Stat s, byte[] target) throws PosixException {
    if (s == null) {
      return List.of();
    }
    Object body = entryBody(p, s, target);
    if (body == null) {
      return List.of();
    }
    List<OpDraft> out = new ArrayList<>(1);
    out.add(draft(p, body, s.mtimeNs(), parentMtime(p)));
    if (s.isRegular() && s.size() > 0) {
      out.add(draft(p, new Truncate(s.size()), s.mtimeNs(), null));
    }
    return out;
  }

  OpDraft unlink(byte[] p) throws PosixException {
    return draft(p, new Unlink(), null, parentMtime(p));
  }

  OpDraft rmdir(byte[] p) throws PosixException {
    return draft(p, new Rmdir(), null, parentMtime(p));
  }

  OpDraft rename(byte[] from, byte[] to) throws PosixException {
    return draft(from, new Rename(ByteBuffer.wrap(to), parentMtime(to)), null, parentMtime(from));
  }

  OpDraft link(byte[] from, byte[] to) throws PosixException {
    return draft(from, new Link(ByteBuffer.wrap(to), parentMtime(to)), null, null);
  }

  /** The {@code fields} of {@code s}, the object at {@code p} after a setattr call. */
  OpDraft setAttr(byte[] p, Stat s, AttrFields fields) {
    return draft(p, setAttrBody(s, fields), s.mtimeNs(), null);
  }

  /** The size {@code s} shows after a truncate. */
  OpDraft truncate(byte[] p, Stat s) {
    return draft(p, new Truncate(s.size()), s.mtimeNs(), null);
  }

  /** A fallocate of {@code [off, off + len)} with flags {@code mode}; {@code s}: after it. */
  OpDraft fallocate(byte[] p, int mode, long off, long len, Stat s) {
    return draft(p, new Fallocate(mode, off, len), s.mtimeNs(), null);
  }

  /** {@code data[from, from + len)} written at {@code off}, as the journal chunks it. */
  List<OpDraft> write(byte[] p, long off, byte[] data, int from, int len, Long mtime) {
    return journal.writeOps(p, off, data, from, len, now(), mtime);
  }

  /**
   * The bytes the store holds at {@code [off, off + len)} of the regular file {@code s} at {@code
   * p} (clipped to its size) as writes; none when the file ends before {@code off}.
   */
  List<OpDraft> writtenOnStore(byte[] p, Stat s, long off, long len) throws PosixException {
    if (!s.isRegular() || s.size() <= off) {
      return List.of();
    }
    int n = (int) Math.min(len, s.size() - off);
    byte[] data = new byte[n];
    int fd = Posix.openat(root, p, Flags.O_RDONLY | Flags.O_NOFOLLOW, 0);
    try {
      byte[] buf = new byte[Math.min(n, 1 << 20)];
      int done = 0;
      while (done < n) {
        int r = Posix.pread(fd, buf, Math.min(buf.length, n - done), off + done);
        if (r <= 0) {
          break;
        }
        System.arraycopy(buf, 0, data, done, r);
        done += r;
      }
    } finally {
      Posix.closeQuietly(fd);
    }
    return write(p, off, data, 0, data.length, s.mtimeNs());
  }

  OpDraft setXattr(byte[] p, byte[] name, byte[] value) {
    return draft(p, setXattrBody(name, value), null, null);
  }

  OpDraft removeXattr(byte[] p, byte[] name) {
    return draft(p, new RemoveXattr(ByteBuffer.wrap(name)), null, null);
  }

  /** The mtime of {@code p}'s directory now, or null when it is gone. */
  private Long parentMtime(byte[] p) throws PosixException {
    Stat s = Posix.statOrNull(root, OpPaths.parent(p), false);
    return s == null ? null : s.mtimeNs();
  }
}
