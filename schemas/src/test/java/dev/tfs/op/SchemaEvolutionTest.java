package dev.tfs.op;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.schema.OpRecord;
import java.io.InputStream;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * Records written with v1 must stay readable when the schema grows. A simulated v2 (v1 plus a field
 * with a default and a new union branch, the only kind of change the evolution rule allows) reads
 * the recorded v1 fixture bytes through the same bounded decoder the codec uses.
 */
class SchemaEvolutionTest {
  @Test
  void aNewerReaderDecodesTheV1Fixture() throws Exception {
    Schema v1 = OpSchemas.versions().get(0);
    Schema v2;
    try (InputStream in = getClass().getResourceAsStream("/op-v2-simulated.avsc")) {
      v2 = new Schema.Parser().parse(in);
    }
    List<byte[]> values = OpCodecTest.readFixture("/op-v1-fixture.bin");
    List<OpRecord> expected = OpFixtures.everyKind();
    GenericDatumReader<GenericRecord> reader = new GenericDatumReader<>(v1, v2);
    for (int i = 0; i < values.size(); i++) {
      byte[] v = values.get(i);
      BoundedBinaryDecoder in = new BoundedBinaryDecoder(v, 10, v.length - 10);
      GenericRecord r = reader.read(null, in);
      assertThat(in.remaining()).isZero();
      OpRecord want = expected.get(i);
      assertThat(r.get("origin").toString()).isEmpty();
      assertThat(r.get("seq")).isEqualTo(want.getSeq());
      assertThat(r.get("path")).isEqualTo(want.getPath());
      assertThat(((GenericRecord) r.get("op")).getSchema().getName())
          .isEqualTo(want.getOp().getClass().getSimpleName());
    }
  }
}
