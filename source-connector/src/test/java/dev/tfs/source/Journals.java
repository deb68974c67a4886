package dev.tfs.source;

import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalOptions;
import dev.tfs.journal.JournalReader;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.Unlink;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Real journals for the tests, written by the real {@link JournalWriter}. */
final class Journals {
  static final long T0 = 1_763_769_600_000_000_000L;

  private Journals() {}

  static JournalOptions.Builder options(String volume, int partitions) {
    return JournalOptions.builder()
        .volume(volume)
        .partitions(partitions)
        .durability(Durability.NONE)
        .ackPollMillis(10);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static OpDraft op(byte[] path, Object body, boolean mtime, boolean parentMtime) {
    return new OpDraft(path, T0, body, mtime ? T0 : null, parentMtime ? T0 : null);
  }

  /**
   * Appends {@code n} ops of mixed kinds and sizes (creates, writes up to {@code maxData} bytes,
   * renames, unlinks, a non-UTF-8 name), deterministically from {@code seed}. Returns the seq of
   * the last op.
   */
  static long append(JournalWriter w, int n, long seed, int maxData) {
    Random rnd = new Random(seed);
    long last = 0;
    int i = 0;
    while (i < n) {
      String name = "d" + rnd.nextInt(4) + "-f" + seed + "-" + i;
      List<OpDraft> ops = new ArrayList<>();
      switch (rnd.nextInt(6)) {
        case 0 -> ops.add(op(bytes("dir-" + seed + "-" + i), new Mkdir(0755, 0, 0), true, true));
        case 1 -> {
          byte[] raw = {
            'n', 'o', 'u', 't', 'f', '8', '-', (byte) 0xff, (byte) 0xe9, (byte) (0x80 | (i & 0x7f))
          };
          ops.add(op(raw, new Create(0600, 1000, 1000), true, true));
        }
        case 2 -> {
          byte[] data = new byte[1 + rnd.nextInt(maxData)];
          rnd.nextBytes(data);
          ops.addAll(w.writeOps(bytes(name), rnd.nextInt(1 << 20), data, 0, data.length, T0, T0));
        }
        case 3 ->
            ops.add(
                op(bytes(name), new Rename(ByteBuffer.wrap(bytes(name + ".r")), T0), false, true));
        case 4 -> ops.add(op(bytes(name), new Unlink(), false, true));
        default -> ops.add(op(bytes(name), new Create(0644, 0, 0), true, true));
      }
      if (ops.size() > n - i) {
        ops = ops.subList(0, n - i);
      }
      last = w.commit(0, ops) + ops.size() - 1;
      i += ops.size();
    }
    return last;
  }

  /** Every op the journal holds now, read with the real reader. */
  static List<JournalEntry> readAll(Path dir) {
    try (JournalReader r = JournalReader.open(dir)) {
      List<JournalEntry> out = new ArrayList<>();
      for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
        out.add(e);
      }
      return out;
    }
  }

  static long acked(Path dir) {
    try (JournalReader r = JournalReader.open(dir)) {
      return r.ackedSeq();
    }
  }

  /** Segment files, oldest first. */
  static List<Path> segments(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "seg-*.log")) {
      ds.forEach(out::add);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    out.sort(null);
    return out;
  }

  /** The first seq a segment file name encodes. */
  static long firstSeq(Path segment) {
    String n = segment.getFileName().toString();
    return Long.parseLong(n.substring(4, n.length() - 4));
  }

  static void flipByte(Path file, long position) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(position);
      int b = raf.read();
      raf.seek(position);
      raf.write(b ^ 0x5a);
    }
  }

  /** Copies a closed journal directory (segments, meta, acked) to {@code to}. */
  static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(from)) {
      for (Path p : ds) {
        if (Files.isRegularFile(p)) {
          Files.copy(p, to.resolve(p.getFileName()));
        }
      }
    }
  }
}
