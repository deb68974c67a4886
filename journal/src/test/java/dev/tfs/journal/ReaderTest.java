package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.await;
import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.entryPositions;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.segments;
import static dev.tfs.journal.TestSupport.size;
import static dev.tfs.journal.TestSupport.truncate;
import static dev.tfs.journal.TestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReaderTest {
  @TempDir Path dir;

  /** The op with seq {@code i}: mostly small, every 10th a 128 KiB write with known content. */
  private static OpDraft op(int i) {
    if (i % 10 == 0) {
      byte[] data = new byte[128 * 1024];
      Arrays.fill(data, (byte) i);
      return write("big" + i, 0, data);
    }
    return create("dir" + (i % 13) + "/f" + i);
  }

  @Test
  void tailsAConcurrentWriterAcrossSegmentRollsAndDeletions() throws Exception {
    int n = 400;
    JournalOptions opts = options().segmentBytes(256 * 1024).build();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 1; i <= n; i++) {
                  w.commit(0, op(i));
                }
              });
      // The reader knows nothing of the writer but its directory, like the source connector.
      List<JournalEntry> got = new ArrayList<>();
      List<String> segmentsSeen = new ArrayList<>();
      try (JournalReader r = JournalReader.open(dir)) {
        r.seek(1);
        while (got.size() < n) {
          JournalEntry e = TestSupport.next(r, Duration.ofSeconds(30));
          got.add(e);
          if (!segmentsSeen.contains(e.segment())) {
            segmentsSeen.add(e.segment());
          }
          if (e.seq() % 25 == 0) {
            r.acknowledge(e.seq()); // segments behind the reader get deleted while it reads
          }
        }
        assertThat(r.poll()).isNull();
      }
      writer.get(10, TimeUnit.SECONDS);
      assertThat(segmentsSeen.size()).as("several rolls").isGreaterThan(10);
      for (int i = 1; i <= n; i++) {
        JournalEntry e = got.get(i - 1);
        assertThat(e.seq()).isEqualTo(i);
        OpRecord back = decode(e);
        assertThat(back.getSeq()).isEqualTo(i);
        if (i % 10 == 0) {
          byte[] data = Ops.bytes(((Write) back.getOp()).getData());
          assertThat(data).hasSize(128 * 1024).containsOnly((byte) i);
        }
      }
      await("the writer deleted acknowledged segments", () -> w.stats().ackedSeq() == 400);
      await("segments deleted", () -> segments(dir).size() < segmentsSeen.size());
    }
  }

  @Test
  void neverReturnsAPartiallyWrittenEntry() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      w.commit(0, create("a"));
      w.commit(0, write("b", 0, new byte[5000]));
    }
    Path seg = segments(dir).get(0);
    long second = entryPositions(seg, meta).get(1);
    byte[] whole = Files.readAllBytes(seg);
    byte[] entry = Arrays.copyOfRange(whole, (int) second, whole.length);
    truncate(seg, second);
    try (JournalReader r = JournalReader.open(dir);
        RandomAccessFile raf = new RandomAccessFile(seg.toFile(), "rw")) {
      assertThat(r.poll().seq()).isEqualTo(1);
      // the writer is in the middle of the second entry: first a few header bytes, then half
      for (int cut : new int[] {3, 8, 12, entry.length / 2, entry.length - 1}) {
        raf.setLength(second);
        raf.seek(second);
        raf.write(entry, 0, cut);
        assertThat(r.poll()).as("after %d of %d bytes", cut, entry.length).isNull();
      }
      raf.seek(second + entry.length - 1);
      raf.write(entry, entry.length - 1, 1);
      JournalEntry e = r.poll();
      assertThat(e.seq()).isEqualTo(2);
      assertThat(e.position()).isEqualTo(second);
      assertThat(decode(e).getOp()).isInstanceOf(Write.class);
      assertThat(r.poll()).isNull();
    }
  }

  @Test
  void seekPositionsAtTheRequestedSeq() {
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      for (int i = 1; i <= 100; i++) {
        w.commit(0, create("k" + i));
      }
      try (JournalReader r = JournalReader.open(dir)) {
        for (long s : new long[] {1, 2, 37, 64, 99, 100}) {
          r.seek(s);
          assertThat(r.poll().seq()).isEqualTo(s);
        }
        r.seek(103); // beyond the end: ops are skipped until it appears
        assertThat(r.poll()).isNull();
        w.commit(0, create("k101"));
        w.commit(0, create("k102"));
        assertThat(r.poll()).isNull();
        w.commit(0, create("k103"));
        assertThat(r.poll().seq()).isEqualTo(103);
      }
    }
  }

  @Test
  void seekBelowTheFirstRetainedSeqSaysWhereTheJournalStarts() {
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      for (int i = 1; i <= 100; i++) {
        w.commit(0, create("k" + i));
      }
      w.acknowledge(80);
      try (JournalReader r = JournalReader.open(dir)) {
        long first = r.firstRetainedSeq();
        assertThat(first).isGreaterThan(1).isLessThanOrEqualTo(81);
        assertThatThrownBy(() -> r.seek(first - 1))
            .isInstanceOf(JournalException.class)
            .hasMessageContaining("deleted after Kafka acknowledged them (acked seq 80)")
            .hasMessageContaining("the journal starts at seq " + first);
        r.seek(first);
        assertThat(r.poll().seq()).isEqualTo(first);
      }
    }
  }

  @Test
  void newestSeqIsALowerBoundThatNeedsNoSegmentNames() {
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      try (JournalReader r = JournalReader.open(dir)) {
        assertThat(r.newestSeq()).isZero();
        for (int i = 1; i <= 100; i++) {
          w.commit(0, create("k" + i));
        }
        List<Path> segs = segments(dir);
        assertThat(segs).hasSizeGreaterThan(2);
        long newestFirst =
            Format.segmentFirstSeq(segs.get(segs.size() - 1).getFileName().toString());
        // without reading: every op before the newest segment
        assertThat(r.newestSeq()).isEqualTo(newestFirst - 1);
        r.seek(1);
        for (int i = 1; i <= 100; i++) {
          assertThat(r.poll().seq()).isEqualTo(i);
        }
        // and every op the reader passed
        assertThat(r.newestSeq()).isEqualTo(100);
      }
    }
  }

  @Test
  void aReaderOvertakenByDeletionSaysSo() {
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      for (int i = 1; i <= 100; i++) {
        w.commit(0, create("k" + i));
      }
      try (JournalReader slow = JournalReader.open(dir)) {
        slow.seek(1);
        assertThat(slow.poll().seq()).isEqualTo(1);
        w.acknowledge(100); // another shipper acknowledged everything
        long read = 1;
        try {
          for (JournalEntry e = slow.poll(); e != null; e = slow.poll()) {
            read = e.seq(); // the open segment stays readable after its deletion
          }
          throw new AssertionError("the slow reader did not notice the deletion");
        } catch (JournalException e) {
          assertThat(e).hasMessageContaining("was deleted before this reader got to it");
        }
        assertThat(read).isGreaterThan(1);
      }
    }
  }

  @Test
  void journalNotCreatedYetIsATypedWait() throws Exception {
    assertThatThrownBy(() -> JournalReader.open(dir.resolve("nope")))
        .isInstanceOf(JournalNotReadyException.class)
        .hasMessageContaining("does not exist yet");
    assertThatThrownBy(() -> JournalReader.open(dir))
        .isInstanceOf(JournalNotReadyException.class)
        .hasMessageContaining("no journal.meta");
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      try (JournalReader r = JournalReader.open(dir)) {
        assertThat(r.meta()).isEqualTo(w.meta());
        assertThat(r.poll()).isNull();
        assertThat(r.ackedSeq()).isZero();
      }
    }
  }

  @Test
  void aRecreatedJournalIsANewEpochForTheReader() throws Exception {
    long oldEpoch;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      oldEpoch = w.meta().epoch();
      w.commit(0, create("x"));
    }
    try (JournalReader r = JournalReader.open(dir)) {
      assertThat(r.poll().seq()).isEqualTo(1);
      assertThat(r.poll()).isNull();
      for (Path p : segments(dir)) {
        Files.delete(p);
      }
      Files.delete(dir.resolve(Format.META));
      assertThatThrownBy(r::poll)
          .isInstanceOf(JournalEpochChangedException.class)
          .hasMessageContaining("journal.meta");
      try (JournalWriter w = JournalWriter.open(dir, options().build())) {
        w.commit(0, create("y"));
        long newEpoch = w.meta().epoch();
        assertThat(newEpoch).isGreaterThan(oldEpoch);
        assertThatThrownBy(r::poll)
            .isInstanceOf(JournalEpochChangedException.class)
            .hasMessageContaining("from " + oldEpoch + " to " + newEpoch)
            .satisfies(
                e -> {
                  JournalEpochChangedException c = (JournalEpochChangedException) e;
                  assertThat(c.oldEpoch()).isEqualTo(oldEpoch);
                  assertThat(c.newEpoch()).isEqualTo(newEpoch);
                });
        // an acknowledgement for the old epoch must not land in the new journal
        assertThatThrownBy(() -> r.acknowledge(1)).isInstanceOf(JournalEpochChangedException.class);
        assertThat(AckFile.read(dir, newEpoch)).isZero();
      }
    }
    assertThat(size(dir.resolve(Format.META))).isPositive();
  }
}
