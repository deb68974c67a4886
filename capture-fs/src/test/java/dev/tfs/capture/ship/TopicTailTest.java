package dev.tfs.capture.ship;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.ship.TopicTail.Held;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The chain walk that decides which ops the topic provably holds (no Kafka needed). */
class TopicTailTest {
  @Test
  void anUnbrokenChainIsHeldThroughItsNewestSeq() {
    // Partition ops 3, 7, 9, 12; acknowledged through 5 (3 is below it).
    List<Held> held = List.of(new Held(7, 3), new Held(9, 7), new Held(12, 9));
    assertThat(TopicTail.chainEnd(held, 5)).isEqualTo(12);
  }

  @Test
  void aHoleStopsTheChainSoNothingAfterItIsSkipped() {
    // 9 was lost by a failed delivery, 12 made it: only 7 may be skipped, 9 and 12 are resent.
    List<Held> held = List.of(new Held(7, 3), new Held(12, 9));
    assertThat(TopicTail.chainEnd(held, 5)).isEqualTo(7);
  }

  @Test
  void withoutTheFirstOpAboveTheAcknowledgedSeqNothingIsHeld() {
    List<Held> held = List.of(new Held(9, 7), new Held(12, 9));
    assertThat(TopicTail.chainEnd(held, 5)).isEqualTo(5);
    assertThat(TopicTail.chainEnd(List.of(), 5)).isEqualTo(5);
  }

  @Test
  void copiesAndOrderDoNotMatterAndOpsAtOrBelowTheAcknowledgedSeqAreIgnored() {
    List<Held> held =
        List.of(
            new Held(12, 9),
            new Held(3, 0),
            new Held(7, 3),
            new Held(9, 7),
            new Held(7, 3),
            new Held(12, 9));
    assertThat(TopicTail.chainEnd(held, 5)).isEqualTo(12);
    // A new epoch's first op of a partition links from 0.
    assertThat(TopicTail.chainEnd(List.of(new Held(1, 0), new Held(4, 1)), 0)).isEqualTo(4);
  }
}
