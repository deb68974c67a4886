package dev.tfs.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The accounting and retention rules of {@link JournalAcks}, without a writer. */
class JournalAcksTest {
  private final JournalAcks acks = new JournalAcks(Path.of("unused"), 1, 100);

  @Test
  void bytesAreFreedAtCheckpointsAndAllOfThemWhenEverythingIsAcknowledged() {
    for (long seq = 1; seq <= 10; seq++) {
      acks.opAppended(seq, 30); // a checkpoint every 4 ops (120 bytes >= 100)
    }
    assertThat(acks.unshippedOpBytes()).isEqualTo(300);
    assertThat(acks.advance(5, 10)).isTrue();
    assertThat(acks.ackedSeq()).isEqualTo(5);
    // the checkpoint at seq 4 is covered, the one at 8 is not: 120 bytes freed
    assertThat(acks.unshippedOpBytes()).isEqualTo(180);
    assertThat(acks.advance(10, 10)).isTrue();
    assertThat(acks.unshippedOpBytes()).isZero();
  }

  @Test
  void aLowerSeqChangesNothingAndOneBeyondTheLastOpIsIgnored() {
    acks.opAppended(1, 50);
    acks.opAppended(2, 50);
    acks.restored(1);
    assertThat(acks.advance(1, 2)).isFalse();
    assertThat(acks.advance(3, 2)).isTrue(); // logged and ignored; waiters just re-check
    assertThat(acks.ackedSeq()).isEqualTo(1);
    assertThat(acks.unshippedOpBytes()).isEqualTo(100);
  }

  @Test
  void retentionFreesAcknowledgedUnpinnedSegmentsOldestFirstNeverTheActiveOrLastOne() {
    Segment a = segment(1, 10);
    Segment b = segment(11, 20);
    Segment c = segment(21, 30);
    Segment d = segment(31, 40);
    ArrayDeque<Segment> segs = new ArrayDeque<>(List.of(a, b, c, d));
    b.pins = 1; // holds an unresolved intent
    acks.restored(40);
    assertThat(acks.takeReleasable(segs, d)).containsExactly(a);
    assertThat(segs).containsExactly(b, c, d);
    b.pins = 0;
    assertThat(acks.takeReleasable(segs, c)).containsExactly(b); // c is active
    assertThat(acks.takeReleasable(segs, null)).containsExactly(c); // d is the last
    assertThat(segs).containsExactly(d);

    ArrayDeque<Segment> unacked = new ArrayDeque<>(List.of(segment(41, 50), segment(51, 60)));
    assertThat(acks.takeReleasable(unacked, null)).isEmpty(); // seq 41.. not acknowledged
  }

  private static Segment segment(long first, long last) {
    Segment s = new Segment(Path.of(Format.segmentName(first)), first);
    s.lastSeq = last;
    return s;
  }
}
