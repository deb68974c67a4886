package dev.tfs.bench;

import dev.tfs.op.Volumes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * End-to-end lag: a paced writer creates small files (100 bytes: create, write, close) at a fixed
 * rate; a watcher in the same JVM (one clock) polls the mirror for each file in order and takes the
 * time it shows its full size. Lag = visible on the mirror − the writer's close returned.
 *
 * <ul>
 *   <li><b>tfs</b>: written through the local stack's tfs-capture mount (journal, built-in shipper,
 *       broker), applied by a TreeSinkConnector mirror on the Connect worker.
 *   <li><b>lsyncd-delay0 / lsyncd-default</b>: written into a plain directory that lsyncd watches
 *       (default.rsync, local rsync to the target), with {@code delay = 0} and with lsyncd's
 *       default delay.
 * </ul>
 */
final class LagBench {
  static final String GROUP = "lag";

  /** Bytes appended per op. */
  static final int OP_BYTES = 100;

  /** Files a run appends to, round robin. */
  static final int FILES = 100;

  private final Env env;
  private final List<String> subjects =
      new ArrayList<>(List.of("tfs", "lsyncd-delay0", "lsyncd-default"));
  private final int[] rates = {100, 1000};
  private final Map<String, Lsyncd> lsyncds = new LinkedHashMap<>();
  private final Map<String, TfsPath> tfs = new LinkedHashMap<>();

  /** A tfs subject: where the writer writes, where the mirror shows it, its volume. */
  private record TfsPath(Path mount, Path mirror, String volume, String connector) {
    String topic() {
      return Volumes.defaultTopic(volume);
    }
  }

  /** Latencies (ms) of the last repetition per subject and rate, for the CDF plot. */
  static final Map<String, double[]> LAST = new LinkedHashMap<>();

  /** Writes {@link #LAST}, 400 quantiles per series, to {@code lag-cdf.csv}. */
  static void saveCdf(Path out) throws IOException {
    StringBuilder sb = new StringBuilder("series,fraction,ms\n");
    synchronized (LAST) {
      LAST.forEach(
          (k, v) -> {
            int pts = Math.min(v.length, 400);
            for (int i = 0; i < pts; i++) {
              int idx = (int) ((long) i * (v.length - 1) / Math.max(1, pts - 1));
              sb.append(k)
                  .append(',')
                  .append((idx + 1) / (double) v.length)
                  .append(',')
                  .append(v[idx])
                  .append('\n');
            }
          });
    }
    Files.writeString(out.resolve("lag-cdf.csv"), sb.toString());
  }

  /** Reads lag-cdf.csv back into {@link #LAST} (quantiles stand in for the samples). */
  static void loadCdf(Path out) throws IOException {
    Path f = out.resolve("lag-cdf.csv");
    if (!Files.exists(f)) {
      return;
    }
    Map<String, List<Double>> m = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(f);
    for (String l : lines.subList(1, lines.size())) {
      int c2 = l.lastIndexOf(',');
      int c1 = l.lastIndexOf(',', c2 - 1);
      m.computeIfAbsent(l.substring(0, c1), k -> new ArrayList<>())
          .add(Double.parseDouble(l.substring(c2 + 1)));
    }
    synchronized (LAST) {
      LAST.clear();
      m.forEach((k, v) -> LAST.put(k, v.stream().mapToDouble(Double::doubleValue).toArray()));
    }
  }

  LagBench(Env env) {
    this.env = env;
  }

