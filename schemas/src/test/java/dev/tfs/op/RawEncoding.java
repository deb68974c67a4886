package dev.tfs.op;

import dev.tfs.op.schema.OpRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/** Encodes an op as single-object bytes without {@link OpRules}: how a hostile producer would. */
public final class RawEncoding {
  private RawEncoding() {}

  public static byte[] encodeUnchecked(OpRecord op) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long fp = OpSchemas.fingerprint(OpSchemas.current());
      out.write(0xC3);
      out.write(0x01);
      for (int i = 0; i < 8; i++) {
        out.write((int) (fp >>> (8 * i)) & 0xff);
      }
      BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
      new SpecificDatumWriter<>(OpRecord.class).write(op, enc);
      enc.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
