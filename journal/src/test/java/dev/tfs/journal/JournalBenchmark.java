package dev.tfs.journal;

import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Write;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Append throughput per durability policy: a micro benchmark, not a test (surefire does not run
 * it). Each op is an intent plus a commit, as capture does it, while a shipper thread acknowledges
 * everything every 100 ms so segments are deleted as in production.
 *
 * <pre>
 * mvn -q -o -pl journal test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp journal/target/classes:journal/target/test-classes:$(cat /tmp/cp.txt) \
 *     dev.tfs.journal.JournalBenchmark [seconds-per-run] [dir]
 * </pre>
 */
public final class JournalBenchmark {
  private JournalBenchmark() {}

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
    Path base =
        args.length > 1
            ? Files.createDirectories(Path.of(args[1]))
            : Files.createTempDirectory("tfs-journal-bench");
    System.out.printf(
        "%-6s %-10s %7s %10s %9s %9s %12s %12s%n",
        "policy", "op", "threads", "ops/s", "MB/s", "fsyncs/s", "lock us/op", "wall us/op");
    run(base, Durability.NONE, false, 1, 0.5); // warm-up
    for (Durability d : Durability.values()) {
      for (boolean big : new boolean[] {false, true}) {
        for (int threads : new int[] {1, 4}) {
          run(base, d, big, threads, seconds);
        }
      }
    }
    recovery(base, 256);
    delete(base);
  }

  /** How long opening takes when the writer must scan {@code mib} MiB of unshipped journal. */
  private static void recovery(Path base, int mib) throws Exception {
    Path dir = base.resolve("recovery");
    JournalOptions opts =
        JournalOptions.builder().volume("bench").partitions(12).durability(Durability.NONE).build();
    byte[] data = new byte[128 * 1024];
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      for (int i = 0; i < mib * 8; i++) {
        w.commit(
            0,
            new OpDraft(
                ("f" + (i % 100)).getBytes(StandardCharsets.UTF_8),
                i,
                new Write(0L, ByteBuffer.wrap(data)),
                null,
                null));
      }
    }
    long t0 = System.nanoTime();
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "recovery scan of %d MiB (%d ops, page cache warm): %.2f s, %.0f MiB/s%n",
          mib, w.stats().nextSeq() - 1, s, mib / s);
    }
    delete(dir);
  }

  private static void run(Path base, Durability d, boolean big, int threads, double seconds)
      throws Exception {
    Path dir = base.resolve(d + "-" + big + "-" + threads + "-" + System.nanoTime());
    JournalOptions opts =
        JournalOptions.builder().volume("bench").partitions(12).durability(d).build();
    byte[] data = new byte[128 * 1024];
    AtomicLong ops = new AtomicLong();
    AtomicLong valueBytes = new AtomicLong();
    long lockNanos;
    long fsyncs;
    long elapsed;
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      long deadline = System.nanoTime() + (long) (seconds * 1e9);
      Thread shipper =
          new Thread(
              () -> {
                while (System.nanoTime() < deadline) {
                  long last = w.stats().nextSeq() - 1;
                  if (last > 0) {
                    w.acknowledge(last);
                  }
                  try {
                    Thread.sleep(100);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              });
      shipper.start();
      Thread[] ts = new Thread[threads];
      long f0 = w.stats().fsyncs();
      long t0 = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int tt = t;
        ts[t] =
            new Thread(
                () -> {
                  int i = 0;
                  while (System.nanoTime() < deadline) {
                    String path = "t" + tt + "/f" + (i++ % 1000);
                    byte[] p = path.getBytes(StandardCharsets.UTF_8);
                    OpDraft b;
                    IntentRecord intent;
                    if (big) {
                      b = new OpDraft(p, i, new Write(0L, ByteBuffer.wrap(data)), (long) i, null);
                      intent = IntentRecord.write(p, 0, data.length);
                    } else {
                      b = new OpDraft(p, i, new Create(0644, 0, 0), (long) i, (long) i);
                      intent = IntentRecord.of(OpKind.CREATE, p);
                    }
                    long id = w.intent(intent);
                    w.commit(id, b);
                    ops.incrementAndGet();
                    valueBytes.addAndGet(big ? data.length : 0);
                  }
                });
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      elapsed = System.nanoTime() - t0;
      shipper.join();
      fsyncs = w.stats().fsyncs() - f0;
      lockNanos = w.lockHeldNanos();
    }
    double secs = elapsed / 1e9;
    long n = ops.get();
    System.out.printf(
        "%-6s %-10s %7d %10.0f %9.1f %9.0f %12.2f %12.2f%n",
        d,
        big ? "write128k" : "create",
        threads,
        n / secs,
        valueBytes.get() / secs / (1 << 20),
        fsyncs / secs,
        lockNanos / 1e3 / n,
        elapsed / 1e3 / n * threads);
    delete(dir);
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