  void run() throws IOException {
    Path base = env.work.resolve("lag");
    BenchStack st = env.stack;
    Subject.Mounted before = null;
    try {
      tfs.put(
          "tfs",
          new TfsPath(st.mount(), base.resolve("mirror-tfs"), BenchStack.LAG_VOLUME, "bench-lag"));
      if (env.baselineJar != null) {
        // The same pipeline with the baseline build's tfs-capture, on its own volume and mirror.
        String vol = BenchStack.LAG_VOLUME + "-before";
        st.createTopic(Volumes.defaultTopic(vol));
        before =
            Subject.capture("capture-lag-before", true, Subject.JournalOn.DISK, List.of())
                .withJar("capture-lag-before", env.baselineJar)
                .mount(
                    env,
                    base.resolve("store-before"),
                    base.resolve("mnt-before"),
                    base.resolve("journal-before"),
                    vol);
        tfs.put(
            "tfs@before",
            new TfsPath(before.dir, base.resolve("mirror-before"), vol, "bench-lag-before"));
        subjects.add(1, "tfs@before");
      }
      for (TfsPath t : tfs.values()) {
        st.deployMirror(t.connector(), t.volume(), t.mirror(), Map.of());
        st.awaitRunning(t.connector(), Duration.ofMinutes(2));
      }
      lsyncds.put("lsyncd-delay0", Lsyncd.start(env, base.resolve("lsyncd-delay0"), 0));
      lsyncds.put("lsyncd-default", Lsyncd.start(env, base.resolve("lsyncd-default"), -1));
      int reps = env.reps(env.sizes.lagReps());
      for (int rep = 1; rep <= reps; rep++) {
        for (int rate : rates) {
          for (String s : subjects) {
            one(s, rate, rep);
          }
        }
      }
    } finally {
      for (Lsyncd l : lsyncds.values()) {
        l.close();
      }
      if (before != null) {
        before.close();
      }
      for (TfsPath t : tfs.values()) {
        st.deleteMirror(t.connector());
        Data.deleteTree(t.mirror());
      }
    }
  }

