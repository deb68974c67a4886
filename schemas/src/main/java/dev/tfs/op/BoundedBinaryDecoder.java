package dev.tfs.op;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * An Avro binary decoder over one byte array that checks every length against the bytes that are
 * actually left before it allocates anything.
 *
 * <p>Avro's own {@code BinaryDecoder} allocates a buffer of whatever length a record claims (up to
 * about 2 GiB) before noticing the input is shorter, so a ten-byte hostile record can exhaust a
 * Connect worker's heap. Records reach us from a topic anyone with produce rights can write to, so
 * this decoder treats every length, count and index as hostile.
 */
final class BoundedBinaryDecoder extends Decoder {
  /** Upper bound on array and map items in one record; the op schema has none. */
  private static final long MAX_ITEMS = 1 << 20;

  private final byte[] buf;
  private int pos;
  private final int limit;
  private long items;

  BoundedBinaryDecoder(byte[] buf, int offset, int length) {
    this.buf = buf;
    this.pos = offset;
    this.limit = offset + length;
  }

  /** Bytes not yet consumed. */
  int remaining() {
    return limit - pos;
  }

  private void require(long n, String what) throws IOException {
    if (n < 0) {
      throw new IOException("negative " + what + " length " + n);
    }
    if (n > limit - pos) {
      throw new EOFException(
          what + " claims " + n + " bytes but only " + (limit - pos) + " remain in the record");
    }
  }

  @Override
  public void readNull() {}

  @Override
  public boolean readBoolean() throws IOException {
    require(1, "boolean");
    int b = buf[pos++];
    if (b != 0 && b != 1) {
      throw new IOException("invalid boolean byte " + b);
    }
    return b == 1;
  }

  @Override
  public int readInt() throws IOException {
    long v = readLong();
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new IOException("int out of range: " + v);
    }
    return (int) v;
  }

  @Override
  public long readLong() throws IOException {
    long raw = 0;
    int shift = 0;
    for (int i = 0; i < 10; i++) {
      require(1, "varint");
      int b = buf[pos++] & 0xff;
      raw |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
      shift += 7;
    }
    throw new IOException("varint longer than 10 bytes");
  }

  @Override
  public float readFloat() throws IOException {
    require(4, "float");
    int bits =
        (buf[pos] & 0xff)
            | (buf[pos + 1] & 0xff) << 8
            | (buf[pos + 2] & 0xff) << 16
            | (buf[pos + 3] & 0xff) << 24;
    pos += 4;
    return Float.intBitsToFloat(bits);
  }

  @Override
  public double readDouble() throws IOException {
    require(8, "double");
    long bits = 0;
    for (int i = 7; i >= 0; i--) {
      bits = (bits << 8) | (buf[pos + i] & 0xff);
    }
    pos += 8;
    return Double.longBitsToDouble(bits);
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int len = readLength("string");
    Utf8 out = old != null ? old : new Utf8();
    out.setByteLength(len);
    System.arraycopy(buf, pos, out.getBytes(), 0, len);
    pos += len;
    return out;
  }

  @Override
  public String readString() throws IOException {
    int len = readLength("string");
    String s = new String(buf, pos, len, StandardCharsets.UTF_8);
    pos += len;
    return s;
  }

  @Override
  public void skipString() throws IOException {
    pos += readLength("string");
  }

  /**
   * A view of the bytes inside the record value, not a copy: a 128 KiB write op is decoded without
   * allocating or zeroing another 128 KiB. The op therefore shares the value array; callers must
   * not modify the array while they use the op.
   */
  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int len = readLength("bytes");
    ByteBuffer out = ByteBuffer.wrap(buf, pos, len).slice();
    pos += len;
    return out;
  }

  @Override
  public void skipBytes() throws IOException {
    pos += readLength("bytes");
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    require(length, "fixed");
    System.arraycopy(buf, pos, bytes, start, length);
    pos += length;
  }

  @Override
  public void skipFixed(int length) throws IOException {
    require(length, "fixed");
    pos += length;
  }

  @Override
  public int readEnum() throws IOException {
    return readIndexLike("enum");
  }

  @Override
  public long readArrayStart() throws IOException {
    return readBlockCount("array");
  }

  @Override
  public long arrayNext() throws IOException {
    return readBlockCount("array");
  }

  @Override
  public long skipArray() throws IOException {
    // Items of unknown size cannot be skipped block-wise without the schema; the resolver then
    // skips item by item, which is bounded by the checks in the item reads.
    return readBlockCount("array");
  }

  @Override
  public long readMapStart() throws IOException {
    return readBlockCount("map");
  }

  @Override
  public long mapNext() throws IOException {
    return readBlockCount("map");
  }

  @Override
  public long skipMap() throws IOException {
    return readBlockCount("map");
  }

  @Override
  public int readIndex() throws IOException {
    return readIndexLike("union index");
  }

  private int readIndexLike(String what) throws IOException {
    long v = readLong();
    if (v < 0 || v > 1_000_000) {
      throw new IOException(what + " out of range: " + v);
    }
    return (int) v;
  }

  private int readLength(String what) throws IOException {
    long len = readLong();
    require(len, what);
    return (int) len;
  }

  private long readBlockCount(String what) throws IOException {
    long count = readLong();
    if (count == Long.MIN_VALUE) {
      throw new IOException(what + " block count out of range");
    }
    if (count < 0) {
      // A negative count is followed by the block's size in bytes.
      long size = readLong();
      require(size, what + " block");
      count = -count;
    }
    items += count;
    if (count > MAX_ITEMS || items > MAX_ITEMS) {
      throw new IOException(what + " claims " + count + " items, more than " + MAX_ITEMS);
    }
    return count;
  }
}
