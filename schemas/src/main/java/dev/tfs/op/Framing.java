package dev.tfs.op;

/** How an op's Avro body is framed in a Kafka record value. Every tfs decoder accepts both. */
public enum Framing {
  /**
   * Avro single-object encoding: {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint
   * (little-endian), then the Avro binary body. Needs no service: every released op schema version
   * is bundled in tfs-schemas. The default.
   */
  SINGLE_OBJECT(10),
  /**
   * Confluent wire format: magic byte {@code 00}, the 4-byte big-endian schema id assigned by a
   * Confluent-API schema registry (subject {@code <topic>-value}), then the Avro binary body.
   */
  CONFLUENT(5);

  private final int headerBytes;

  Framing(int headerBytes) {
    this.headerBytes = headerBytes;
  }

  /** Bytes before the Avro body. */
  public int headerBytes() {
    return headerBytes;
  }
}
