package dev.tfs.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Shared helpers: options, small ops, condition polling, reading a whole journal. */
final class TestSupport {
  static final OpCodec CODEC = new OpCodec();
  static final long T0 = 1_763_769_600_000_000_000L;

  private TestSupport() {}

  static JournalOptions.Builder options() {
    return JournalOptions.builder().volume("vol").partitions(4).durability(Durability.NONE);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static OpDraft create(String path) {
    return new OpDraft(bytes(path), T0, new Create(0644, 1000, 1000), T0, T0);
  }

  static OpDraft unlink(String path) {
    return new OpDraft(bytes(path), T0, new Unlink(), null, T0);
  }

  static OpDraft write(String path, long offset, byte[] data) {
    return new OpDraft(bytes(path), T0, new Write(offset, ByteBuffer.wrap(data)), null, null);
  }

  /** The draft of an existing record (its path, time, body and times). */
  static OpDraft draft(OpRecord r) {
    return new OpDraft(
        dev.tfs.op.Ops.path(r), r.getTime(), r.getOp(), r.getMtime(), r.getParentMtime());
  }

  /** Waits for a condition, failing after 10 s: never a fixed sleep. */
  static void await(String what, BooleanSupplier condition) {
    await(what, Duration.ofSeconds(10), condition);
  }

  /** Waits for a condition, failing after {@code timeout}. */
  static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      try {
        Thread.sleep(1); // a poll interval, not a guess at how long something takes
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting until " + what);
      }
    }
  }

  /**
   * The reader's next entry, waited for as a shipper does (a journal has no wake-up: readers poll
   * it), failing after {@code timeout}.
   */
  static JournalEntry next(JournalReader r, Duration timeout) {
    JournalEntry[] next = new JournalEntry[1];
    await("the journal's next entry", timeout, () -> (next[0] = r.poll()) != null);
    return next[0];
  }

  /** Every op currently in the journal, from the oldest retained one. */
  static List<JournalEntry> readAll(Path dir) {
    try (JournalReader r = JournalReader.open(dir)) {
      List<JournalEntry> out = new ArrayList<>();
      for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
        out.add(e);
      }
      return out;
    }
  }

  static OpRecord decode(JournalEntry e) {
    try {
      return CODEC.decode(e.value());
    } catch (dev.tfs.op.OpDecodeException ex) {
      throw new AssertionError(ex);
    }
  }

  static Path segment(Path dir, long firstSeq) {
    return dir.resolve(Format.segmentName(firstSeq));
  }

  static List<Path> segments(Path dir) {
    try {
      return Format.listSegments(dir);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static long size(Path file) {
    return file.toFile().length();
  }

  static void truncate(Path file, long length) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(length);
    }
  }

  static void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(position);
      int b = raf.read();
      raf.seek(position);
      raf.write(b ^ 0x5a);
    }
  }

  /** Positions of every entry in a segment (to damage a chosen one). */
  static List<Long> entryPositions(Path segment, JournalMeta meta) throws IOException {
    List<Long> out = new ArrayList<>();
    try (SegmentReader r =
        SegmentReader.open(segment, meta.partitions(), Format.maxBody(meta.maxRecordBytes()))) {
      long pos = r.headerBytes();
      while (r.read(pos) == SegmentReader.Status.ENTRY) {
        out.add(pos);
        pos = r.next;
      }
      assertThat(r.status).isEqualTo(SegmentReader.Status.END);
    }
    return out;
  }
}