  private void one(String subject, int rate, int rep) throws IOException {
    String run = "r" + rep + "-" + rate;
    Path src;
    Path dst;
    TfsPath t = tfs.get(subject);
    if (t != null) {
      src = t.mount().resolve(run);
      dst = t.mirror().resolve(run);
    } else {
      Lsyncd l = lsyncds.get(subject);
      src = l.src.resolve(run);
      dst = l.dst.resolve(run);
    }
    int seconds = env.sizes.lagSeconds();
    int n = rate * seconds;
    Files.createDirectories(src);
    for (int f = 0; f < FILES; f++) {
      Files.createFile(src.resolve(name(f)));
    }
    // The files reach the mirror first (lsyncd-default: after its delay), so the clock starts
    // with a warm pipeline and only the appends are timed.
    Procs.await(
        subject + " to mirror the run's files",
        Duration.ofMinutes(2),
        () -> Files.exists(dst.resolve(name(FILES - 1))));
    env.say("%s rep %d: %s at %d ops/s for %d s", GROUP, rep, subject, rate, seconds);
    long[] written = new long[n];
    long[] seen = new long[n];
    long[] inKafka = new long[n];
    TopicTap tap = t != null ? TopicTap.start(env, t.topic(), run + "/", inKafka, FILES) : null;
    Thread watcher =
        new Thread(
            () -> {
              for (int i = 0; i < n; i++) {
                Path p = dst.resolve(name(i % FILES));
                long want = (long) (i / FILES + 1) * OP_BYTES;
                while (size(p) < want) {
                  if (Thread.currentThread().isInterrupted()) {
                    return;
                  }
                  LockSupport.parkNanos(100_000);
                }
                seen[i] = System.nanoTime();
              }
            },
            "lag-watcher");
    watcher.setDaemon(true);
    watcher.start();
    ByteBuffer content = ByteBuffer.allocateDirect(OP_BYTES);
    long period = 1_000_000_000L / rate;
    long t0 = System.nanoTime() + 10_000_000L;
    for (int i = 0; i < n; i++) {
      long due = t0 + i * period;
      long now;
      while ((now = System.nanoTime()) < due) {
        LockSupport.parkNanos(Math.min(due - now, 200_000));
      }
      content.clear();
      Data.fill(content, i);
      // open, append, close: one write op for tfs, a close_write event for lsyncd
      try (FileChannel ch =
          FileChannel.open(src.resolve(name(i % FILES)), StandardOpenOption.APPEND)) {
        while (content.hasRemaining()) {
          ch.write(content);
        }
      }
      written[i] = System.nanoTime();
    }
    double writeSecs = (written[n - 1] - t0) / 1e9;
    try {
      watcher.join(Duration.ofMinutes(2).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (watcher.isAlive()) {
      watcher.interrupt();
      if (tap != null) {
        tap.close();
      }
      int missing = 0;
      for (long x : seen) {
        if (x == 0) {
          missing++;
        }
      }
      throw new BenchException(
          subject + " did not mirror " + missing + " of " + n + " appends within 120 s");
    }
    double[] lag = new double[n];
    for (int i = 0; i < n; i++) {
      lag[i] = Math.max(0, seen[i] - written[i]) / 1e6;
    }
    if (tap != null) {
      tap.close();
      // The split: written -> a consumer of the topic has the op, and the rest.
      double[] toKafka = new double[n];
      int got = 0;
      for (int i = 0; i < n; i++) {
        if (inKafka[i] != 0) {
          toKafka[got++] = Math.max(0, inKafka[i] - written[i]) / 1e6;
        }
      }
      if (got > 0) {
        double[] k = Arrays.copyOf(toKafka, got);
        Arrays.sort(k);
        recordLatencies(rate + " ops/s", subject + ": to Kafka", rep, k);
        env.say(
            "  (written -> in Kafka: p50 %.1f ms, p99 %.1f ms)",
            Results.percentile(k, 50), Results.percentile(k, 99));
      }
    }
    double[] sorted = lag.clone();
    Arrays.sort(sorted);
    String w = rate + " ops/s";
    double achieved = n / writeSecs;
    recordLatencies(w, subject, rep, sorted);
    env.results.add(GROUP, w, subject, "achieved", "ops/s", true, rep, achieved);
    synchronized (LAST) {
      LAST.put(subject + " @ " + w, sorted);
    }
    env.say(
        "  %-15s %5d ops/s (achieved %.0f): p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.0f ms",
        subject,
        rate,
        achieved,
        Results.percentile(sorted, 50),
        Results.percentile(sorted, 95),
        Results.percentile(sorted, 99),
        sorted[n - 1]);
  }

  /** p50, p95, p99 and max of {@code sorted} latencies (ms) as results. */
  private void recordLatencies(String workload, String subject, int rep, double[] sorted) {
    for (int p : new int[] {50, 95, 99}) {
      env.results.add(
          GROUP, workload, subject, "p" + p, "ms", false, rep, Results.percentile(sorted, p));
    }
    env.results.add(GROUP, workload, subject, "max", "ms", false, rep, sorted[sorted.length - 1]);
  }

  private static long size(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
    } catch (IOException e) {
      return -1;
    }
  }

  private static String name(int f) {
    return String.format("f%03d", f);
  }

  /** One lsyncd process (rsync backend) from {@code src} to {@code dst}. */
  static final class Lsyncd implements AutoCloseable {
    final Path src;
    final Path dst;
    final Procs.Proc proc;

    private Lsyncd(Path src, Path dst, Procs.Proc proc) {
      this.src = src;
      this.dst = dst;
      this.proc = proc;
    }

    /** {@code delay} seconds, or lsyncd's default when negative. */
    static Lsyncd start(Env env, Path base, int delay) throws IOException {
      Path src = base.resolve("src");
      Path dst = base.resolve("dst");
      Files.createDirectories(src);
      Files.createDirectories(dst);
      Path log = base.resolve("lsyncd.log");
      Path conf = base.resolve("lsyncd.conf.lua");
      List<String> lines = new ArrayList<>();
      lines.add("settings {");
      lines.add("  logfile = \"" + log + "\",");
      lines.add("  statusFile = \"" + base.resolve("lsyncd.status") + "\",");
      lines.add("  nodaemon = true,");
      lines.add("}");
      lines.add("sync {");
      lines.add("  default.rsync,");
      lines.add("  source = \"" + src + "\",");
      lines.add("  target = \"" + dst + "\",");
      if (delay >= 0) {
        lines.add("  delay = " + delay + ",");
      }
      lines.add("}");
      Files.write(conf, lines);
      Procs.Proc p =
          Procs.start(
              "lsyncd-" + base.getFileName(),
              List.of("lsyncd", conf.toString()),
              env.work.resolve("logs/" + base.getFileName() + ".out"),
              Map.of());
      Procs.await(
          "lsyncd to finish its startup sync",
          Duration.ofSeconds(60),
          () -> {
            if (!p.alive()) {
              throw new BenchException("lsyncd exited: " + p.tail(10));
            }
            try {
              return Files.exists(log) && Files.readString(log).contains("finished");
            } catch (IOException e) {
              return false;
            }
          });
      return new Lsyncd(src, dst, p);
    }

    @Override
    public void close() {
      proc.stop(Duration.ofSeconds(10));
    }
  }
}
