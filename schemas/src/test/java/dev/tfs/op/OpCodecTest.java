package dev.tfs.op;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import dev.tfs.registry.FakeSchemaRegistry;
import dev.tfs.registry.SchemaRegistryClient;
import dev.tfs.registry.SchemaRegistryException;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpCodecTest {
  private FakeSchemaRegistry server;
  private SchemaRegistryClient registry;

  @BeforeEach
  void start() throws Exception {
    server = new FakeSchemaRegistry();
    registry =
        new SchemaRegistryClient(server.url(), Duration.ofSeconds(5), 2, Duration.ofMillis(1));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void fixtureCoversEveryKind() {
    Set<OpKind> kinds = EnumSet.noneOf(OpKind.class);
    OpFixtures.everyKind().forEach(op -> kinds.add(OpKind.of(op)));
    assertThat(kinds).containsExactlyInAnyOrder(OpKind.values());
  }

  @Test
  void everyKindRoundTripsInSingleObjectFraming() throws Exception {
    OpCodec codec = new OpCodec();
    for (OpRecord op : OpFixtures.everyKind()) {
      byte[] value = codec.encode(op);
      assertThat(value[0]).isEqualTo((byte) 0xC3);
      assertThat(value[1]).isEqualTo((byte) 0x01);
      assertThat(OpCodec.framing(value)).isEqualTo(Framing.SINGLE_OBJECT);
      assertThat(codec.decode(value)).as(Ops.describe(op)).isEqualTo(op);
    }
  }

  @Test
  void everyKindRoundTripsInConfluentFraming() throws Exception {
    OpCodec writer = new OpCodec(registry);
    int id = writer.registerFor("tfs.fixture-vol.ops");
    assertThat(server.requests())
        .containsExactly("POST /subjects/tfs.fixture-vol.ops-value/versions");

    // A separate reader with a cold cache resolves the id through the registry.
    OpCodec reader =
        new OpCodec(
            new SchemaRegistryClient(server.url(), Duration.ofSeconds(5), 1, Duration.ofMillis(1)));
    for (OpRecord op : OpFixtures.everyKind()) {
      byte[] value = OpCodec.toConfluent(writer.encode(op), id);
      assertThat(value[0]).isEqualTo((byte) 0);
      assertThat(ByteBuffer.wrap(value, 1, 4).getInt()).isEqualTo(id);
      assertThat(OpCodec.framing(value)).isEqualTo(Framing.CONFLUENT);
      assertThat(reader.decode(value)).as(Ops.describe(op)).isEqualTo(op);
    }
    assertThat(server.requests()).containsOnlyOnce("GET /schemas/ids/" + id);
  }

  @Test
  void confluentValueWithoutRegistryNamesTheMissingSetting() throws Exception {
    OpCodec writer = new OpCodec(registry);
    byte[] value = OpCodec.toConfluent(writer.encode(OpFixtures.everyKind().get(1)), 42);
    assertThatThrownBy(() -> new OpCodec().decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.NO_REGISTRY))
        .hasMessageContaining("schema id 42")
        .hasMessageContaining("registry URL");
  }

  @Test
  void confluentIdOfANonOpSchemaIsUnresolvable() {
    int id = server.put(Schema.create(Schema.Type.STRING));
    byte[] value = {0, 0, 0, 0, (byte) id, 2, 'h', 'i'};
    assertThatThrownBy(() -> new OpCodec(registry).decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID));
  }

  @Test
  void confluentIdUnknownToTheRegistryIsUnresolvable() {
    byte[] value = {0, 0, 0, 1, 0, 2};
    assertThatThrownBy(() -> new OpCodec(registry).decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID));
  }

  @Test
  void registryOutageIsRetriableNotACorruptRecord() throws Exception {
    OpCodec writer = new OpCodec(registry);
    int id = writer.registerFor("t");
    byte[] value = OpCodec.toConfluent(writer.encode(OpFixtures.everyKind().get(1)), id);
    OpCodec cold =
        new OpCodec(
            new SchemaRegistryClient(server.url(), Duration.ofSeconds(5), 1, Duration.ofMillis(1)));
    server.failNext(1, 503);
    assertThatThrownBy(() -> cold.decode(value))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class, e -> assertThat(e.retriable()).isTrue());
    assertThat(cold.decode(value)).isEqualTo(OpFixtures.everyKind().get(1));
  }

  /**
   * The v1 fixture was written once by {@link WriteFixture} and is kept as bytes: today's reader
   * must decode every record of it to exactly the ops it was made from.
   */
  @Test
  void decodesTheRecordedV1Fixture() throws Exception {
    List<byte[]> values = readFixture("/op-v1-fixture.bin");
    List<OpRecord> expected = OpFixtures.everyKind();
    assertThat(values).hasSameSizeAs(expected);
    OpCodec codec = new OpCodec();
    List<OpRecord> decoded = new ArrayList<>();
    for (byte[] v : values) {
      decoded.add(codec.decode(v));
    }
    assertThat(decoded).isEqualTo(expected);
  }

  @Test
  void everyBundledVersionIsReadableByTheCurrentSchema() {
    Schema current = OpSchemas.current();
    List<Schema> versions = OpSchemas.versions();
    assertThat(versions).isNotEmpty();
    assertThat(OpSchemas.fingerprint(versions.get(versions.size() - 1)))
        .as("the newest bundled version is the generated schema: add vN.avsc when changing it")
        .isEqualTo(OpSchemas.fingerprint(current));
    for (Schema v : versions) {
      assertThat(SchemaCompatibility.checkReaderWriterCompatibility(current, v).getType())
          .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    }
  }

  @Test
  void unknownFingerprintNamesTheLikelyCause() {
    byte[] value = {(byte) 0xC3, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0};
    assertThatThrownBy(() -> new OpCodec().decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.UNKNOWN_SCHEMA))
        .hasMessageContaining("newer tfs");
  }

  @Test
  void otherFramingsAreRefused() {
    assertReason(new byte[0], OpDecodeException.Reason.EMPTY);
    assertReason(null, OpDecodeException.Reason.EMPTY);
    assertReason("{\"json\":1}".getBytes(), OpDecodeException.Reason.UNKNOWN_FRAMING);
    assertReason(new byte[] {(byte) 0xC3}, OpDecodeException.Reason.TRUNCATED_HEADER);
    assertReason(new byte[] {(byte) 0xC3, 1, 0}, OpDecodeException.Reason.TRUNCATED_HEADER);
    assertReason(new byte[] {0, 0, 1}, OpDecodeException.Reason.TRUNCATED_HEADER);
  }

  @Test
  void trailingBytesAreRefused() throws Exception {
    byte[] value = new OpCodec().encode(OpFixtures.everyKind().get(2));
    byte[] longer = java.util.Arrays.copyOf(value, value.length + 1);
    assertReason(longer, OpDecodeException.Reason.TRAILING_BYTES);
  }

  @Test
  void hostileFieldsDecodeButAreRefused() {
    OpRecord traversal = OpFixtures.write(1, "a", 0, new byte[] {1});
    traversal.setPath(ByteBuffer.wrap("../etc/passwd".getBytes()));
    // encode() refuses to write it, so build the bytes with the rules bypassed.
    byte[] value = RawEncoding.encodeUnchecked(traversal);
    assertThatThrownBy(() -> new OpCodec().decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.INVALID_FIELD))
        .hasMessageContaining("'..' segment");
    assertThatThrownBy(() -> new OpCodec().encode(traversal))
        .isInstanceOf(IllegalArgumentException.class);

    OpRecord negative = OpFixtures.write(1, "a", -5, new byte[] {1});
    assertThatThrownBy(() -> new OpCodec().decode(RawEncoding.encodeUnchecked(negative)))
        .isInstanceOfSatisfying(
            OpDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(OpDecodeException.Reason.INVALID_FIELD));
  }

  @Test
  void reframingKeepsTheBodyAndRefusesForeignValues() {
    OpCodec codec = new OpCodec();
    OpRecord op = OpFixtures.write(3, "f", 7, new byte[] {9, 9});
    byte[] soe = codec.encode(op);
    byte[] conf = OpCodec.toConfluent(soe, 0x01020304);
    assertThat(conf.length).isEqualTo(soe.length - 5);
    assertThat(java.util.Arrays.copyOfRange(conf, 5, conf.length))
        .isEqualTo(java.util.Arrays.copyOfRange(soe, 10, soe.length));
    assertThatThrownBy(() -> OpCodec.toConfluent(new byte[] {1, 2, 3}, 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void writeBodiesCarryTheirBytes() throws Exception {
    OpRecord op = OpFixtures.write(1, "x", 100, new byte[] {1, 2, 3});
    OpRecord back = new OpCodec().decode(new OpCodec().encode(op));
    assertThat(Ops.bytes(((Write) back.getOp()).getData())).containsExactly(1, 2, 3);
    assertThat(Ops.dataBytes(back)).isEqualTo(3);
  }

  private static void assertReason(byte[] value, OpDecodeException.Reason reason) {
    assertThatThrownBy(() -> new OpCodec().decode(value))
        .isInstanceOfSatisfying(
            OpDecodeException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  static List<byte[]> readFixture(String resource) throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (InputStream raw = OpCodecTest.class.getResourceAsStream(resource)) {
      assertThat(raw).as(resource).isNotNull();
      DataInputStream in = new DataInputStream(raw);
      while (in.available() > 0) {
        byte[] v = new byte[in.readInt()];
        in.readFully(v);
        out.add(v);
      }
    }
    return out;
  }
}
