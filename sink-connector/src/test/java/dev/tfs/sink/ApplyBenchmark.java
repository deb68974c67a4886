package dev.tfs.sink;

import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Apply throughput against writing the same tree directly with Java I/O, side by side in one run.
 * Not a test (surefire does not pick it up); run it with:
 *
 * <pre>
 * mvn -q -pl sink-connector test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp sink-connector/target/test-classes:sink-connector/target/classes:$(cat sink-connector/target/cp.txt) \
 *     dev.tfs.sink.ApplyBenchmark [dir] [largeMiB] [smallFiles] [nosync]
 * </pre>
 *
 * <p>Large files: {@code largeMiB} (default 1024) in 128 KiB writes spread over 4 files. Small
 * files: {@code smallFiles} (default 10 000) files of 4 KiB in 100 directories (create + write +
 * mtime per file for the mirror; create + write for raw I/O). The tfs side decodes each record
 * value (encoded outside the timed region) and applies it through {@link MirrorApplier}; both sides
 * end with a sync of the file system so neither is measured against the page cache alone ({@code
 * nosync} leaves it out, to compare the CPU cost of the two paths). The directory defaults to
 * {@code target/bench} on the file system the build runs on.
 */
public final class ApplyBenchmark {
  static final int CHUNK = 128 * 1024;
  static boolean syncAtEnd = true;

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target/bench").toAbsolutePath();
    int largeMiB = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
    int smallFiles = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    syncAtEnd = !(args.length > 3 && args[3].equals("nosync"));
    Files.createDirectories(dir);
    byte[] data = new byte[CHUNK];
    new Random(1).nextBytes(data);
    long largeBytes = (long) largeMiB << 20;

    // Warm up the JIT and the code paths on a small tree first.
    largeRaw(dir.resolve("warm"), data, 64L << 20);
    largeTfs(dir.resolve("warm"), data, 64L << 20);
    smallRaw(dir.resolve("warm"), 1000);
    smallTfs(dir.resolve("warm"), 1000);

