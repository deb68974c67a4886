package dev.tfs.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AckWatermarkTest {
  @Test
  void inOrderReportsMoveTheWatermarkOneByOne() {
    AckWatermark w = new AckWatermark(0);
    assertThat(w.done(1)).isEqualTo(1);
    assertThat(w.done(2)).isEqualTo(2);
    assertThat(w.contiguous()).isEqualTo(2);
    assertThat(w.waiting()).isZero();
  }

  @Test
  void seqsAboveAHoleWaitUntilItFills() {
    AckWatermark w = new AckWatermark(10);
    assertThat(w.done(13)).isEqualTo(10);
    assertThat(w.done(12)).isEqualTo(10);
    assertThat(w.waiting()).isEqualTo(2);
    assertThat(w.done(11)).isEqualTo(13);
    assertThat(w.waiting()).isZero();
  }

  @Test
  void reportsAtOrBelowTheWatermarkChangeNothing() {
    AckWatermark w = new AckWatermark(5);
    assertThat(w.done(3)).isEqualTo(5);
    assertThat(w.done(5)).isEqualTo(5);
    assertThat(w.waiting()).isZero();
  }

  @Test
  void resetStartsOverAndForgetsWaitingSeqs() {
    AckWatermark w = new AckWatermark(0);
    w.done(3);
    assertThat(w.waiting()).isEqualTo(1);
    w.reset(20);
    assertThat(w.contiguous()).isEqualTo(20);
    assertThat(w.waiting()).isZero();
    assertThat(w.done(21)).isEqualTo(21);
  }

  @Test
  void anyReportOrderEndsAtTheHighestSeq() {
    List<Long> seqs = new ArrayList<>();
    for (long s = 1; s <= 500; s++) {
      seqs.add(s);
    }
    Collections.shuffle(seqs, new Random(3));
    AckWatermark w = new AckWatermark(0);
    long last = 0;
    for (long s : seqs) {
      long now = w.done(s);
      assertThat(now).isGreaterThanOrEqualTo(last); // never moves backwards
      last = now;
    }
    assertThat(w.contiguous()).isEqualTo(500);
    assertThat(w.waiting()).isZero();
  }
}
