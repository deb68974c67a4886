package dev.tfs.op;

import dev.tfs.op.schema.OpRecord;
import dev.tfs.registry.SchemaRegistryClient;
import dev.tfs.registry.SchemaRegistryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Encodes ops to Kafka record values and decodes them back, in both {@link Framing framings}.
 *
 * <p>Encoding always produces Avro single-object encoding; {@link #toConfluent} re-frames such a
 * value for a Confluent-API registry by swapping the 10-byte header for the 5-byte one (the Avro
 * body is identical), which is how a journal written without network access is shipped to a topic
 * that uses a registry.
 *
 * <p>Decoding accepts either framing, resolves the writer schema (a bundled version by fingerprint,
 * or a registry schema by id) against the current reader schema, and applies {@link OpRules}. Any
 * byte string that is not a valid op yields an {@link OpDecodeException}, never another exception
 * and never an allocation larger than the input: values come from a topic that anyone with produce
 * rights can write. A registry that cannot be reached yields a retriable {@link
 * SchemaRegistryException}, since the record itself may be fine.
 *
 * <p>Thread-safe.
 */
public final class OpCodec {
  /** Default bound on a record value: well under Kafka's default 1 MiB message limit. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 512 * 1024;

  static final byte SOE_MAGIC_0 = (byte) 0xC3;
  static final byte SOE_MAGIC_1 = (byte) 0x01;
  static final byte CONFLUENT_MAGIC = 0x00;

  static {
    trustGeneratedClasses();
  }

  private static final Schema READER = OpSchemas.current();
  private static final long CURRENT_FINGERPRINT = OpSchemas.fingerprint(READER);
  private static final byte[] CURRENT_HEADER = soeHeader(CURRENT_FINGERPRINT);
  private static final ThreadLocal<Encoding> ENCODING = ThreadLocal.withInitial(Encoding::new);

  private final SchemaRegistryClient registry;
  private final Map<Long, SpecificDatumReader<OpRecord>> readersByFingerprint =
      new ConcurrentHashMap<>();
  private final Map<Integer, SpecificDatumReader<OpRecord>> readersById = new ConcurrentHashMap<>();

  /** A codec without a registry: Confluent-framed values fail with {@code NO_REGISTRY}. */
  public OpCodec() {
    this(null);
  }

  /** A codec that resolves Confluent schema ids through {@code registry} (may be null). */
  public OpCodec(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  /** The registry this codec uses, or null. */
  public SchemaRegistryClient registry() {
    return registry;
  }

  /**
   * The op as an Avro single-object-encoded value. The op is checked against {@link OpRules} first:
   * tfs never writes an op its readers would refuse.
   */
  public byte[] encode(OpRecord op) {
    OpRules.validate(op);
    Encoding enc = ENCODING.get();
    enc.out.reset();
    enc.out.write(CURRENT_HEADER, 0, CURRENT_HEADER.length);
    try {
      enc.encoder = EncoderFactory.get().directBinaryEncoder(enc.out, enc.encoder);
      enc.writer.write(op, enc.encoder);
      enc.encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return enc.out.toByteArray();
  }

  /**
   * Registers the current op schema under {@code <topic>-value} and returns its id.
   *
   * @throws IllegalStateException when this codec has no registry
   */
  public int registerFor(String topic) {
    if (registry == null) {
      throw new IllegalStateException("no schema registry configured");
    }
    return registry.register(topic + "-value", READER);
  }

  /**
   * Re-frames a single-object-encoded value written with the current schema as a Confluent value
   * with {@code schemaId}. The Avro body is copied unchanged.
   *
   * @throws IllegalArgumentException when {@code value} is not single-object encoded with the
   *     current schema (the id names the current schema only)
   */
  public static byte[] toConfluent(byte[] value, int schemaId) {
    if (value.length < Framing.SINGLE_OBJECT.headerBytes()
        || value[0] != SOE_MAGIC_0
        || value[1] != SOE_MAGIC_1
        || readFingerprint(value) != CURRENT_FINGERPRINT) {
      throw new IllegalArgumentException(
          "value is not single-object encoded with the current op schema");
    }
    int body = value.length - Framing.SINGLE_OBJECT.headerBytes();
    byte[] out = new byte[Framing.CONFLUENT.headerBytes() + body];
    out[0] = CONFLUENT_MAGIC;
    out[1] = (byte) (schemaId >>> 24);
    out[2] = (byte) (schemaId >>> 16);
    out[3] = (byte) (schemaId >>> 8);
    out[4] = (byte) schemaId;
    System.arraycopy(value, Framing.SINGLE_OBJECT.headerBytes(), out, 5, body);
    return out;
  }

  /**
   * The framing of a value, judged by its first bytes.
   *
   * @throws OpDecodeException EMPTY, TRUNCATED_HEADER or UNKNOWN_FRAMING
   */
  public static Framing framing(byte[] value) throws OpDecodeException {
    if (value == null || value.length == 0) {
      throw new OpDecodeException(OpDecodeException.Reason.EMPTY, "record value is empty");
    }
    if (value[0] == SOE_MAGIC_0) {
      if (value.length < 2 || value[1] != SOE_MAGIC_1) {
        throw new OpDecodeException(
            value.length < 2
                ? OpDecodeException.Reason.TRUNCATED_HEADER
                : OpDecodeException.Reason.UNKNOWN_FRAMING,
            "value starts with 0xC3 but not with the single-object marker C3 01");
      }
      if (value.length < Framing.SINGLE_OBJECT.headerBytes()) {
        throw new OpDecodeException(
            OpDecodeException.Reason.TRUNCATED_HEADER,
            "single-object value of " + value.length + " bytes is shorter than its 10-byte header");
      }
      return Framing.SINGLE_OBJECT;
    }
    if (value[0] == CONFLUENT_MAGIC) {
      if (value.length < Framing.CONFLUENT.headerBytes()) {
        throw new OpDecodeException(
            OpDecodeException.Reason.TRUNCATED_HEADER,
            "Confluent-framed value of "
                + value.length
                + " bytes is shorter than its 5-byte header");
      }
      return Framing.CONFLUENT;
    }
    throw new OpDecodeException(
        OpDecodeException.Reason.UNKNOWN_FRAMING,
        String.format(
            "first byte 0x%02x is neither Avro single-object encoding (C3 01) nor Confluent"
                + " framing (00); this record was not written by tfs",
            value[0] & 0xff));
  }

  /**
   * Decodes a record value in either framing into a valid op. The op's {@code bytes} fields (path,
   * write data, names) are views into {@code value}, not copies: do not modify {@code value} while
   * the op is in use.
   *
   * @throws OpDecodeException when the bytes are not a valid op (the reason says why)
   * @throws SchemaRegistryException when a Confluent schema id cannot be looked up because the
   *     registry is unavailable (retriable)
   */
  public OpRecord decode(byte[] value) throws OpDecodeException {
    Framing framing = framing(value);
    SpecificDatumReader<OpRecord> reader;
    if (framing == Framing.SINGLE_OBJECT) {
      reader = readerForFingerprint(readFingerprint(value));
    } else {
      int id =
          (value[1] & 0xff) << 24
              | (value[2] & 0xff) << 16
              | (value[3] & 0xff) << 8
              | (value[4] & 0xff);
      reader = readerForId(id);
    }
    int header = framing.headerBytes();
    BoundedBinaryDecoder in = new BoundedBinaryDecoder(value, header, value.length - header);
    OpRecord op;
    try {
      op = reader.read(null, in);
    } catch (IOException | AvroRuntimeException e) {
      throw new OpDecodeException(
          OpDecodeException.Reason.MALFORMED, "Avro body does not decode: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // Resolution of a corrupt union index or enum, or a field of the wrong shape.
      throw new OpDecodeException(
          OpDecodeException.Reason.MALFORMED, "Avro body does not decode: " + e, e);
    }
    if (in.remaining() != 0) {
      throw new OpDecodeException(
          OpDecodeException.Reason.TRAILING_BYTES,
          in.remaining() + " bytes left after the op; the value is corrupt or not an op");
    }
    String problem;
    try {
      problem = OpRules.problem(op);
    } catch (RuntimeException e) {
      problem = e.toString();
    }
    if (problem != null) {
      throw new OpDecodeException(
          OpDecodeException.Reason.INVALID_FIELD, "seq " + op.getSeq() + ": " + problem);
    }
    return op;
  }

  private SpecificDatumReader<OpRecord> readerForFingerprint(long fp) throws OpDecodeException {
    SpecificDatumReader<OpRecord> r = readersByFingerprint.get(fp);
    if (r != null) {
      return r;
    }
    Schema writer = OpSchemas.byFingerprint(fp);
    if (writer == null) {
      throw new OpDecodeException(
          OpDecodeException.Reason.UNKNOWN_SCHEMA,
          String.format(
              "schema fingerprint %016x is not a bundled op schema version; the record was written"
                  + " by a newer tfs (upgrade this reader) or by another producer",
              fp));
    }
    r = new SpecificDatumReader<>(writer, READER);
    readersByFingerprint.put(fp, r);
    return r;
  }

  private SpecificDatumReader<OpRecord> readerForId(int id) throws OpDecodeException {
    SpecificDatumReader<OpRecord> r = readersById.get(id);
    if (r != null) {
      return r;
    }
    if (registry == null) {
      throw new OpDecodeException(
          OpDecodeException.Reason.NO_REGISTRY,
          "value is Confluent-framed (schema id "
              + id
              + ") but no schema registry URL is"
              + " configured; set the registry URL to decode it");
    }
    Schema writer;
    try {
      writer = registry.schemaById(id);
    } catch (SchemaRegistryException e) {
      if (e.retriable()) {
        throw e;
      }
      throw new OpDecodeException(
          OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID,
          "schema id " + id + " cannot be resolved: " + e.getMessage(),
          e);
    }
    SchemaCompatibility.SchemaPairCompatibility compat =
        SchemaCompatibility.checkReaderWriterCompatibility(READER, writer);
    if (compat.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new OpDecodeException(
          OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID,
          "schema id "
              + id
              + " ("
              + writer.getFullName()
              + ") cannot be read as an op: "
              + compat.getDescription());
    }
    r = new SpecificDatumReader<>(writer, READER);
    readersById.put(id, r);
    return r;
  }

  /**
   * Avro 1.12 refuses to instantiate classes named by a schema unless they are trusted. Trust
   * exactly the generated op classes, keeping whatever else the process already trusts. Inside a
   * Connect worker this affects only the Avro copy in this plugin's class loader.
   */
  private static synchronized void trustGeneratedClasses() {
    ClassSecurityValidator.ClassSecurityPredicate current = ClassSecurityValidator.getGlobal();
    if (current.isTrusted(OpRecord.class)) {
      return;
    }
    ClassSecurityValidator.Builder ours = ClassSecurityValidator.builder().add(OpRecord.class);
    for (OpKind k : OpKind.values()) {
      ours.add(k.bodyClass());
    }
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(current, ours.build()));
  }

  private static long readFingerprint(byte[] value) {
    long fp = 0;
    for (int i = 9; i >= 2; i--) {
      fp = (fp << 8) | (value[i] & 0xff);
    }
    return fp;
  }

  private static byte[] soeHeader(long fp) {
    byte[] h = new byte[Framing.SINGLE_OBJECT.headerBytes()];
    h[0] = SOE_MAGIC_0;
    h[1] = SOE_MAGIC_1;
    for (int i = 0; i < 8; i++) {
      h[2 + i] = (byte) (fp >>> (8 * i));
    }
    return h;
  }

  /** Per-thread encoder state: the generated writer and a reusable buffer. */
  private static final class Encoding {
    final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    final SpecificDatumWriter<OpRecord> writer = new SpecificDatumWriter<>(READER);
    BinaryEncoder encoder;
  }
}
