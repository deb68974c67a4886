package dev.tfs.op;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WriteChunkerTest {
  private final OpCodec codec = new OpCodec();

  @Test
  void everyChunkFitsTheBoundInBothFramingsWithWorstCaseFields() {
    int max = WriteChunker.MIN_RECORD_BYTES;
    WriteChunker chunker = new WriteChunker(max);
    String volume = "v".repeat(200);
    byte[] path = ("p".repeat(250) + "/").repeat(17).substring(0, 4095).getBytes();
    byte[] data = new byte[200_000];
    new Random(1).nextBytes(data);
    long offset = (1L << 49) - data.length;

    List<Write> chunks = chunker.chunk(volume, path, offset, data, 0, data.length);
    assertThat(chunks.size()).isGreaterThan(10);
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    long expectOffset = offset;
    for (Write w : chunks) {
      assertThat(w.getOffset()).isEqualTo(expectOffset);
      byte[] bytes = Ops.bytes(w.getData());
      joined.write(bytes, 0, bytes.length);
      expectOffset += bytes.length;

      OpRecord op =
          OpRecord.newBuilder()
              .setVolume(volume)
              .setEpoch(Long.MAX_VALUE)
              .setSeq(Long.MAX_VALUE)
              .setPartition(Integer.MAX_VALUE)
              .setPartitionPrevSeq(Long.MAX_VALUE - 1)
              .setTime(Long.MIN_VALUE)
              .setPath(ByteBuffer.wrap(path))
              .setOp(w)
              .setMtime(Long.MIN_VALUE)
              .setParentMtime(Long.MIN_VALUE)
              .build();
      byte[] soe = codec.encode(op);
      assertThat(soe.length).isLessThanOrEqualTo(max);
      assertThat(OpCodec.toConfluent(soe, Integer.MAX_VALUE).length).isLessThanOrEqualTo(max);
    }
    assertThat(joined.toByteArray()).isEqualTo(data);
  }

  @Test
  void smallWritesStayWholeAndEmptyWritesSurvive() {
    WriteChunker chunker = new WriteChunker(OpCodec.DEFAULT_MAX_RECORD_BYTES);
    byte[] data = new byte[131072];
    List<Write> one = chunker.chunk("v", "f".getBytes(), 0, data, 0, data.length);
    assertThat(one).hasSize(1);
    List<Write> empty = chunker.chunk("v", "f".getBytes(), 10, data, 5, 0);
    assertThat(empty).singleElement().satisfies(w -> assertThat(w.getData().remaining()).isZero());
  }

  @Test
  void chunksRespectTheSourceRange() {
    WriteChunker chunker = new WriteChunker(WriteChunker.MIN_RECORD_BYTES);
    byte[] data = new byte[100_000];
    new Random(2).nextBytes(data);
    List<Write> chunks = chunker.chunk("v", "f".getBytes(), 0, data, 1000, 50_000);
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    chunks.forEach(w -> joined.writeBytes(Ops.bytes(w.getData())));
    assertThat(joined.toByteArray()).isEqualTo(Arrays.copyOfRange(data, 1000, 51_000));
  }

  @Test
  void refusesBoundsTooSmallToBeUseful() {
    assertThatThrownBy(() -> new WriteChunker(1000)).isInstanceOf(IllegalArgumentException.class);
  }
}
