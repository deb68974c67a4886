package dev.tfs.op;

import dev.tfs.op.schema.Fallocate;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.RemoveXattr;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Write;
import dev.tfs.path.OpPaths;
import java.nio.ByteBuffer;

/** Small helpers over the generated op classes. */
public final class Ops {
  private Ops() {}

  /** The bytes of an Avro {@code bytes} field, without disturbing the buffer's position. */
  public static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  /** The op's path bytes. */
  public static byte[] path(OpRecord op) {
    return bytes(op.getPath());
  }

  /** Number of file-content bytes the op carries (write data), 0 for other kinds. */
  public static int dataBytes(OpRecord op) {
    return op.getOp() instanceof Write ? ((Write) op.getOp()).getData().remaining() : 0;
  }

  /**
   * One line for humans and scripts: {@code seq kind path [details]}, names escaped by {@link
   * OpPaths#display}.
   */
  public static String describe(OpRecord op) {
    StringBuilder sb = new StringBuilder();
    sb.append(op.getSeq())
        .append(' ')
        .append(OpKind.of(op).label())
        .append(' ')
        .append(OpPaths.display(path(op)));
    Object b = op.getOp();
    switch (OpKind.of(b)) {
      case WRITE -> {
        Write w = (Write) b;
        sb.append(" offset=").append(w.getOffset());
        sb.append(" bytes=").append(w.getData().remaining());
      }
      case TRUNCATE -> sb.append(" size=").append(((Truncate) b).getSize());
      case FALLOCATE -> {
        Fallocate f = (Fallocate) b;
        sb.append(" mode=").append(f.getMode()).append(" offset=").append(f.getOffset());
        sb.append(" length=").append(f.getLength());
      }
      case RENAME -> sb.append(" -> ").append(OpPaths.display(bytes(((Rename) b).getTo())));
      case LINK -> sb.append(" -> ").append(OpPaths.display(bytes(((Link) b).getTo())));
      case SYMLINK ->
          sb.append(" target=").append(OpPaths.escape(bytes(((Symlink) b).getTarget())));
      case SETXATTR -> {
        SetXattr x = (SetXattr) b;
        sb.append(" name=").append(OpPaths.escape(bytes(x.getName())));
        sb.append(" bytes=").append(x.getValue().remaining());
      }
      case REMOVEXATTR ->
          sb.append(" name=").append(OpPaths.escape(bytes(((RemoveXattr) b).getName())));
      // Their path says it all (mode and owner are in the dump's JSON form).
      case CREATE, MKDIR, MKNOD, UNLINK, RMDIR, SETATTR, SNAPSHOT_BEGIN, SNAPSHOT_END -> {}
    }
    return sb.toString();
  }
}
