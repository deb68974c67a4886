package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.CODEC;
import static dev.tfs.journal.TestSupport.T0;
import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.draft;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.readAll;
import static dev.tfs.journal.TestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.OpFixtures;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoundTripTest {
  @TempDir Path dir;

  @Test
  void everyOpKindRoundTripsExactly() {
    List<OpRecord> fixtures = OpFixtures.everyKind();
    JournalMeta meta;
    List<Long> seqs = new ArrayList<>();
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      for (OpRecord f : fixtures) {
        seqs.add(w.commit(0, draft(f)));
      }
    }
    List<JournalEntry> entries = readAll(dir);
    assertThat(entries).hasSize(fixtures.size());
    for (int i = 0; i < fixtures.size(); i++) {
      OpRecord f = fixtures.get(i);
      JournalEntry e = entries.get(i);
      OpRecord got = decode(e);
      // the journal fills in what it owns: the seq commit returned, its volume, epoch, partition
      assertThat(got.getSeq()).isEqualTo(seqs.get(i));
      assertThat(got.getVolume()).isEqualTo("vol");
      assertThat(got.getEpoch()).isEqualTo(meta.epoch());
      assertThat(got.getPartition())
          .isEqualTo(KafkaPartitioner.partition(Ops.path(f), meta.partitions()));
      OpRecord expected =
          OpRecord.newBuilder(f)
              .setVolume("vol")
              .setEpoch(meta.epoch())
              .setSeq(i + 1)
              .setPartition(e.partition())
              .setPartitionPrevSeq(got.getPartitionPrevSeq())
              .build();
      assertThat(got).isEqualTo(expected);
      // the value is exactly what OpCodec produces: the shipper sends it unchanged
      assertThat(e.value()).isEqualTo(CODEC.encode(expected));
      assertThat(e.key()).isEqualTo(Ops.path(f));
      assertThat(e.partition()).isEqualTo(KafkaPartitioner.partition(e.key(), 4));
      assertThat(e.seq()).isEqualTo(i + 1);
      assertThat(e.segment()).isEqualTo(Format.segmentName(1));
    }
  }

  @Test
  void seqsAreDenseAndPartitionChainsLinkEachPartition() {
    Random rnd = new Random(42);
    int n = 300;
    Map<Long, Long> firstOfCommit = new HashMap<>();
    try (JournalWriter w = JournalWriter.open(dir, options().partitions(7).build())) {
      for (int i = 0; i < n; ) {
        // single ops and multi-op commits, with repeated paths in one commit
        int batch = 1 + rnd.nextInt(4);
        List<OpDraft> ops = new ArrayList<>();
        int before = i;
        for (int j = 0; j < batch && i < n; j++, i++) {
          ops.add(create("d/f" + rnd.nextInt(40)));
        }
        long first = w.commit(0, ops);
        // the ops got consecutive seqs from first, in list order (read back below)
        assertThat(first).isEqualTo(before + 1);
        for (int j = 0; j < ops.size(); j++) {
          firstOfCommit.put(first + j, first);
        }
      }
      assertThat(w.stats().nextSeq()).isEqualTo(n + 1);
    }
    List<JournalEntry> entries = readAll(dir);
    Map<Integer, Long> last = new HashMap<>();
    for (int i = 0; i < n; i++) {
      JournalEntry e = entries.get(i);
      OpRecord op = decode(e);
      assertThat(e.seq()).isEqualTo(i + 1);
      assertThat(op.getSeq()).isEqualTo(i + 1);
      assertThat(firstOfCommit).containsKey(op.getSeq());
      assertThat(op.getPartition()).isEqualTo(e.partition());
      assertThat(op.getPartitionPrevSeq())
          .as("prev of seq %d in partition %d", e.seq(), e.partition())
          .isEqualTo(last.getOrDefault(e.partition(), 0L));
      last.put(e.partition(), e.seq());
    }
    assertThat(last).hasSize(7); // 40 paths cover every partition
  }

  @Test
  void largeWritesAreChunkedToTheRecordBound() {
    byte[] data = new byte[3 * 512 * 1024 + 12345];
    new Random(7).nextBytes(data);
    int chunks;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      List<OpDraft> ops = w.writeOps(bytes("big"), 100, data, 0, data.length, 5L, 6L);
      chunks = ops.size();
      assertThat(chunks).isEqualTo(4);
      w.commit(0, ops);
    }
    ByteArrayOutputStream back = new ByteArrayOutputStream();
    long offset = 100;
    for (JournalEntry e : readAll(dir)) {
      assertThat(e.value().length).isLessThanOrEqualTo(512 * 1024);
      Write wr = (Write) decode(e).getOp();
      assertThat(wr.getOffset()).isEqualTo(offset);
      byte[] d = Ops.bytes(wr.getData());
      back.write(d, 0, d.length);
      offset += d.length;
    }
    assertThat(back.toByteArray()).isEqualTo(data);
  }

  @Test
  void invalidOpsAreRefusedAndNothingIsWritten() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      w.commit(0, create("ok"));
      JournalStats before = w.stats();
      // OpRules: traversal path
      assertThatThrownBy(() -> w.commit(0, List.of(create("fine"), create("a/../b"))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'..'");
      // incomplete: no op body (a draft cannot be built without one), or not an op body
      assertThatThrownBy(() -> w.commit(0, new OpDraft(bytes("x"), T0, null, null, null)))
          .isInstanceOf(NullPointerException.class)
          .hasMessageContaining("body");
      assertThatThrownBy(() -> w.commit(0, new OpDraft(bytes("x"), T0, "no body", null, null)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not an op body");
      // too large for one record: must be chunked
      assertThatThrownBy(() -> w.commit(0, write("x", 0, new byte[600 * 1024])))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("maxRecordBytes")
          .hasMessageContaining("writeOps");
      assertThatThrownBy(() -> w.commit(0, List.of())).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.commit(12345, create("y")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("intent 12345 is not unresolved");
      JournalStats after = w.stats();
      assertThat(after.nextSeq()).isEqualTo(before.nextSeq());
      assertThat(after.journalBytes()).isEqualTo(before.journalBytes());
      w.commit(0, create("ok2"));
    }
    assertThat(readAll(dir)).extracting(JournalEntry::seq).containsExactly(1L, 2L);
  }

  @Test
  void splicedValuesEqualOpCodecForEverySeqWidth() {
    OpEncoder enc = new OpEncoder("some-volume", 1_763_769_600_123L, 13);
    assertThat(enc.splicing()).isTrue();
    long[] seqs = {1, 63, 64, 8191, 8192, 1L << 31, 1L << 40, Long.MAX_VALUE / 2};
    for (OpRecord f : OpFixtures.everyKind()) {
      for (long seq : seqs) {
        long prev = seq / 3;
        OpEncoder.Prepared p = enc.prepare(draft(f));
        enc.frame(p, seq, prev, 9);
        OpRecord expected =
            OpRecord.newBuilder(f)
                .setVolume("some-volume")
                .setEpoch(1_763_769_600_123L)
                .setSeq(seq)
                .setPartition(KafkaPartitioner.partition(Ops.path(f), 13))
                .setPartitionPrevSeq(prev)
                .build();
        byte[] value = OpEncoder.value(p);
        assertThat(value).isEqualTo(CODEC.encode(expected));
        assertThat(enc.valueLength(p, seq, prev)).isEqualTo(value.length);
      }
    }
  }
}
