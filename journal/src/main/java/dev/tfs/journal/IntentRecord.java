package dev.tfs.journal;

import dev.tfs.op.OpKind;
import dev.tfs.path.OpPaths;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What an op about to be applied to the store will do: enough for crash recovery to find out
 * whether it happened (reconcile the store with the journal), and small. A write intent holds the
 * path, offset and length, never the data; recovery reads the data from the store if the write went
 * through.
 *
 * <p>Fields are optional unless the kind needs them: {@code to} for {@link OpKind#RENAME} and
 * {@link OpKind#LINK}; {@code offset} and {@code length} for {@link OpKind#WRITE} and {@link
 * OpKind#FALLOCATE}; {@code size} for {@link OpKind#TRUNCATE}. {@code mode}, {@code uid}, {@code
 * gid}, {@code atime}, {@code mtime} (ns), {@code target} (symlink content) and {@code xattrName}
 * are set as the kind makes sense of them; for fallocate, {@code mode} holds the fallocate flags.
 *
 * <p>Encoding (the payload of an INTENT entry, after the intent id): version byte 1 | kind label
 * length (1) | kind label ASCII (e.g. {@code rename}) | presence bits (2) | path length (2) | path
 * | then, for each present field in this order: {@code to}, {@code target}, {@code xattrName} as
 * length (2) + bytes; {@code offset}, {@code length}, {@code size}, {@code atime}, {@code mtime} as
 * 8 bytes; {@code mode}, {@code uid}, {@code gid} as 4 bytes. Big-endian. The kind is stored by
 * label so reordering {@link OpKind} never changes the meaning of an old journal.
 */
public final class IntentRecord {
  private static final int VERSION = 1;
  private static final int MAX_NAME_BYTES = OpPaths.MAX_PATH_BYTES;

  private static final int HAS_TO = 1;
  private static final int HAS_TARGET = 1 << 1;
  private static final int HAS_XATTR = 1 << 2;
  private static final int HAS_OFFSET = 1 << 3;
  private static final int HAS_LENGTH = 1 << 4;
  private static final int HAS_SIZE = 1 << 5;
  private static final int HAS_ATIME = 1 << 6;
  private static final int HAS_MTIME = 1 << 7;
  private static final int HAS_MODE = 1 << 8;
  private static final int HAS_UID = 1 << 9;
  private static final int HAS_GID = 1 << 10;

  private final OpKind kind;
  private final byte[] path;
  private final byte[] to;
  private final byte[] target;
  private final byte[] xattrName;
  private final Long offset;
  private final Long length;
  private final Long size;
  private final Long atime;
  private final Long mtime;
  private final Integer mode;
  private final Integer uid;
  private final Integer gid;

  private IntentRecord(Builder b) {
    this.kind = b.kind;
    this.path = b.path;
    this.to = b.to;
    this.target = b.target;
    this.xattrName = b.xattrName;
    this.offset = b.offset;
    this.length = b.length;
    this.size = b.size;
    this.atime = b.atime;
    this.mtime = b.mtime;
    this.mode = b.mode;
    this.uid = b.uid;
    this.gid = b.gid;
  }

  /** A builder for an intent of {@code kind} on {@code path} (a valid op path). */
  public static Builder builder(OpKind kind, byte[] path) {
    return new Builder(kind, path);
  }

  /** An intent with no fields besides the path: unlink, rmdir, create, mkdir, ... */
  public static IntentRecord of(OpKind kind, byte[] path) {
    return builder(kind, path).build();
  }

  /** A write of {@code length} bytes at {@code offset}. */
  public static IntentRecord write(byte[] path, long offset, long length) {
    return builder(OpKind.WRITE, path).offset(offset).length(length).build();
  }

  /** A truncate to {@code size}. */
  public static IntentRecord truncate(byte[] path, long size) {
    return builder(OpKind.TRUNCATE, path).size(size).build();
  }

  /** A rename of {@code path} to {@code to}. */
  public static IntentRecord rename(byte[] path, byte[] to) {
    return builder(OpKind.RENAME, path).to(to).build();
  }

  /** A hard link named {@code to} to the existing {@code path}. */
  public static IntentRecord link(byte[] path, byte[] to) {
    return builder(OpKind.LINK, path).to(to).build();
  }

  public OpKind kind() {
    return kind;
  }

  /** The path the op acts on (a copy). */
  public byte[] path() {
    return path.clone();
  }

  /** Rename/link target path, or null. */
  public byte[] to() {
    return to == null ? null : to.clone();
  }

  /** Symlink content, or null. */
  public byte[] target() {
    return target == null ? null : target.clone();
  }

  /** Extended attribute name, or null. */
  public byte[] xattrName() {
    return xattrName == null ? null : xattrName.clone();
  }

  public Long offset() {
    return offset;
  }

  public Long length() {
    return length;
  }

  public Long size() {
    return size;
  }

  /** Access time in ns, or null. */
  public Long atime() {
    return atime;
  }

  /** Modification time in ns, or null. */
  public Long mtime() {
    return mtime;
  }

  /** Permission bits (or fallocate flags for fallocate), or null. */
  public Integer mode() {
    return mode;
  }

  public Integer uid() {
    return uid;
  }

  public Integer gid() {
    return gid;
  }

  /** The encoded form stored in an INTENT entry (see the class comment). */
  public byte[] encode() {
    byte[] label = kind.label().getBytes(StandardCharsets.US_ASCII);
    int bits = 0;
    int n = 1 + 1 + label.length + 2 + 2 + path.length;
    if (to != null) {
      bits |= HAS_TO;
      n += 2 + to.length;
    }
    if (target != null) {
      bits |= HAS_TARGET;
      n += 2 + target.length;
    }
    if (xattrName != null) {
      bits |= HAS_XATTR;
      n += 2 + xattrName.length;
    }
    Long[] longs = {offset, length, size, atime, mtime};
    int[] longBits = {HAS_OFFSET, HAS_LENGTH, HAS_SIZE, HAS_ATIME, HAS_MTIME};
    for (int i = 0; i < longs.length; i++) {
      if (longs[i] != null) {
        bits |= longBits[i];
        n += 8;
      }
    }
    Integer[] ints = {mode, uid, gid};
    int[] intBits = {HAS_MODE, HAS_UID, HAS_GID};
    for (int i = 0; i < ints.length; i++) {
      if (ints[i] != null) {
        bits |= intBits[i];
        n += 4;
      }
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    b.put((byte) VERSION).put((byte) label.length).put(label).putShort((short) bits);
    putBytes(b, path);
    if (to != null) {
      putBytes(b, to);
    }
    if (target != null) {
      putBytes(b, target);
    }
    if (xattrName != null) {
      putBytes(b, xattrName);
    }
    for (Long l : longs) {
      if (l != null) {
        b.putLong(l);
      }
    }
    for (Integer i : ints) {
      if (i != null) {
        b.putInt(i);
      }
    }
    return b.array();
  }

  /**
   * Decodes {@link #encode()} output.
   *
   * @throws IllegalArgumentException when the bytes are not a valid intent descriptor
   */
  public static IntentRecord decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  static IntentRecord decode(byte[] bytes, int off, int len) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes, off, len);
      int version = b.get();
      if (version != VERSION) {
        throw new IllegalArgumentException("intent descriptor version " + version + " unknown");
      }
      byte[] label = new byte[b.get() & 0xff];
      b.get(label);
      String l = new String(label, StandardCharsets.US_ASCII);
      OpKind kind = null;
      for (OpKind k : OpKind.values()) {
        if (k.label().equals(l)) {
          kind = k;
        }
      }
      if (kind == null) {
        throw new IllegalArgumentException("intent kind '" + l + "' unknown");
      }
      int bits = b.getShort() & 0xffff;
      Builder builder = new Builder(kind, getBytes(b));
      if ((bits & HAS_TO) != 0) {
        builder.to(getBytes(b));
      }
      if ((bits & HAS_TARGET) != 0) {
        builder.target(getBytes(b));
      }
      if ((bits & HAS_XATTR) != 0) {
        builder.xattrName(getBytes(b));
      }
      if ((bits & HAS_OFFSET) != 0) {
        builder.offset(b.getLong());
      }
      if ((bits & HAS_LENGTH) != 0) {
        builder.length(b.getLong());
      }
      if ((bits & HAS_SIZE) != 0) {
        builder.size(b.getLong());
      }
      if ((bits & HAS_ATIME) != 0) {
        builder.atime(b.getLong());
      }
      if ((bits & HAS_MTIME) != 0) {
        builder.mtime(b.getLong());
      }
      if ((bits & HAS_MODE) != 0) {
        builder.mode(b.getInt());
      }
      if ((bits & HAS_UID) != 0) {
        builder.uid(b.getInt());
      }
      if ((bits & HAS_GID) != 0) {
        builder.gid(b.getInt());
      }
      if (b.hasRemaining()) {
        throw new IllegalArgumentException(b.remaining() + " trailing bytes");
      }
      return builder.build();
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("intent descriptor is truncated", e);
    }
  }

  private static void putBytes(ByteBuffer b, byte[] v) {
    b.putShort((short) v.length);
    b.put(v);
  }

  private static byte[] getBytes(ByteBuffer b) {
    int n = b.getShort() & 0xffff;
    if (n > b.remaining()) {
      throw new IllegalArgumentException("intent descriptor field length " + n + " too long");
    }
    byte[] v = new byte[n];
    b.get(v);
    return v;
  }

  /** {@code kind path [details]}, names escaped like {@link OpPaths#display}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(kind.label()).append(' ').append(OpPaths.display(path));
    if (to != null) {
      sb.append(" -> ").append(OpPaths.display(to));
    }
    if (target != null) {
      sb.append(" target=").append(OpPaths.escape(target));
    }
    if (xattrName != null) {
      sb.append(" name=").append(OpPaths.escape(xattrName));
    }
    append(sb, "offset", offset);
    append(sb, "length", length);
    append(sb, "size", size);
    if (mode != null) {
      sb.append(" mode=").append(Integer.toOctalString(mode));
    }
    append(sb, "uid", uid);
    append(sb, "gid", gid);
    append(sb, "atime", atime);
    append(sb, "mtime", mtime);
    return sb.toString();
  }

  private static void append(StringBuilder sb, String name, Object v) {
    if (v != null) {
      sb.append(' ').append(name).append('=').append(v);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof IntentRecord r)) {
      return false;
    }
    return kind == r.kind
        && Arrays.equals(path, r.path)
        && Arrays.equals(to, r.to)
        && Arrays.equals(target, r.target)
        && Arrays.equals(xattrName, r.xattrName)
        && Objects.equals(offset, r.offset)
        && Objects.equals(length, r.length)
        && Objects.equals(size, r.size)
        && Objects.equals(atime, r.atime)
        && Objects.equals(mtime, r.mtime)
        && Objects.equals(mode, r.mode)
        && Objects.equals(uid, r.uid)
        && Objects.equals(gid, r.gid);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, Arrays.hashCode(path), Arrays.hashCode(to), offset, length, size);
  }

  /** Builder; {@link #build()} checks paths and the fields the kind requires. */
  public static final class Builder {
    private final OpKind kind;
    private final byte[] path;
    private byte[] to;
    private byte[] target;
    private byte[] xattrName;
    private Long offset;
    private Long length;
    private Long size;
    private Long atime;
    private Long mtime;
    private Integer mode;
    private Integer uid;
    private Integer gid;

    private Builder(OpKind kind, byte[] path) {
      this.kind = Objects.requireNonNull(kind, "kind");
      this.path = Objects.requireNonNull(path, "path").clone();
    }

    public Builder to(byte[] to) {
      this.to = to == null ? null : to.clone();
      return this;
    }

    public Builder target(byte[] target) {
      this.target = target == null ? null : target.clone();
      return this;
    }

    public Builder xattrName(byte[] name) {
      this.xattrName = name == null ? null : name.clone();
      return this;
    }

    public Builder offset(Long offset) {
      this.offset = offset;
      return this;
    }

    public Builder length(Long length) {
      this.length = length;
      return this;
    }

    public Builder size(Long size) {
      this.size = size;
      return this;
    }

    public Builder atime(Long atime) {
      this.atime = atime;
      return this;
    }

    public Builder mtime(Long mtime) {
      this.mtime = mtime;
      return this;
    }

    public Builder mode(Integer mode) {
      this.mode = mode;
      return this;
    }

    public Builder uid(Integer uid) {
      this.uid = uid;
      return this;
    }

    public Builder gid(Integer gid) {
      this.gid = gid;
      return this;
    }

    /**
     * The intent record, checked.
     *
     * @throws IllegalArgumentException naming what is wrong: an invalid path or target, a field the
     *     kind requires that is missing, a negative offset, length or size
     */
    public IntentRecord build() {
      String p = OpPaths.problem(path);
      if (p != null) {
        throw new IllegalArgumentException(kind.label() + " intent: path: " + p);
      }
      if (to != null && OpPaths.problem(to) != null) {
        throw new IllegalArgumentException(kind.label() + " intent: to: " + OpPaths.problem(to));
      }
      String missing = missingField();
      if (missing != null) {
        throw new IllegalArgumentException(missing);
      }
      for (Long v : new Long[] {offset, length, size}) {
        if (v != null && v < 0) {
          throw new IllegalArgumentException(
              kind.label() + " intent: negative offset, length or size: " + v);
        }
      }
      if (target != null && target.length > MAX_NAME_BYTES) {
        throw new IllegalArgumentException("intent symlink target longer than " + MAX_NAME_BYTES);
      }
      if (xattrName != null && xattrName.length > MAX_NAME_BYTES) {
        throw new IllegalArgumentException("intent xattr name longer than " + MAX_NAME_BYTES);
      }
      return new IntentRecord(this);
    }

    /** What the kind requires and is not set, null when complete; a new kind must say here. */
    private String missingField() {
      return switch (kind) {
        case RENAME, LINK ->
            to == null || to.length == 0
                ? kind.label() + " intent needs a non-root 'to' path"
                : null;
        case WRITE, FALLOCATE ->
            offset == null || length == null
                ? kind.label() + " intent needs offset and length"
                : null;
        case TRUNCATE -> size == null ? "truncate intent needs a size" : null;
        case CREATE,
                MKDIR,
                MKNOD,
                UNLINK,
                RMDIR,
                SYMLINK,
                SETATTR,
                SETXATTR,
                REMOVEXATTR,
                SNAPSHOT_BEGIN,
                SNAPSHOT_END ->
            null;
      };
    }
  }
}
