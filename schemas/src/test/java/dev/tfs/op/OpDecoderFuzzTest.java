package dev.tfs.op;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.schema.OpRecord;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Random and mutated bytes must either decode to a valid op or fail with {@link OpDecodeException}:
 * no other throwable, and no allocation beyond the input (surefire runs this module with a 256 MiB
 * heap, so a hostile length field that made the decoder allocate ~2 GiB would fail here with
 * OutOfMemoryError).
 */
class OpDecoderFuzzTest {
  private static final OpCodec CODEC = new OpCodec();
  private static final List<byte[]> VALID =
      OpFixtures.everyKind().stream().map(CODEC::encode).toList();

  @Property(tries = 3000)
  void randomBytesOnlyFailWithTheTypedException(@ForAll @Size(max = 300) byte[] value) {
    assertDecodesOrFailsTyped(value);
  }

  @Property(tries = 3000)
  void randomBodiesBehindAValidHeaderOnlyFailWithTheTypedException(
      @ForAll @Size(max = 300) byte[] body) {
    byte[] header = Arrays.copyOf(VALID.get(0), 10);
    byte[] value = Arrays.copyOf(header, 10 + body.length);
    System.arraycopy(body, 0, value, 10, body.length);
    assertDecodesOrFailsTyped(value);
  }

  @Property(tries = 5000)
  void mutatedValidRecordsOnlyFailWithTheTypedException(@ForAll("mutated") byte[] value) {
    assertDecodesOrFailsTyped(value);
  }

  @Property(tries = 500)
  void hostileLengthFieldsAreRefusedWithoutAllocating(
      @ForAll("validIndex") int which, @ForAll("hugeVarint") byte[] varint) {
    // Replace the volume length prefix (first field after the header) with a huge length.
    byte[] valid = VALID.get(which);
    byte[] value = new byte[10 + varint.length + 4];
    System.arraycopy(valid, 0, value, 0, 10);
    System.arraycopy(varint, 0, value, 10, varint.length);
    assertDecodesOrFailsTyped(value);
  }

  @Provide
  Arbitrary<Integer> validIndex() {
    return Arbitraries.integers().between(0, VALID.size() - 1);
  }

  @Provide
  Arbitrary<byte[]> hugeVarint() {
    return Arbitraries.longs()
        .between(1L << 20, Long.MAX_VALUE / 2)
        .map(OpDecoderFuzzTest::zigzagVarint);
  }

  @Provide
  Arbitrary<byte[]> mutated() {
    Arbitrary<byte[]> base = Arbitraries.of(VALID);
    Arbitrary<Integer> position = Arbitraries.integers().between(0, 10_000);
    Arbitrary<Integer> kind = Arbitraries.integers().between(0, 4);
    Arbitrary<Byte> b = Arbitraries.bytes();
    return Combinators.combine(base, position, kind, b)
        .as(
            (v, pos, k, x) -> {
              byte[] m = v.clone();
              int p = pos % m.length;
              switch (k) {
                case 0:
                  m[p] = x;
                  return m;
                case 1:
                  m[p] ^= (byte) (1 << (x & 7));
                  return m;
                case 2:
                  return Arrays.copyOf(m, p);
                case 3:
                  {
                    byte[] longer = new byte[m.length + 1];
                    System.arraycopy(m, 0, longer, 0, p);
                    longer[p] = x;
                    System.arraycopy(m, p, longer, p + 1, m.length - p);
                    return longer;
                  }
                default:
                  {
                    // Splice a 10-byte varint of all-ones (max length) in the middle.
                    byte[] longer = new byte[m.length + 10];
                    System.arraycopy(m, 0, longer, 0, p);
                    Arrays.fill(longer, p, p + 9, (byte) 0xff);
                    longer[p + 9] = 0x01;
                    System.arraycopy(m, p, longer, p + 10, m.length - p);
                    return longer;
                  }
              }
            });
  }

  private static void assertDecodesOrFailsTyped(byte[] value) {
    try {
      OpRecord op = CODEC.decode(value);
      assertThat(OpRules.problem(op)).isNull();
    } catch (OpDecodeException expected) {
      assertThat(expected.reason()).isNotNull();
    }
  }

  static byte[] zigzagVarint(long v) {
    long z = (v << 1) ^ (v >> 63);
    byte[] buf = new byte[10];
    int n = 0;
    while ((z & ~0x7fL) != 0) {
      buf[n++] = (byte) ((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    buf[n++] = (byte) z;
    return Arrays.copyOf(buf, n);
  }
}