    // ABBA order so drift (page-cache writeback, other load) hits both sides alike.
    double rawL = 0;
    double tfsL = 0;
    double rawS = 0;
    double tfsS = 0;
    for (int round = 0; round < 2; round++) {
      boolean rawFirst = round == 0;
      for (int k = 0; k < 2; k++) {
        if ((k == 0) == rawFirst) {
          rawL += largeRaw(dir.resolve("raw-large"), data, largeBytes) / 2;
          rawS += smallRaw(dir.resolve("raw-small"), smallFiles) / 2;
        } else {
          tfsL += largeTfs(dir.resolve("tfs-large"), data, largeBytes) / 2;
          tfsS += smallTfs(dir.resolve("tfs-small"), smallFiles) / 2;
        }
      }
    }
    System.out.printf(
        "large files: %d MiB in %d KiB writes (4 files%s): raw %.0f MiB/s, tfs %.0f MiB/s, ratio"
            + " %.2f (target >= 0.8)%n",
        largeMiB, CHUNK / 1024, syncAtEnd ? ", synced" : "", rawL, tfsL, tfsL / rawL);
    System.out.printf(
        "small files: %d x 4 KiB in 100 dirs%s: raw %.0f files/s, tfs %.0f files/s, ratio %.2f"
            + " (target >= 0.25)%n",
        smallFiles, syncAtEnd ? ", synced" : "", rawS, tfsS, tfsS / rawS);
    deleteTree(dir);
  }

  /** Writes the large files with a FileChannel; MiB/s. */
  static double largeRaw(Path rawDir, byte[] data, long bytes) throws Exception {
    int files = 4;
    long perFile = bytes / files;
    Files.createDirectories(rawDir);
    flush(rawDir);
    long t0 = System.nanoTime();
    for (int f = 0; f < files; f++) {
      try (FileChannel ch =
          FileChannel.open(
              rawDir.resolve("big" + f), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        for (long off = 0; off < perFile; off += CHUNK) {
          ByteBuffer b = ByteBuffer.wrap(data);
          while (b.hasRemaining()) {
            ch.write(b, off + b.position());
          }
        }
      }
    }
    sync(rawDir);
    double raw = mibPerSec(bytes, System.nanoTime() - t0);
    deleteTree(rawDir);
    return raw;
  }

  /** Decodes and applies the same writes through MirrorApplier; MiB/s. */
  static double largeTfs(Path tfsDir, byte[] data, long bytes) throws Exception {
    int files = 4;
    long perFile = bytes / files;
    Files.createDirectories(tfsDir);
    flush(tfsDir);
    OpCodec codec = new OpCodec();
    History h = new History("bench", 1L, 8);
    long timed = 0;
    try (MirrorApplier a = new MirrorApplier(tfsDir, MirrorApplier.OwnerPolicy.AUTO)) {
      for (int f = 0; f < files; f++) {
        timed += applyAll(a, codec, List.of(h.add("big" + f, new Create(0644, 0, 0))));
        List<OpRecord> batch = new ArrayList<>();
        for (long off = 0; off < perFile; off += CHUNK) {
          batch.add(
              h.add(
                  ("big" + f).getBytes(StandardCharsets.UTF_8),
                  new Write(off, ByteBuffer.wrap(data)),
                  true,
                  false));
          if (batch.size() == 64) {
            timed += applyAll(a, codec, batch);
            batch.clear();
            h.ops.clear(); // keep memory flat: only the seq counter matters here
          }
        }
        timed += applyAll(a, codec, batch);
        h.ops.clear();
      }
      long s0 = System.nanoTime();
      if (syncAtEnd) {
        a.sync();
      }
      timed += System.nanoTime() - s0;
    }
    deleteTree(tfsDir);
    return mibPerSec(bytes, timed);
  }

  /** Encodes outside the timer, then times decode + apply. */
  static long applyAll(MirrorApplier a, OpCodec codec, List<OpRecord> ops) throws Exception {
    List<byte[]> values = new ArrayList<>(ops.size());
    for (OpRecord op : ops) {
      values.add(codec.encode(op));
    }
    long t0 = System.nanoTime();
    for (byte[] v : values) {
      a.apply(codec.decode(v));
    }
    return System.nanoTime() - t0;
  }

  static final int DIRS = 100;

  static byte[] smallData() {
    byte[] data = new byte[4096];
    new Random(2).nextBytes(data);
    return data;
  }

  /** Creates the small files with Files.write; files/s. */
  static double smallRaw(Path rawDir, int n) throws Exception {
    byte[] data = smallData();
    Files.createDirectories(rawDir);
    flush(rawDir);
    long t0 = System.nanoTime();
    for (int d = 0; d < DIRS; d++) {
      Files.createDirectory(rawDir.resolve("d" + d));
    }
    for (int i = 0; i < n; i++) {
      Files.write(rawDir.resolve("d" + (i % DIRS)).resolve("f" + i), data);
    }
    sync(rawDir);
    double raw = n / ((System.nanoTime() - t0) / 1e9);
    deleteTree(rawDir);
    return raw;
  }

  /** Decodes and applies mkdir, then create + write (with mtimes) per file; files/s. */
  static double smallTfs(Path tfsDir, int n) throws Exception {
    byte[] data = smallData();
    Files.createDirectories(tfsDir);
    flush(tfsDir);
    OpCodec codec = new OpCodec();
    History h = new History("bench", 1L, 8);
    List<OpRecord> ops = new ArrayList<>();
    for (int d = 0; d < DIRS; d++) {
      ops.add(h.add("d" + d, new Mkdir(0755, 0, 0)));
    }
    for (int i = 0; i < n; i++) {
      String p = "d" + (i % DIRS) + "/f" + i;
      ops.add(h.add(p, new Create(0644, 0, 0)));
      ops.add(
          h.add(
              p.getBytes(StandardCharsets.UTF_8),
              new Write(0L, ByteBuffer.wrap(data)),
              true,
              false));
    }
    long timed;
    try (MirrorApplier a = new MirrorApplier(tfsDir, MirrorApplier.OwnerPolicy.AUTO)) {
      timed = applyAll(a, codec, ops);
      long s0 = System.nanoTime();
      if (syncAtEnd) {
        a.sync();
      }
      timed += System.nanoTime() - s0;
    }
    deleteTree(tfsDir);
    return n / (timed / 1e9);
  }

  /** Untimed: write back what earlier phases left dirty, so each phase starts clean. */
  static void flush(Path dir) throws IOException {
    boolean was = syncAtEnd;
    syncAtEnd = true;
    try {
      sync(dir);
    } finally {
      syncAtEnd = was;
    }
  }

  static void sync(Path dir) throws IOException {
    if (!syncAtEnd) {
      return;
    }
    try (MirrorApplier a = new MirrorApplier(dir, MirrorApplier.OwnerPolicy.IGNORE)) {
      // syncfs of the file system holding dir (marks dirty first so sync() runs).
      a.apply(new History("sync", 1L, 1).add(".sync", new Create(0600, 0, 0)));
      a.sync();
    } catch (ApplyException e) {
      throw new IOException(e);
    }
    Files.deleteIfExists(dir.resolve(".sync"));
  }

  static double mibPerSec(long bytes, long nanos) {
    return (bytes / (1024.0 * 1024.0)) / (nanos / 1e9);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private ApplyBenchmark() {}
}
