package dev.tfs.journal;

import dev.tfs.path.OpPaths;

/**
 * One op read from the journal: what a shipper sends to Kafka (topic partition {@link
 * #partition()}, key {@link #key()}, value {@link #value()}) and where it was read.
 *
 * <p>The arrays are owned by the entry; the reader never reuses them.
 */
public final class JournalEntry {
  private final long seq;
  private final int partition;
  private final long intentId;
  private final byte[] key;
  private final byte[] value;
  private final String segment;
  private final long position;

  JournalEntry(
      long seq,
      int partition,
      long intentId,
      byte[] key,
      byte[] value,
      String segment,
      long position) {
    this.seq = seq;
    this.partition = partition;
    this.intentId = intentId;
    this.key = key;
    this.value = value;
    this.segment = segment;
    this.position = position;
  }

  /** The op's seq: dense within the journal's epoch. */
  public long seq() {
    return seq;
  }

  /** The Kafka partition: {@link KafkaPartitioner#partition} of the key. */
  public int partition() {
    return partition;
  }

  /** The intent this op resolved (set on the last op of a commit), 0 when none. */
  public long intentId() {
    return intentId;
  }

  /** The record key: the op's path bytes. */
  public byte[] key() {
    return key;
  }

  /** The record value: the op in Avro single-object encoding, exactly as appended. */
  public byte[] value() {
    return value;
  }

  /** File name of the segment the entry was read from. */
  public String segment() {
    return segment;
  }

  /** Byte position of the entry within {@link #segment()}. */
  public long position() {
    return position;
  }

  @Override
  public String toString() {
    return "JournalEntry{seq="
        + seq
        + ", partition="
        + partition
        + ", key="
        + OpPaths.display(key)
        + ", value="
        + value.length
        + " bytes, at "
        + segment
        + ":"
        + position
        + "}";
  }
}
