package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.OpRecord;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The merge by dense seq with plain records: partition numbers, offsets and OpRecords. */
class SeqMergeTest {
  final Map<Integer, MirrorState.PartitionPos> positions = new HashMap<>();
  final long[] nextOffset = new long[8];

  SeqMerge merge(long applied, long maxBytes, long timeoutMs, int partitions) {
    SeqMerge m =
        new SeqMerge(
            applied,
            maxBytes,
            timeoutMs,
            p -> positions.computeIfAbsent(p, k -> new MirrorState.PartitionPos(0, 0)));
    for (int p = 0; p < partitions; p++) {
      assertThat(m.open(p)).isZero();
    }
    return m;
  }

  static OpRecord op(long seq, int partition, long prev) {
    String path = "d" + seq;
    return OpRecord.newBuilder()
        .setVolume("v")
        .setEpoch(1)
        .setSeq(seq)
        .setPartition(partition)
        .setPartitionPrevSeq(prev)
        .setTime(seq)
        .setPath(ByteBuffer.wrap(path.getBytes(StandardCharsets.UTF_8)))
        .setOp(new Mkdir(0755, 0, 0))
        .build();
  }

  /** Delivers the op at the partition's next offset. */
  void deliver(SeqMerge m, OpRecord op, long now) {
    int p = op.getPartition();
    long offset = nextOffset[p]++;
    assertThat(m.admit(p, offset)).isEqualTo(SeqMerge.Admit.TAKE);
    m.arrive(p, offset, op, 100, now);
  }

  /** Applies whatever is next, returning the seqs in the order they were applied. */
  static List<Long> drain(SeqMerge m) {
    List<Long> out = new ArrayList<>();
    for (SeqMerge.Entry e = m.next(); e != null; e = m.next()) {
      out.add(e.seq());
      m.done(e);
    }
    return out;
  }

