package dev.tfs.op;

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
import dev.tfs.op.schema.SnapshotBegin;
import dev.tfs.op.schema.SnapshotEnd;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;

/** The kinds of op: one per branch of the op union, with the name used in dumps and metrics. */
public enum OpKind {
  CREATE(Create.class),
  MKDIR(Mkdir.class),
  MKNOD(Mknod.class),
  WRITE(Write.class),
  TRUNCATE(Truncate.class),
  FALLOCATE(Fallocate.class),
  UNLINK(Unlink.class),
  RMDIR(Rmdir.class),
  RENAME(Rename.class),
  LINK(Link.class),
  SYMLINK(Symlink.class),
  SETATTR(SetAttr.class),
  SETXATTR(SetXattr.class),
  REMOVEXATTR(RemoveXattr.class),
  SNAPSHOT_BEGIN(SnapshotBegin.class),
  SNAPSHOT_END(SnapshotEnd.class);

  private final Class<?> bodyClass;

  OpKind(Class<?> bodyClass) {
    this.bodyClass = bodyClass;
  }

  /** The generated Avro class of this kind's union branch. */
  public Class<?> bodyClass() {
    return bodyClass;
  }

  /** Lower-case name for dumps, logs and metric names, e.g. {@code setxattr}. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The kind of an op record. */
  public static OpKind of(OpRecord op) {
    return of(op.getOp());
  }

  /** The kind of a union branch object. */
  public static OpKind of(Object body) {
    // One branch per kind: a new union branch without a kind fails here, loudly.
    for (OpKind k : VALUES) {
      if (k.bodyClass.isInstance(body)) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        "not an op body: " + (body == null ? "null" : body.getClass().getName()));
  }

  private static final OpKind[] VALUES = values();

  /** True for kinds that add or remove names in a directory. */
  public boolean changesNamespace() {
    return switch (this) {
      case CREATE, MKDIR, MKNOD, UNLINK, RMDIR, RENAME, LINK, SYMLINK -> true;
      case WRITE,
              TRUNCATE,
              FALLOCATE,
              SETATTR,
              SETXATTR,
              REMOVEXATTR,
              SNAPSHOT_BEGIN,
              SNAPSHOT_END ->
          false;
    };
  }
}
