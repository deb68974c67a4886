package dev.tfs.op;

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
import dev.tfs.op.schema.SnapshotBegin;
import dev.tfs.op.schema.SnapshotEnd;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;

/**
 * Field rules every op must satisfy beyond its Avro shape. The decoder applies them, so a consumer
 * never sees an op with a traversal path, a negative size or an impossible seq; writers apply them
 * too, so tfs never produces such an op.
 */
public final class OpRules {
  /** Largest file offset an op may address (1 PiB): beyond any file system tfs targets. */
  public static final long MAX_FILE_BYTES = 1L << 50;

  /** Linux XATTR_NAME_MAX. */
  public static final int MAX_XATTR_NAME_BYTES = 255;

  /** Linux XATTR_SIZE_MAX. */
  public static final int MAX_XATTR_VALUE_BYTES = 65536;

  /** S_IFMT and the special file types tfs captures. */
  public static final int S_IFMT = 0170000;

  public static final int S_IFIFO = 0010000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFCHR = 0020000;
  public static final int S_IFBLK = 0060000;

  /** Linux's kernel dev_t: 12 bits of major, 20 bits of minor. */
  public static final int MAX_DEVICE_MAJOR = (1 << 12) - 1;

  public static final int MAX_DEVICE_MINOR = (1 << 20) - 1;

  private OpRules() {}

  /**
   * Returns the first rule {@code op} breaks, or null when it is valid.
   *
   * <p>Rules: a valid volume name; epoch &gt; 0; seq &ge; 1; partition &ge; 0; 0 &le;
   * partitionPrevSeq &lt; seq; a valid path (not the root for kinds that name a file); valid
   * rename/link targets; permission bits within 07777; FIFO, socket or a device within Linux's
   * major/minor limits for mknod; offsets and sizes within [0, {@link #MAX_FILE_BYTES}]; symlink
   * targets and xattr names non-empty and without NUL.
   */
  public static String problem(OpRecord op) {
    if (op.getVolume() == null || !Volumes.isValid(op.getVolume())) {
      return "invalid volume name";
    }
    if (op.getEpoch() <= 0) {
      return "epoch must be positive, got " + op.getEpoch();
    }
    if (op.getSeq() < 1) {
      return "seq must be at least 1, got " + op.getSeq();
    }
    if (op.getPartition() < 0) {
      return "partition must not be negative, got " + op.getPartition();
    }
    if (op.getPartitionPrevSeq() < 0 || op.getPartitionPrevSeq() >= op.getSeq()) {
      return "partitionPrevSeq "
          + op.getPartitionPrevSeq()
          + " is not in [0, seq="
          + op.getSeq()
          + ")";
    }
    byte[] path = Ops.bytes(op.getPath());
    String pathProblem = OpPaths.problem(path);
    if (pathProblem != null) {
      return "path: " + pathProblem;
    }
    Object body = op.getOp();
    if (body == null) {
      return "op body is missing";
    }
    OpKind kind = OpKind.of(body);
    if (path.length == 0 && !mayActOnRoot(kind)) {
      return kind.label() + " cannot act on the volume root";
    }
    return bodyProblem(kind, body, path);
  }

  /** True for the kinds that may name the volume root (attributes of the root, snapshot marks). */
  static boolean mayActOnRoot(OpKind kind) {
    return switch (kind) {
      case SETATTR, SETXATTR, REMOVEXATTR, SNAPSHOT_BEGIN, SNAPSHOT_END -> true;
      case CREATE, MKDIR, MKNOD, WRITE, TRUNCATE, FALLOCATE, UNLINK, RMDIR, RENAME, LINK, SYMLINK ->
          false;
    };
  }

