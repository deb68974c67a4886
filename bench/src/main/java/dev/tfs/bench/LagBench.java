package dev.tfs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
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
  static final int FILE_BYTES = 100;
  static final int PER_DIR = 1000;

  private final Env env;
  private final List<String> subjects = List.of("tfs", "lsyncd-delay0", "lsyncd-default");
  private final int[] rates = {100, 1000};
  private final Map<String, Lsyncd> lsyncds = new LinkedHashMap<>();
  private Path tfsMirror;

  /** Latencies (ms) of the last repetition per subject and rate, for the CDF plot. */
  static final Map<String, double[]> LAST = new LinkedHashMap<>();

  LagBench(Env env) {
    this.env = env;
  }

  void run() throws IOException {
    Path base = env.work.resolve("lag");
    BenchStack st = env.stack;
    tfsMirror = base.resolve("mirror-tfs");
    try {
      st.deployMirror("bench-lag", BenchStack.LAG_VOLUME, tfsMirror, Map.of());
      st.awaitRunning("bench-lag", Duration.ofMinutes(2));
      lsyncds.put("lsyncd-delay0", Lsyncd.start(env, base.resolve("lsyncd-delay0"), 0));
      lsyncds.put("lsyncd-default", Lsyncd.start(env, base.resolve("lsyncd-default"), -1));
      for (int rep = 1; rep <= env.sizes.lagReps(); rep++) {
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
      st.deleteMirror("bench-lag");
      Data.deleteTree(tfsMirror);
    }
  }

  private void one(String subject, int rate, int rep) throws IOException {
    String run = "r" + rep + "-" + rate;
    Path src;
    Path dst;
    if (subject.equals("tfs")) {
      src = env.stack.mount().resolve(run);
      dst = tfsMirror.resolve(run);
    } else {
      Lsyncd l = lsyncds.get(subject);
      src = l.src.resolve(run);
      dst = l.dst.resolve(run);
    }
    int seconds = env.sizes.lagSeconds();
    int n = rate * seconds;
    int dirs = (n + PER_DIR - 1) / PER_DIR;
    for (int d = 0; d < dirs; d++) {
      Files.createDirectories(src.resolve(dir(d)));
    }
    // The directories reach the mirror first (lsyncd-default: after its delay), so the clock
    // starts with a warm pipeline and only file ops are timed.
    Procs.await(
        subject + " to mirror the run's directories",
        Duration.ofMinutes(2),
        () -> Files.isDirectory(dst.resolve(dir(dirs - 1))));
    env.say("%s rep %d: %s at %d ops/s for %d s", GROUP, rep, subject, rate, seconds);
    long[] written = new long[n];
    long[] seen = new long[n];
    Thread watcher =
        new Thread(
            () -> {
              for (int i = 0; i < n; i++) {
                Path p = dst.resolve(name(i));
                while (!visible(p)) {
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
    ByteBuffer content = ByteBuffer.allocateDirect(FILE_BYTES);
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
      try (FileChannel ch =
          FileChannel.open(
              src.resolve(name(i)), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        while (content.hasRemaining()) {
          ch.write(content);
        }
      }
      written[i] = System.nanoTime();
    }
    double writeSecs = (written[n - 1] - t0) / 1e9;
    try {
      watcher.join(Duration.ofSeconds(120).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (watcher.isAlive()) {
      watcher.interrupt();
      int missing = 0;
      for (long s : seen) {
        if (s == 0) {
          missing++;
        }
      }
      throw new BenchException(
          subject + " did not mirror " + missing + " of " + n + " files within 120 s");
    }
    double[] lag = new double[n];
    for (int i = 0; i < n; i++) {
      lag[i] = Math.max(0, seen[i] - written[i]) / 1e6;
    }
    double[] sorted = lag.clone();
    Arrays.sort(sorted);
    String w = rate + " ops/s";
    double achieved = n / writeSecs;
    env.results.add(GROUP, w, subject, "p50", "ms", false, rep, Results.percentile(sorted, 50));
    env.results.add(GROUP, w, subject, "p95", "ms", false, rep, Results.percentile(sorted, 95));
    env.results.add(GROUP, w, subject, "p99", "ms", false, rep, Results.percentile(sorted, 99));
    env.results.add(GROUP, w, subject, "max", "ms", false, rep, sorted[n - 1]);
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

  private static boolean visible(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size()
          == FILE_BYTES;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  private static String dir(int d) {
    return String.format("d%03d", d);
  }

  private static String name(int i) {
    return dir(i / PER_DIR) + String.format("/f%06d", i);
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
