package dev.tfs.op;

import dev.tfs.op.schema.Write;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a write into {@link Write} op bodies small enough that each encoded record value stays
 * within a configured size, in either framing.
 *
 * <p>The bound is computed from the worst-case encoding of every other field of the op (varints at
 * their longest, both optional times present), so it holds for any seq, time or partition.
 */
public final class WriteChunker {
  /** Smallest record bound accepted: room for the longest path plus a useful amount of data. */
  public static final int MIN_RECORD_BYTES = 16 * 1024;

  /**
   * Fixed worst-case overhead of an op besides volume, path and data: the framing header (10),
   * epoch, seq, partitionPrevSeq, time, offset (10 each), partition and union index (5 each),
   * length prefixes of volume, path and data (5 each), two optional times (1 + 10 each).
   */
  static final int FIXED_OVERHEAD = 10 + 5 * 10 + 2 * 5 + 3 * 5 + 2 * 11;

  private final int maxRecordBytes;

  public WriteChunker(int maxRecordBytes) {
    if (maxRecordBytes < MIN_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "maximum record size " + maxRecordBytes + " is below the minimum " + MIN_RECORD_BYTES);
    }
    this.maxRecordBytes = maxRecordBytes;
  }

  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  /** Most data bytes one Write op for this volume and path may carry. */
  public int maxDataBytes(String volume, byte[] path) {
    int volumeBytes = volume.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    int room = maxRecordBytes - FIXED_OVERHEAD - volumeBytes - path.length;
    if (room < 1) {
      throw new IllegalArgumentException("maximum record size leaves no room for data");
    }
    return room;
  }

  /**
   * The write of {@code length} bytes of {@code data} from {@code from}, at file {@code offset}, as
   * consecutive Write bodies. A zero-length write yields one empty Write (it still updates times).
   * The bodies share {@code data}'s memory: do not modify it while they are in use.
   */
  public List<Write> chunk(
      String volume, byte[] path, long offset, byte[] data, int from, int length) {
    int max = maxDataBytes(volume, path);
    List<Write> out = new ArrayList<>(Math.max(1, (length + max - 1) / max));
    if (length == 0) {
      out.add(new Write(offset, ByteBuffer.wrap(data, from, 0).slice()));
      return out;
    }
    for (int done = 0; done < length; ) {
      int n = Math.min(max, length - done);
      out.add(new Write(offset + done, ByteBuffer.wrap(data, from + done, n).slice()));
      done += n;
    }
    return out;
  }
}
