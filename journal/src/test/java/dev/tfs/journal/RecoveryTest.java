package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.create;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.entryPositions;
import static dev.tfs.journal.TestSupport.flipByte;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.readAll;
import static dev.tfs.journal.TestSupport.segments;
import static dev.tfs.journal.TestSupport.size;
import static dev.tfs.journal.TestSupport.truncate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.schema.OpRecord;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {
  @TempDir Path dir;

  private static void commitN(JournalWriter w, int n, String prefix) {
    for (int i = 0; i < n; i++) {
      w.commit(0, create(prefix + i));
    }
  }

  /** Checks dense seqs, one epoch and unbroken partition chains over the whole journal. */
  private static void assertConsistent(List<JournalEntry> entries, long epoch) {
    Map<Integer, Long> last = new HashMap<>();
    long seq = entries.isEmpty() ? 0 : entries.get(0).seq() - 1;
    for (JournalEntry e : entries) {
      OpRecord op = decode(e);
      assertThat(e.seq()).isEqualTo(++seq);
      assertThat(op.getEpoch()).isEqualTo(epoch);
      assertThat(op.getPartitionPrevSeq()).isEqualTo(last.getOrDefault(e.partition(), 0L));
      last.put(e.partition(), e.seq());
    }
  }

  @Test
  void restartKeepsSeqEpochAndPartitionChains() {
    long epoch;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      epoch = w.meta().epoch();
      commitN(w, 20, "a");
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.meta().epoch()).isEqualTo(epoch);
      assertThat(w.stats().nextSeq()).isEqualTo(21);
      assertThat(w.commit(0, create("a3"))).isEqualTo(21);
      commitN(w, 9, "b");
    }
    List<JournalEntry> all = readAll(dir);
    assertThat(all).hasSize(30);
    assertConsistent(all, epoch);
  }

  @Test
  void partitionChainsSurviveDeletionOfOldSegments() {
    JournalOptions opts = options().segmentBytes(4096).build();
    long epoch;
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      epoch = w.meta().epoch();
      commitN(w, 200, "p");
      int before = w.stats().segments();
      assertThat(before).isGreaterThan(3);
      w.acknowledge(150);
      assertThat(w.stats().segments()).isLessThan(before).isEqualTo(segments(dir).size());
    }
    long firstRetained = Format.segmentFirstSeq(segments(dir).get(0).getFileName().toString());
    assertThat(firstRetained).isGreaterThan(1);
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      commitN(w, 50, "p"); // the same paths: their chains must continue from the deleted segments
    }
    // Rebuild the chain state the deleted segments had from the first retained segment's header.
    List<JournalEntry> all = readAll(dir);
    assertThat(all.get(0).seq()).isEqualTo(firstRetained);
    assertThat(all.get(all.size() - 1).seq()).isEqualTo(250);
    Map<Integer, Long> last = new HashMap<>();
    for (JournalEntry e : all) {
      OpRecord op = decode(e);
      assertThat(op.getEpoch()).isEqualTo(epoch);
      Long prev = last.get(e.partition());
      if (prev != null) {
        assertThat(op.getPartitionPrevSeq()).isEqualTo(prev);
      } else {
        assertThat(op.getPartitionPrevSeq()).isLessThan(firstRetained).isPositive();
      }
      last.put(e.partition(), e.seq());
    }
  }

  @Test
  void truncatedTailIsCutOnOpenAndAppendsContinue() throws Exception {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      commitN(w, 10, "t");
    }
    Path seg = segments(dir).get(0);
    long full = size(seg);
    truncate(seg, full - 7); // the crash happened in the middle of writing seq 10
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.stats().nextSeq()).isEqualTo(10);
      assertThat(w.commit(0, create("after"))).isEqualTo(10);
    }
    List<JournalEntry> all = readAll(dir);
    assertThat(all).hasSize(10);
    assertThat(decode(all.get(9)).getPath())
        .isEqualTo(java.nio.ByteBuffer.wrap("after".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void flippedByteInTheLastEntryIsATornTail() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      commitN(w, 5, "f");
    }
    Path seg = segments(dir).get(0);
    List<Long> pos = entryPositions(seg, meta);
    flipByte(seg, pos.get(4) + 20);
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(size(seg)).isEqualTo(pos.get(4));
      assertThat(w.commit(0, create("again"))).isEqualTo(5);
    }
    assertThat(readAll(dir)).hasSize(5);
  }

  @Test
  void garbageAfterTheLastEntryIsATornTail() throws Exception {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      commitN(w, 3, "g");
    }
    Path seg = segments(dir).get(0);
    long end = size(seg);
    try (RandomAccessFile raf = new RandomAccessFile(seg.toFile(), "rw")) {
      raf.seek(end);
      raf.write(new byte[4096]); // zeros, as a file system may leave after a power loss
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(size(seg)).isEqualTo(end);
      assertThat(w.stats().nextSeq()).isEqualTo(4);
    }
  }

  @Test
  void damageFollowedByValidEntriesIsCorruption() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      commitN(w, 6, "c");
    }
    Path seg = segments(dir).get(0);
    long bad = entryPositions(seg, meta).get(2);
    flipByte(seg, bad + 30);
    long sizeBefore = size(seg);
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(seg.getFileName().toString())
        .hasMessageContaining("position " + bad)
        .hasMessageContaining("valid entries follow")
        .satisfies(
            e -> {
              JournalCorruptException c = (JournalCorruptException) e;
              assertThat(c.segment()).isEqualTo(seg.getFileName().toString());
              assertThat(c.position()).isEqualTo(bad);
            });
    assertThat(size(seg)).as("nothing was cut").isEqualTo(sizeBefore);
    // the reader refuses too, with the same place
    try (JournalReader r = JournalReader.open(dir)) {
      r.poll();
      r.poll();
      assertThatThrownBy(r::poll)
          .isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining("position " + bad);
    }
  }

  @Test
  void damagedLengthFieldFollowedByValidEntriesIsCorruption() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      commitN(w, 6, "c");
    }
    Path seg = segments(dir).get(0);
    long bad = entryPositions(seg, meta).get(1);
    flipByte(seg, bad + 2); // the length now points far beyond the end of the file
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("position " + bad);
  }

  @Test
  void damageInAnOlderSegmentIsCorruption() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().segmentBytes(4096).build())) {
      meta = w.meta();
      commitN(w, 100, "o");
    }
    List<Path> segs = segments(dir);
    assertThat(segs.size()).isGreaterThan(2);
    Path first = segs.get(0);
    List<Long> pos = entryPositions(first, meta);
    long lastEntry = pos.get(pos.size() - 1);
    flipByte(first, lastEntry + 12); // even the final entry of a non-newest segment is not a tail
    assertThatThrownBy(() -> JournalWriter.open(dir, options().segmentBytes(4096).build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(first.getFileName().toString())
        .hasMessageContaining("position " + lastEntry)
        .hasMessageContaining("not the newest segment");
  }

  @Test
  void seqGapIsCorruption() throws Exception {
    JournalMeta meta;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      commitN(w, 4, "s");
    }
    Path seg = segments(dir).get(0);
    long third = entryPositions(seg, meta).get(2);
    // Rewrite seq 3 as 7 with a valid checksum: only the seq check can notice.
    try (RandomAccessFile raf = new RandomAccessFile(seg.toFile(), "rw")) {
      byte[] frame = new byte[8];
      raf.seek(third);
      raf.readFully(frame);
      int len = Format.getInt(frame, 0);
      byte[] body = new byte[len];
      raf.readFully(body);
      Format.putLong(body, 1, 7);
      raf.seek(third + 4);
      byte[] crc = new byte[4];
      Format.putInt(crc, 0, Format.crc(body, 0, len));
      raf.write(crc);
      raf.write(body);
    }
    String expected = "seq gap: expected 3, found 7 in segment " + seg.getFileName();
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining(expected)
        .hasMessageContaining("position " + third);
    try (JournalReader r = JournalReader.open(dir)) {
      assertThat(r.poll().seq()).isEqualTo(1);
      assertThat(r.poll().seq()).isEqualTo(2);
      assertThatThrownBy(r::poll)
          .isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining(expected + " at position " + third);
    }
  }

  @Test
  void missingMiddleSegmentIsASeqGap() throws Exception {
    JournalOptions opts = options().segmentBytes(4096).build();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      commitN(w, 100, "m");
    }
    List<Path> segs = segments(dir);
    Files.delete(segs.get(1));
    assertThatThrownBy(() -> JournalWriter.open(dir, opts))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("seq gap");
    try (JournalReader r = JournalReader.open(dir)) {
      assertThatThrownBy(
              () -> {
                while (true) {
                  if (r.poll() == null) {
                    throw new AssertionError("the reader waited instead of reporting the gap");
                  }
                }
              })
          .isInstanceOf(JournalCorruptException.class)
          .hasMessageContaining("seq gap");
    }
  }

  @Test
  void reopeningWithOtherVolumeOrPartitionsSaysWhatDiffers() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      w.commit(0, create("x"));
    }
    assertThatThrownBy(() -> JournalWriter.open(dir, options().partitions(12).build()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("4 partitions (options say 12)")
        .hasMessageContaining("move the directory away");
    assertThatThrownBy(() -> JournalWriter.open(dir, options().volume("other").build()))
        .isInstanceOf(JournalException.class)
        .hasMessageContaining("volume 'vol' (options say 'other')");
    // the journal is untouched by the refused opens
    assertThat(readAll(dir)).hasSize(1);
  }

  @Test
  void secondWriterIsRefusedNamingTheHolder() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
          .isInstanceOf(JournalLockedException.class)
          .hasMessageContaining("process " + ProcessHandle.current().pid());
      w.commit(0, create("still-works"));
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.stats().nextSeq()).isEqualTo(2);
    }
  }

  @Test
  void damagedMetaIsRefused() throws Exception {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      w.commit(0, create("x"));
    }
    Path meta = dir.resolve(Format.META);
    String text = Files.readString(meta).replace("partitions=4", "partitions=5");
    Files.writeString(meta, text);
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("checksum");
    assertThatThrownBy(() -> JournalReader.open(dir)).isInstanceOf(JournalCorruptException.class);
  }

  @Test
  void segmentsWithoutMetaAreNotSilentlyReplaced() throws Exception {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      w.commit(0, create("x"));
    }
    Files.delete(dir.resolve(Format.META));
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("no journal.meta");
  }

  @Test
  void newEpochIsGreaterThanEverySeenEpoch() throws Exception {
    long future = System.currentTimeMillis() + 86_400_000L;
    Files.writeString(dir.resolve(Format.EPOCHS_SEEN), future + "\n");
    long epoch;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      epoch = w.meta().epoch();
    }
    assertThat(epoch).isEqualTo(future + 1);
    assertThat(Files.readAllLines(dir.resolve(Format.EPOCHS_SEEN)))
        .containsExactly(String.valueOf(future), String.valueOf(epoch));
    // recreate: delete everything but the seen epochs; the next journal gets a newer epoch
    for (Path p : segments(dir)) {
      Files.delete(p);
    }
    Files.delete(dir.resolve(Format.META));
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      assertThat(w.meta().epoch()).isGreaterThan(epoch);
    }
  }

  @Test
  void ackedBeyondTheEndOfTheJournalIsRefused() throws Exception {
    long epoch;
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      epoch = w.meta().epoch();
      commitN(w, 5, "a");
      w.acknowledge(5);
    }
    // A power loss lost the tail: seqs 4 and 5 are gone although Kafka has them.
    Path seg = segments(dir).get(0);
    JournalMeta meta = JournalMeta.read(dir);
    truncate(seg, entryPositions(seg, meta).get(3));
    assertThat(AckFile.read(dir, epoch)).isEqualTo(5);
    assertThatThrownBy(() -> JournalWriter.open(dir, options().build()))
        .isInstanceOf(JournalCorruptException.class)
        .hasMessageContaining("says seq 5 reached Kafka, but the journal ends at seq 3");
  }
}