  @Test
  void outOfOrderPartitionsMergeByDenseSeq() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 2);
    // seq 1 and 3 in partition 0, seq 2 and 4 in partition 1; partition 1 arrives first.
    deliver(m, op(2, 1, 0), 0);
    deliver(m, op(4, 1, 2), 0);
    assertThat(drain(m)).isEmpty();
    assertThat(m.bufferedRecords()).isEqualTo(2);
    deliver(m, op(1, 0, 0), 0);
    assertThat(drain(m)).containsExactly(1L, 2L);
    deliver(m, op(3, 0, 1), 0);
    assertThat(drain(m)).containsExactly(3L, 4L);
    assertThat(m.applied()).isEqualTo(4);
    assertThat(m.bufferedRecords()).isZero();
    assertThat(m.bufferedBytes()).isZero();
    assertThat(m.committable()).containsEntry(0, 2L).containsEntry(1, 2L);
    assertThat(positions.get(1).lastSeq()).isEqualTo(4);
  }

  @Test
  void aRecordMissingFromAPartitionIsAGapWhenTheNextOneArrives() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 2);
    deliver(m, op(1, 0, 0), 0);
    assertThatThrownBy(() -> deliver(m, op(5, 0, 3), 0))
        .isInstanceOfSatisfying(
            SeqMerge.Gap.class,
            g -> {
              assertThat(g.partition).isZero();
              assertThat(g.offset).isEqualTo(1);
              assertThat(g.seq).isEqualTo(5);
              assertThat(g.partitionPrevSeq).isEqualTo(3);
              assertThat(g.lastInPartition).isEqualTo(1);
            });
  }

  @Test
  void aChainThatDoesNotContinueIsAGap() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 1);
    deliver(m, op(3, 0, 0), 0);
    // prev 2 is below the 3 this partition already holds: the chain breaks.
    assertThatThrownBy(() -> deliver(m, op(4, 0, 2), 0))
        .isInstanceOfSatisfying(
            SeqMerge.Gap.class, g -> assertThat(g.lastInPartition).isEqualTo(3));
  }

  @Test
  void duplicatesAreDroppedAndTheirOffsetsAccounted() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 1);
    deliver(m, op(1, 0, 0), 0);
    deliver(m, op(2, 0, 1), 0);
    assertThat(drain(m)).containsExactly(1L, 2L);
    // A shipper restart re-sends seq 2 and then seq 3.
    deliver(m, op(2, 0, 1), 0);
    assertThat(m.committable()).containsEntry(0, 3L);
    deliver(m, op(3, 0, 2), 0);
    assertThat(drain(m)).containsExactly(3L);
    assertThat(m.committable()).containsEntry(0, 4L);
    // Redelivery of what was accounted already never reaches the merge.
    assertThat(m.admit(0, 1)).isEqualTo(SeqMerge.Admit.DROP);
  }

  @Test
  void aDuplicateBehindBufferedRecordsWaitsInItsQueue() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 2);
    deliver(m, op(2, 0, 0), 0);
    deliver(m, op(2, 0, 0), 0); // duplicate at offset 1, behind the buffered seq 2
    assertThat(m.bufferedRecords()).isEqualTo(2);
    deliver(m, op(1, 1, 0), 0);
    assertThat(drain(m)).containsExactly(1L, 2L);
    assertThat(m.committable()).containsEntry(0, 2L);
  }

  @Test
  void aheadPartitionsArePausedOverTheBoundAndNeverTheOneHoldingTheNextSeq() {
    SeqMerge m = merge(0, 250, 60_000, 3);
    deliver(m, op(2, 1, 0), 0);
    deliver(m, op(3, 2, 0), 0);
    assertThat(m.pauses().pause()).isEmpty(); // 200 bytes, under the bound
    deliver(m, op(4, 2, 3), 0);
    SeqMerge.Pauses d = m.pauses();
    assertThat(d.pause()).containsExactly(1, 2); // 300 bytes: the ahead ones, not the empty 0
    assertThat(m.paused()).containsExactly(1, 2);
    assertThat(m.pauses().pause()).isEmpty(); // decided once
    deliver(m, op(1, 0, 0), 0);
    assertThat(drain(m)).containsExactly(1L, 2L, 3L, 4L);
    assertThat(m.pauses().resume()).containsExactly(1, 2);
    assertThat(m.paused()).isEmpty();
  }

  @Test
  void aPausedPartitionIsResumedWhenItsHeadBecomesTheNextSeq() {
    SeqMerge m = merge(0, 150, 60_000, 2);
    deliver(m, op(2, 1, 0), 0);
    deliver(m, op(3, 1, 2), 0);
    assertThat(m.pauses().pause()).containsExactly(1);
    deliver(m, op(1, 0, 0), 0);
    SeqMerge.Entry e = m.next();
    assertThat(e.seq()).isEqualTo(1);
    m.done(e);
    // Head of partition 1 is now the next seq: resumed even though the buffer is over half.
    assertThat(m.bufferedBytes()).isGreaterThan(75);
    assertThat(m.pauses().resume()).containsExactly(1);
  }

  @Test
  void reopeningAPartitionDropsItsBufferAndSeeksToWhatWasAccounted() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 1);
    deliver(m, op(1, 0, 0), 0);
    drain(m);
    deliver(m, op(3, 0, 1), 0); // waits for seq 2, which is elsewhere
    assertThat(m.bufferedRecords()).isEqualTo(1);
    assertThat(m.open(0)).isEqualTo(1);
    assertThat(m.bufferedRecords()).isZero();
    // The consumer still delivers from an older position: dropped, then one re-seek.
    assertThat(m.admit(0, 0)).isEqualTo(SeqMerge.Admit.DROP);
    m.beginBatch();
    assertThat(m.admit(0, 2)).isEqualTo(SeqMerge.Admit.RESEEK);
    assertThat(m.seekOffset(0)).isEqualTo(1);
    assertThat(m.admit(0, 3)).isEqualTo(SeqMerge.Admit.DROP);
    assertThat(m.admit(0, 1)).isEqualTo(SeqMerge.Admit.TAKE);
  }

  @Test
  void anUnreachableSeqIsGivenUpOnlyAfterTheTimeoutWithoutHopefulArrivals() {
    SeqMerge m = merge(0, 1 << 20, 1_000, 2);
    deliver(m, op(1, 0, 0), 0);
    drain(m);
    // seq 3 in partition 0; seq 2 would be in partition 1, which is still empty.
    deliver(m, op(3, 0, 1), 100);
    assertThat(m.updateWait(100)).isEqualTo(2);
    assertThat(m.waitingSinceMs()).isEqualTo(100);
    assertThat(m.unreachable(1_099)).isFalse();
    // More records behind the head of partition 0 cannot hold seq 2: they do not restart it.
    deliver(m, op(4, 0, 3), 900);
    assertThat(m.updateWait(900)).isEqualTo(2);
    assertThat(m.unreachable(1_100)).isTrue();
    assertThat(m.newest())
        .containsExactly(new SeqMerge.Newest(0, 4, 2), new SeqMerge.Newest(1, 0, -1));
  }

  @Test
  void aRecordInAPartitionThatCouldHoldTheSeqRestartsTheClock() {
    SeqMerge m = merge(0, 1 << 20, 1_000, 2);
    deliver(m, op(2, 0, 0), 0);
    assertThat(m.updateWait(0)).isEqualTo(1);
    deliver(m, op(1, 1, 0), 500); // partition 1 was empty: it could have held seq 1, and did
    assertThat(drain(m)).containsExactly(1L, 2L);
    assertThat(m.updateWait(500)).isEqualTo(-1);
    assertThat(m.unreachable(10_000)).isFalse();
    // A new wait starts its own clock; an arrival in the empty partition 1 restarts it.
    deliver(m, op(4, 0, 2), 600);
    assertThat(m.updateWait(600)).isEqualTo(3);
    deliver(m, op(5, 1, 1), 1_400); // not seq 3, but partition 1 was read and could have held it
    assertThat(m.unreachable(1_600)).isFalse();
    assertThat(m.unreachable(2_400)).isTrue();
  }

  @Test
  void nothingBufferedIsNoWait() {
    SeqMerge m = merge(5, 1 << 20, 0, 2);
    assertThat(m.updateWait(0)).isEqualTo(-1);
    assertThat(m.unreachable(1_000_000)).isFalse();
  }

  @Test
  void aToleratedUndecodableRecordTakesTheSeqTheNextRecordNames() {
    SeqMerge m = merge(0, 1 << 20, 60_000, 1);
    deliver(m, op(1, 0, 0), 0);
    m.arriveUndecodable(0, nextOffset[0]++, 0); // was seq 2
    assertThat(m.updateWait(0)).as("its seq is not known yet: no wait").isEqualTo(-1);
    deliver(m, op(3, 0, 2), 0);
    List<SeqMerge.Entry> applied = new ArrayList<>();
    for (SeqMerge.Entry e = m.next(); e != null; e = m.next()) {
      applied.add(e);
      m.done(e);
    }
    assertThat(applied).extracting(SeqMerge.Entry::seq).containsExactly(1L, 2L, 3L);
    assertThat(applied.get(1).op()).isNull();
  }
}