  /** The first rule the body of a {@code kind} op on {@code path} breaks, or null. */
  private static String bodyProblem(OpKind kind, Object body, byte[] path) {
    return switch (kind) {
      case CREATE -> modeProblem(((Create) body).getMode());
      case MKDIR -> modeProblem(((Mkdir) body).getMode());
      case MKNOD -> {
        Mknod m = (Mknod) body;
        int type = m.getMode() & S_IFMT;
        String p =
            switch (type) {
              case S_IFIFO, S_IFSOCK ->
                  m.getRdev() == 0 ? null : "a FIFO or socket has no device number";
              case S_IFCHR, S_IFBLK -> deviceProblem(m.getRdev());
              default ->
                  "mknod type "
                      + Integer.toOctalString(type)
                      + " is not a FIFO, a socket or a device";
            };
        yield p != null ? p : modeProblem(m.getMode() & ~S_IFMT);
      }
      case WRITE -> {
        Write w = (Write) body;
        yield rangeProblem(w.getOffset(), w.getData() == null ? -1 : w.getData().remaining());
      }
      case TRUNCATE -> {
        long size = ((Truncate) body).getSize();
        yield size < 0 || size > MAX_FILE_BYTES ? "truncate size " + size + " out of range" : null;
      }
      case FALLOCATE -> {
        Fallocate f = (Fallocate) body;
        if (f.getLength() <= 0) {
          yield "fallocate length must be positive, got " + f.getLength();
        }
        yield rangeProblem(f.getOffset(), f.getLength());
      }
      // The body carries nothing beyond the path, which is checked above.
      case UNLINK, RMDIR -> null;
      case RENAME -> targetProblem("rename", Ops.bytes(((Rename) body).getTo()), path);
      case LINK -> targetProblem("link", Ops.bytes(((Link) body).getTo()), path);
      case SYMLINK -> {
        byte[] target = Ops.bytes(((Symlink) body).getTarget());
        if (target.length == 0 || target.length > OpPaths.MAX_PATH_BYTES) {
          yield "symlink target length "
              + target.length
              + " not in [1, "
              + OpPaths.MAX_PATH_BYTES
              + "]";
        }
        yield indexOfNul(target) >= 0 ? "symlink target contains NUL" : null;
      }
      case SETATTR -> {
        SetAttr a = (SetAttr) body;
        yield a.getMode() == null ? null : modeProblem(a.getMode());
      }
      case SETXATTR -> {
        SetXattr x = (SetXattr) body;
        String p = xattrNameProblem(Ops.bytes(x.getName()));
        if (p != null) {
          yield p;
        }
        int len = x.getValue() == null ? -1 : x.getValue().remaining();
        yield len < 0 || len > MAX_XATTR_VALUE_BYTES
            ? "xattr value length " + len + " out of range"
            : null;
      }
      case REMOVEXATTR -> xattrNameProblem(Ops.bytes(((RemoveXattr) body).getName()));
      case SNAPSHOT_BEGIN -> {
        SnapshotBegin b = (SnapshotBegin) body;
        yield b.getEntries() < 0 || b.getBytes() < 0 ? "negative snapshot counts" : null;
      }
      case SNAPSHOT_END -> {
        SnapshotEnd e = (SnapshotEnd) body;
        yield e.getEntries() < 0 || e.getBytes() < 0 ? "negative snapshot counts" : null;
      }
    };
  }

  /** Throws an {@link IllegalArgumentException} naming the rule {@code op} breaks. */
  public static OpRecord validate(OpRecord op) {
    String p = problem(op);
    if (p != null) {
      throw new IllegalArgumentException("invalid op (seq " + op.getSeq() + "): " + p);
    }
    return op;
  }

  /** Major number of a glibc-encoded dev_t (gnu_dev_major). */
  public static long deviceMajor(long rdev) {
    return ((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL);
  }

  /** Minor number of a glibc-encoded dev_t (gnu_dev_minor). */
  public static long deviceMinor(long rdev) {
    return ((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL);
  }

  private static String deviceProblem(long rdev) {
    long major = deviceMajor(rdev);
    long minor = deviceMinor(rdev);
    if (major > MAX_DEVICE_MAJOR || minor > MAX_DEVICE_MINOR) {
      return "device number "
          + major
          + ":"
          + minor
          + " is beyond Linux's limits ("
          + MAX_DEVICE_MAJOR
          + ":"
          + MAX_DEVICE_MINOR
          + ")";
    }
    return null;
  }

  private static String modeProblem(int mode) {
    return (mode & ~07777) != 0
        ? "mode " + Integer.toOctalString(mode) + " has bits beyond 07777"
        : null;
  }

  private static String rangeProblem(long offset, long length) {
    if (length < 0) {
      return "data is missing";
    }
    if (offset < 0 || offset > MAX_FILE_BYTES || length > MAX_FILE_BYTES - offset) {
      return "range offset="
          + offset
          + " length="
          + length
          + " is outside [0, "
          + MAX_FILE_BYTES
          + "]";
    }
    return null;
  }

  private static String targetProblem(String kind, byte[] to, byte[] path) {
    String p = OpPaths.problem(to);
    if (p != null) {
      return kind + " target: " + p;
    }
    if (to.length == 0) {
      return kind + " target is the volume root";
    }
    if (kind.equals("rename") && OpPaths.isSelfOrDescendant(path, to) && to.length != path.length) {
      return "rename moves a directory beneath itself";
    }
    return null;
  }

  private static String xattrNameProblem(byte[] name) {
    if (name.length == 0 || name.length > MAX_XATTR_NAME_BYTES) {
      return "xattr name length " + name.length + " not in [1, " + MAX_XATTR_NAME_BYTES + "]";
    }
    return indexOfNul(name) >= 0 ? "xattr name contains NUL" : null;
  }

  private static int indexOfNul(byte[] b) {
    for (int i = 0; i < b.length; i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    return -1;
  }
}
