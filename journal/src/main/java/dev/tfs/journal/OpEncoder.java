package dev.tfs.journal;

import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Unlink;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.avro.AvroRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns op drafts into OP entries, doing the expensive part (Avro encoding, validation, copying
 * write data) before the writer takes its lock.
 *
 * <p>An op's value is its Avro single-object encoding, and Avro encodes a record as the plain
 * concatenation of its fields. The fields the journal assigns under its lock, {@code seq} and
 * {@code partitionPrevSeq}, come third and fifth, after {@code volume} and {@code epoch} (fixed per
 * journal) and before everything else. So {@link #prepare} encodes the op with placeholder values
 * and keeps the bytes after {@code partitionPrevSeq}; {@link #frame} writes the real varints in
 * front of them. The result is byte for byte what {@link OpCodec#encode} produces for the final op:
 * the constructor checks that on a sample op and, should the schema ever stop allowing it, falls
 * back to encoding under the lock.
 */
final class OpEncoder {
  private static final Logger log = LoggerFactory.getLogger(OpEncoder.class);

  private final OpCodec codec = new OpCodec();
  private final String volume;
  private final long epoch;
  private final int partitions;

  /** Value bytes before seq: the single-object header, volume and epoch. */
  private final byte[] head;

  /** Set once by the constructor's self-check; true while it runs. */
  private boolean splicing = true;

  OpEncoder(String volume, long epoch, int partitions) {
    this.volume = volume;
    this.epoch = epoch;
    this.partitions = partitions;
    byte[] vol = volume.getBytes(StandardCharsets.UTF_8);
    byte[] h = new byte[10 + 10 + vol.length + 10];
    byte[] sampleValue = codec.encode(unnumbered(sample(), 0).build());
    System.arraycopy(sampleValue, 0, h, 0, 10);
    int o = 10;
    o += Format.putVarLong(h, o, vol.length);
    System.arraycopy(vol, 0, h, o, vol.length);
    o += vol.length;
    o += Format.putVarLong(h, o, epoch);
    this.head = Arrays.copyOf(h, o);
    this.splicing = selfCheck();
  }

  /** True when values are spliced outside the lock (always, unless the schema changed shape). */
  boolean splicing() {
    return splicing;
  }

  /**
   * Validates and encodes an op whose path, time, op body (and optional times) are set; sets its
   * volume, epoch and partition.
   *
   * @throws IllegalArgumentException when the op is incomplete or breaks {@code OpRules}
   */
  Prepared prepare(OpDraft d) {
    if (d == null) {
      throw new IllegalArgumentException("op is missing");
    }
    byte[] key = d.path();
    int partition = KafkaPartitioner.partition(key, partitions);
    OpRecord rec;
    try {
      rec = unnumbered(d, partition).build();
    } catch (AvroRuntimeException e) {
      throw new IllegalArgumentException("incomplete op: " + e.getMessage(), e);
    }
    byte[] enc = codec.encode(rec); // applies OpRules: IllegalArgumentException, nothing written
    byte[] partVar = new byte[5];
    int pLen = Format.putVarLong(partVar, 0, partition);
    partVar = Arrays.copyOf(partVar, pLen);
    Prepared p = new Prepared(d, key, partition, partVar);
    if (!splicing) {
      p.record = rec;
      p.suffixLen = enc.length;
      return p;
    }
    int seqAt = head.length;
    if (enc[seqAt] != 2 || enc[seqAt + 1 + pLen] != 0) {
      throw new IllegalStateException("op encoding does not have the expected shape");
    }
    int suffixOff = seqAt + 1 + pLen + 1;
    p.suffixLen = enc.length - suffixOff;
    p.frame =
        new byte[Format.FRAME + 1 + Format.OP_FIXED + key.length + head.length + 25 + p.suffixLen];
    System.arraycopy(enc, suffixOff, p.frame, p.frame.length - p.suffixLen, p.suffixLen);
    return p;
  }

  /** Exact size of the op's value once it has {@code seq} and {@code prev}. */
  int valueLength(Prepared p, long seq, long prev) {
    if (!splicing) {
      // The placeholders encode in one byte each.
      return p.suffixLen - 2 + Format.varLongSize(seq) + Format.varLongSize(prev);
    }
    return head.length
        + Format.varLongSize(seq)
        + p.partVar.length
        + Format.varLongSize(prev)
        + p.suffixLen;
  }

  /**
   * Builds the complete OP entry (frame, checksum, payload) with the final seq, previous seq of the
   * partition and resolved intent id, into {@code p.frame[p.start, p.start + p.length)}. Cheap when
   * splicing: varints, the key and a checksum.
   */
  void frame(Prepared p, long seq, long prev, long intentId) {
    p.seq = seq;
    p.prev = prev;
    byte[] value = null;
    int valueLen;
    if (splicing) {
      valueLen = valueLength(p, seq, prev);
    } else {
      p.record.setSeq(seq);
      p.record.setPartitionPrevSeq(prev);
      value = codec.encode(p.record);
      valueLen = value.length;
    }
    int bodyLen = 1 + Format.OP_FIXED + p.key.length + valueLen;
    int total = Format.FRAME + bodyLen;
    if (!splicing) {
      p.frame = new byte[total];
    }
    byte[] f = p.frame;
    int start = f.length - total;
    int o = start;
    Format.putInt(f, o, bodyLen);
    o += Format.FRAME;
    f[o++] = Format.OP;
    Format.putLong(f, o, seq);
    Format.putInt(f, o + 8, p.partition);
    Format.putLong(f, o + 12, intentId);
    Format.putInt(f, o + 20, p.key.length);
    o += Format.OP_FIXED;
    System.arraycopy(p.key, 0, f, o, p.key.length);
    o += p.key.length;
    if (splicing) {
      System.arraycopy(head, 0, f, o, head.length);
      o += head.length;
      o += Format.putVarLong(f, o, seq);
      System.arraycopy(p.partVar, 0, f, o, p.partVar.length);
      o += p.partVar.length;
      o += Format.putVarLong(f, o, prev);
    } else {
      System.arraycopy(value, 0, f, o, value.length);
    }
    Format.putInt(f, start + 4, Format.crc(f, start + Format.FRAME, bodyLen));
    p.start = start;
    p.length = total;
  }

  /** The value bytes inside a framed entry (for tests and the self-check). */
  static byte[] value(Prepared p) {
    int valueOff = p.start + Format.FRAME + 1 + Format.OP_FIXED + p.key.length;
    return Arrays.copyOfRange(p.frame, valueOff, p.start + p.length);
  }

  /**
   * The draft as a record of this journal, with seq 1 and partitionPrevSeq 0 standing in for the
   * values assigned under the lock: one byte each, replaced in the encoded bytes by {@link #frame}.
   */
  private OpRecord.Builder unnumbered(OpDraft d, int partition) {
    return OpRecord.newBuilder()
        .setVolume(volume)
        .setEpoch(epoch)
        .setSeq(1L)
        .setPartition(partition)
        .setPartitionPrevSeq(0L)
        .setPath(ByteBuffer.wrap(d.path()))
        .setTime(d.timeNanos())
        .setOp(d.body())
        .setMtime(d.mtime())
        .setParentMtime(d.parentMtime());
  }

  private static OpDraft sample() {
    return new OpDraft(
        new byte[] {'a', '/', 'b'},
        1_700_000_000_000_000_000L,
        new Unlink(),
        null,
        1_700_000_000_000_000_001L);
  }

  /** Splices a sample op and compares it with {@link OpCodec#encode}. */
  private boolean selfCheck() {
    try {
      long seq = 1_234_567_890_123L;
      long prev = 987_654_321L;
      Prepared p = prepare(sample());
      frame(p, seq, prev, 0);
      byte[] expected =
          codec.encode(
              unnumbered(p.draft, p.partition).setSeq(seq).setPartitionPrevSeq(prev).build());
      if (!Arrays.equals(expected, value(p))) {
        throw new IllegalStateException("spliced value differs from OpCodec.encode");
      }
      return true;
    } catch (RuntimeException e) {
      log.warn("op values cannot be spliced ({}); encoding ops under the journal lock instead", e);
      return false;
    }
  }

  /** An op between {@link #prepare} and {@link #frame}. */
  static final class Prepared {
    final OpDraft draft;
    final byte[] key;
    final int partition;
    final byte[] partVar;
    OpRecord record;
    byte[] frame;
    int suffixLen;
    int start;
    int length;
    long seq;
    long prev;

    Prepared(OpDraft draft, byte[] key, int partition, byte[] partVar) {
      this.draft = draft;
      this.key = key;
      this.partition = partition;
      this.partVar = partVar;
    }
  }
}
