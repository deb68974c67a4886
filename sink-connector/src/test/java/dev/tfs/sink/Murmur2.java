package dev.tfs.sink;

/** Kafka's murmur2 and toPositive, as its default partitioner uses them (via kafka-clients). */
final class Murmur2 {
  private Murmur2() {}

  static int hash(byte[] data) {
    return org.apache.kafka.common.utils.Utils.murmur2(data);
  }

  static int toPositive(int n) {
    return org.apache.kafka.common.utils.Utils.toPositive(n);
  }
}
