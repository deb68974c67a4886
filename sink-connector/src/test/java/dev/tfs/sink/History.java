package dev.tfs.sink;

import dev.tfs.op.schema.OpRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds one volume's op history as the journal would: dense seq, each op in partition
 * murmur2(path) mod N (Kafka's default partitioner for key = path), chained by partitionPrevSeq.
 */
final class History {
  static final long T0 = 1_763_769_600_000_000_000L;

  final String volume;
  final long epoch;
  final int partitions;
  final List<OpRecord> ops = new ArrayList<>();
  private final long[] last;
  private long time = T0;
  private long nextSeq = 1;

  History(String volume, long epoch, int partitions) {
    this.volume = volume;
    this.epoch = epoch;
    this.partitions = partitions;
    this.last = new long[partitions];
  }

  /** Kafka's default partition for a keyed record. */
  static int partitionOf(byte[] key, int partitions) {
    return dev.tfs.journal.KafkaPartitioner.partition(key, partitions);
  }

  /** Next op time (ns); each op is 1 ms after the previous. */
  long now() {
    return time;
  }

  OpRecord add(String path, Object body) {
    return add(path.getBytes(StandardCharsets.UTF_8), body, true, true);
  }

  OpRecord add(byte[] path, Object body, boolean withMtime, boolean withParentMtime) {
    time += 1_000_000L;
    long seq = nextSeq++;
    int p = partitionOf(path, partitions);
    OpRecord op =
        OpRecord.newBuilder()
            .setVolume(volume)
            .setEpoch(epoch)
            .setSeq(seq)
            .setPartition(p)
            .setPartitionPrevSeq(last[p])
            .setTime(time)
            .setPath(ByteBuffer.wrap(path))
            .setOp(body)
            .setMtime(withMtime ? time : null)
            .setParentMtime(withParentMtime ? time : null)
            .build();
    last[p] = seq;
    ops.add(op);
    return op;
  }

  /** The ops of one partition, in order. */
  List<OpRecord> partition(int p) {
    List<OpRecord> out = new ArrayList<>();
    for (OpRecord op : ops) {
      if (op.getPartition() == p) {
        out.add(op);
      }
    }
    return out;
  }

  static ByteBuffer buf(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  static ByteBuffer buf(byte[] b) {
    return ByteBuffer.wrap(b);
  }
}
