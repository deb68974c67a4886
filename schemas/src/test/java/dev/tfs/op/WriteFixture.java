package dev.tfs.op;

import dev.tfs.op.schema.OpRecord;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * Writes {@code op-v1-fixture.bin} from {@link OpFixtures#everyKind()}: each value as a 4-byte
 * big-endian length and the single-object-encoded bytes. Run once when a schema version is
 * released; the file is then kept as it is, never regenerated.
 */
public final class WriteFixture {
  private WriteFixture() {}

  public static void main(String[] args) throws IOException {
    OpCodec codec = new OpCodec();
    try (DataOutputStream out = new DataOutputStream(new FileOutputStream(args[0]))) {
      for (OpRecord op : OpFixtures.everyKind()) {
        byte[] v = codec.encode(op);
        out.writeInt(v.length);
        out.write(v);
      }
    }
  }
}
