package dev.tfs.journal;

/**
 * The partition Kafka's default partitioner picks for a record key: {@code toPositive(murmur2(key))
 * % partitions}, as {@code BuiltInPartitioner.partitionForKey} computes it in kafka-clients. The
 * journal computes the partition itself (it cannot depend on kafka-clients) so both shippers
 * produce identical records and the partition chains hold whichever ships them.
 */
public final class KafkaPartitioner {
  private KafkaPartitioner() {}

  /** The partition of {@code key} among {@code partitions}. */
  public static int partition(byte[] key, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be positive, got " + partitions);
    }
    return toPositive(murmur2(key)) % partitions;
  }

  /**
   * 32-bit murmur2 of {@code data} with seed 0x9747b28c: the algorithm of kafka-clients' {@code
   * org.apache.kafka.common.utils.Utils.murmur2}, reproduced bit for bit.
   */
  @SuppressWarnings("fallthrough")
  public static int murmur2(byte[] data) {
    int length = data.length;
    int seed = 0x9747b28c;
    // 'm' and 'r' are mixing constants generated offline.
    final int m = 0x5bd1e995;
    final int r = 24;

    int h = seed ^ length;
    int length4 = length / 4;

    for (int i = 0; i < length4; i++) {
      final int i4 = i * 4;
      int k =
          (data[i4] & 0xff)
              + ((data[i4 + 1] & 0xff) << 8)
              + ((data[i4 + 2] & 0xff) << 16)
              + ((data[i4 + 3] & 0xff) << 24);
      k *= m;
      k ^= k >>> r;
      k *= m;
      h *= m;
      h ^= k;
    }

    // The last few bytes; the fall-through is intended.
    int index = length & ~3;
    switch (length % 4) {
      case 3:
        h ^= (data[index + 2] & 0xff) << 16;
      // fall through
      case 2:
        h ^= (data[index + 1] & 0xff) << 8;
      // fall through
      case 1:
        h ^= data[index] & 0xff;
        h *= m;
        break;
      default:
        break;
    }

    h ^= h >>> 13;
    h *= m;
    h ^= h >>> 15;
    return h;
  }

  /** Kafka's {@code Utils.toPositive}: clears the sign bit (not {@code Math.abs}). */
  public static int toPositive(int number) {
    return number & 0x7fffffff;
  }
}
