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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixed history with one op of every kind, used by the codec tests and recorded once, as bytes,
 * in {@code op-v1-fixture.bin}. Never change it: the fixture must keep decoding to exactly this.
 */
public final class OpFixtures {
  public static final String VOLUME = "fixture-vol";
  public static final long EPOCH = 1_763_769_600_000L;
  public static final long T0 = 1_763_769_600_000_000_000L;

  /** A non-UTF-8 name (Latin-1 "café" and a lone 0xff). */
  public static final byte[] LATIN1_NAME = {'c', 'a', 'f', (byte) 0xe9, '-', (byte) 0xff};

  private OpFixtures() {}

  /** One op of every kind, seq 1..n, all in partition 0. */
  public static List<OpRecord> everyKind() {
    List<OpRecord> ops = new ArrayList<>();
    ops.add(op(ops, "", new SnapshotBegin(5L, 11L), null, null));
    ops.add(op(ops, "dir", new Mkdir(0755, 1000, 1000), T0 + 1, T0 + 2));
    ops.add(op(ops, "dir/file.txt", new Create(0644, 1000, 1000), T0 + 3, T0 + 4));
    ops.add(op(ops, "dir/file.txt", new Write(0L, buf("hello world")), T0 + 5, null));
    ops.add(op(ops, "dir/file.txt", new Write(1L << 20, buf("sparse tail")), T0 + 6, null));
    ops.add(op(ops, "dir/file.txt", new Truncate(5L), T0 + 7, null));
    ops.add(op(ops, "dir/file.txt", new Fallocate(1, 0L, 4096L), T0 + 8, null));
    ops.add(op(ops, "dir/fifo", new Mknod(OpRules.S_IFIFO | 0600, 0, 0, 0L), T0 + 9, T0 + 9));
    ops.add(
        op(ops, "dir/file.txt", new Link(ByteBuffer.wrap(bytes("dir/hard")), T0 + 10), null, null));
    ops.add(
        op(
            ops,
            "dir/sym",
            new Symlink(ByteBuffer.wrap(bytes("../outside/target")), 0, 0),
            T0 + 11,
            T0 + 11));
    ops.add(
        op(ops, "dir/file.txt", new SetAttr(0600, 1001, 1002, T0 + 12, T0 + 13), T0 + 13, null));
    ops.add(op(ops, "dir/file.txt", new SetAttr(null, null, null, null, T0 + 14), T0 + 14, null));
    ops.add(
        op(
            ops,
            "dir/file.txt",
            new SetXattr(ByteBuffer.wrap(bytes("user.comment")), buf("\0binary\1")),
            null,
            null));
    ops.add(
        op(
            ops,
            "dir/file.txt",
            new RemoveXattr(ByteBuffer.wrap(bytes("user.comment"))),
            null,
            null));
    byte[] latin1 =
        ("dir/" + new String(LATIN1_NAME, StandardCharsets.ISO_8859_1))
            .getBytes(StandardCharsets.ISO_8859_1);
    ops.add(op(ops, "dir/file.txt", new Rename(ByteBuffer.wrap(latin1), T0 + 15), null, T0 + 15));
    ops.add(opBytes(ops, latin1, new Unlink(), null, T0 + 16));
    ops.add(op(ops, "dir/fifo", new Unlink(), null, T0 + 17));
    ops.add(op(ops, "dir/sym", new Unlink(), null, T0 + 17));
    ops.add(op(ops, "dir/hard", new Unlink(), null, T0 + 18));
    ops.add(op(ops, "dir", new Rmdir(), null, T0 + 19));
    ops.add(op(ops, "", new SnapshotEnd(5L, 11L), null, null));
    return ops;
  }

  static OpRecord op(List<OpRecord> prior, String path, Object body, Long mtime, Long parentMtime) {
    return opBytes(prior, bytes(path), body, mtime, parentMtime);
  }

  static OpRecord opBytes(
      List<OpRecord> prior, byte[] path, Object body, Long mtime, Long parentMtime) {
    long seq = prior.size() + 1;
    return OpRecord.newBuilder()
        .setVolume(VOLUME)
        .setEpoch(EPOCH)
        .setSeq(seq)
        .setPartition(0)
        .setPartitionPrevSeq(seq - 1)
        .setTime(T0 + seq)
        .setPath(ByteBuffer.wrap(path))
        .setOp(body)
        .setMtime(mtime)
        .setParentMtime(parentMtime)
        .build();
  }

  public static ByteBuffer buf(String s) {
    return ByteBuffer.wrap(bytes(s));
  }

  public static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A minimal valid write op at {@code seq}. */
  public static OpRecord write(long seq, String path, long offset, byte[] data) {
    return OpRecord.newBuilder()
        .setVolume(VOLUME)
        .setEpoch(EPOCH)
        .setSeq(seq)
        .setPartition(0)
        .setPartitionPrevSeq(seq - 1)
        .setTime(T0 + seq)
        .setPath(ByteBuffer.wrap(bytes(path)))
        .setOp(new Write(offset, ByteBuffer.wrap(data)))
        .build();
  }
}
