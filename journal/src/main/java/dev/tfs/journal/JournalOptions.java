package dev.tfs.journal;

import dev.tfs.op.OpCodec;
import dev.tfs.op.Volumes;
import dev.tfs.op.WriteChunker;

/**
 * How a {@link JournalWriter} creates or reopens a journal. Build with {@link #builder()}; {@link
 * Builder#volume} and {@link Builder#partitions} are required.
 *
 * <p>{@code volume}, {@code partitions} and {@code maxRecordBytes} are recorded in {@code
 * journal.meta} when the journal is created and must match when it is reopened: the partition of
 * every op and the partition chains depend on them. The other options may change between opens.
 */
public final class JournalOptions {
  /** Default segment size: 64 MiB. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  /** Default spool quota: 8 GiB of unshipped ops. */
  public static final long DEFAULT_SPOOL_MAX_BYTES = 8L << 30;

  /** Default group-commit interval for {@link Durability#GROUP}. */
  public static final int DEFAULT_GROUP_COMMIT_MILLIS = 5;

  /** Default interval at which the writer re-reads the {@code acked} file. */
  public static final int DEFAULT_ACK_POLL_MILLIS = 100;

  /** Largest partition count: bounds the segment header (8 bytes per partition). */
  public static final int MAX_PARTITIONS = 10_000;

  /** Smallest segment size accepted (tests use small segments to exercise rolls). */
  public static final long MIN_SEGMENT_BYTES = 4096;

  private final String volume;
  private final int partitions;
  private final Durability durability;
  private final int groupCommitMillis;
  private final long segmentBytes;
  private final long spoolMaxBytes;
  private final int maxRecordBytes;
  private final int ackPollMillis;

  private JournalOptions(Builder b) {
    this.volume = b.volume;
    this.partitions = b.partitions;
    this.durability = b.durability;
    this.groupCommitMillis = b.groupCommitMillis;
    this.segmentBytes = b.segmentBytes;
    this.spoolMaxBytes = b.spoolMaxBytes;
    this.maxRecordBytes = b.maxRecordBytes;
    this.ackPollMillis = b.ackPollMillis;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, to derive variants. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.volume = volume;
    b.partitions = partitions;
    b.durability = durability;
    b.groupCommitMillis = groupCommitMillis;
    b.segmentBytes = segmentBytes;
    b.spoolMaxBytes = spoolMaxBytes;
    b.maxRecordBytes = maxRecordBytes;
    b.ackPollMillis = ackPollMillis;
    return b;
  }

  /** The volume name ({@link Volumes} rules); ops get it as their {@code volume}. */
  public String volume() {
    return volume;
  }

  /** Topic partition count, 1..{@value #MAX_PARTITIONS}; fixed for the life of the journal. */
  public int partitions() {
    return partitions;
  }

  public Durability durability() {
    return durability;
  }

  /** fsync interval of {@link Durability#GROUP}, in ms (1..10000). */
  public int groupCommitMillis() {
    return groupCommitMillis;
  }

  /** A segment is rolled once it has reached this many bytes (and holds at least one op). */
  public long segmentBytes() {
    return segmentBytes;
  }

  /**
   * Quota on unshipped bytes (OP entries above the acknowledged seq plus unresolved intents): while
   * it is reached, {@code intent} and {@code commit} block until acknowledgements free space.
   */
  public long spoolMaxBytes() {
    return spoolMaxBytes;
  }

  /** Largest Kafka record value an op may encode to; larger ops are refused (chunk writes). */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  /** How often the writer re-reads {@code acked} written by another process, in ms. */
  public int ackPollMillis() {
    return ackPollMillis;
  }

  @Override
  public String toString() {
    return "JournalOptions{volume="
        + volume
        + ", partitions="
        + partitions
        + ", durability="
        + durability
        + ", groupCommitMillis="
        + groupCommitMillis
        + ", segmentBytes="
        + segmentBytes
        + ", spoolMaxBytes="
        + spoolMaxBytes
        + ", maxRecordBytes="
        + maxRecordBytes
        + ", ackPollMillis="
        + ackPollMillis
        + "}";
  }

  /** Builder; every setter validates its argument and throws IllegalArgumentException. */
  public static final class Builder {
    private String volume;
    private int partitions;
    private Durability durability = Durability.GROUP;
    private int groupCommitMillis = DEFAULT_GROUP_COMMIT_MILLIS;
    private long segmentBytes = DEFAULT_SEGMENT_BYTES;
    private long spoolMaxBytes = DEFAULT_SPOOL_MAX_BYTES;
    private int maxRecordBytes = OpCodec.DEFAULT_MAX_RECORD_BYTES;
    private int ackPollMillis = DEFAULT_ACK_POLL_MILLIS;

    private Builder() {}

    public Builder volume(String volume) {
      this.volume = Volumes.validate(volume);
      return this;
    }

    public Builder partitions(int partitions) {
      if (partitions < 1 || partitions > MAX_PARTITIONS) {
        throw new IllegalArgumentException(
            "partitions must be in [1, " + MAX_PARTITIONS + "], got " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    public Builder durability(Durability durability) {
      if (durability == null) {
        throw new IllegalArgumentException("durability must not be null");
      }
      this.durability = durability;
      return this;
    }

    public Builder groupCommitMillis(int millis) {
      if (millis < 1 || millis > 10_000) {
        throw new IllegalArgumentException(
            "groupCommitMillis must be in [1, 10000], got " + millis);
      }
      this.groupCommitMillis = millis;
      return this;
    }

    public Builder segmentBytes(long bytes) {
      if (bytes < MIN_SEGMENT_BYTES || bytes > (1L << 40)) {
        throw new IllegalArgumentException(
            "segmentBytes must be in [" + MIN_SEGMENT_BYTES + ", 1 TiB], got " + bytes);
      }
      this.segmentBytes = bytes;
      return this;
    }

    public Builder spoolMaxBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("spoolMaxBytes must be positive, got " + bytes);
      }
      this.spoolMaxBytes = bytes;
      return this;
    }

    public Builder maxRecordBytes(int bytes) {
      if (bytes < WriteChunker.MIN_RECORD_BYTES || bytes > Format.MAX_RECORD_BYTES) {
        throw new IllegalArgumentException(
            "maxRecordBytes must be in ["
                + WriteChunker.MIN_RECORD_BYTES
                + ", "
                + Format.MAX_RECORD_BYTES
                + "], got "
                + bytes);
      }
      this.maxRecordBytes = bytes;
      return this;
    }

    public Builder ackPollMillis(int millis) {
      if (millis < 1 || millis > 60_000) {
        throw new IllegalArgumentException("ackPollMillis must be in [1, 60000], got " + millis);
      }
      this.ackPollMillis = millis;
      return this;
    }

    /**
     * The options, checked.
     *
     * @throws IllegalArgumentException when volume or partitions were not set
     */
    public JournalOptions build() {
      if (volume == null) {
        throw new IllegalArgumentException("JournalOptions: volume is required");
      }
      if (partitions == 0) {
        throw new IllegalArgumentException(
            "JournalOptions: partitions is required (the topic's partition count)");
      }
      return new JournalOptions(this);
    }
  }
}
