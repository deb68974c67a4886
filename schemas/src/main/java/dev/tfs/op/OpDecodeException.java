package dev.tfs.op;

/**
 * A record value that is not a valid op: wrong framing, a schema this reader does not know,
 * malformed Avro, or fields that break the op rules. The message says which, so an operator can
 * tell a corrupt record from a producer that is not tfs.
 */
public class OpDecodeException extends Exception {
  private static final long serialVersionUID = 1L;

  /** What was wrong with the bytes. */
  public enum Reason {
    /** The value is null or empty. */
    EMPTY,
    /** Neither Avro single-object encoding (C3 01) nor Confluent framing (00 + id). */
    UNKNOWN_FRAMING,
    /** Shorter than its framing header. */
    TRUNCATED_HEADER,
    /** Single-object encoding with a fingerprint of no schema version bundled in tfs-schemas. */
    UNKNOWN_SCHEMA,
    /** Confluent framing, but no schema registry is configured to resolve the id. */
    NO_REGISTRY,
    /** Confluent framing with an id the registry does not know, or whose schema is not an op. */
    UNRESOLVABLE_SCHEMA_ID,
    /** The Avro body does not decode under the writer schema. */
    MALFORMED,
    /** The Avro body decoded but bytes were left over. */
    TRAILING_BYTES,
    /** The op decoded but a field breaks the op rules (path, sizes, seq). */
    INVALID_FIELD
  }

  private final Reason reason;

  public OpDecodeException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public OpDecodeException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
