package dev.tfs.bench;

import dev.tfs.op.Volumes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The workloads that need a mirror: change propagation, bootstrap, apply rate and sink memory. Each
 * uses its own tfs volume (its own tfs-capture daemon shipping to the stack's broker, its own
 * topic) and its own mirror connectors on the stack's Connect worker, deployed from the
 * repository's sample sink config.
 */
final class MirrorBench {
  private static final Duration LONG = Duration.ofMinutes(30);

  private final Env env;

  /** Trees deleted at the end of each group (see {@link Data#emptyTrash}). */
  private final List<Path> trash = new ArrayList<>();

  MirrorBench(Env env) {
    this.env = env;
  }

  private Subject shipper(String name) {
    return Subject.capture(name, true, Subject.JournalOn.DISK, List.of());
  }

  private static double secs(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1e9;
  }

  // ------------------------------------------------------------------ propagation

  /**
   * A tree of {@code propFiles} 1 KiB files, mirrored by tfs and by an rsync copy; per repetition
   * 10 files change: tfs = from the first write through the mount until the mirror shows all 10 new
   * contents; rsync = one {@code rsync -a} of the whole tree.
   */
  void propagation() throws IOException {
    String g = "propagation";
    int n = env.sizes.propFiles();
    Path base = env.work.resolve("prop");
    Path store = base.resolve("store");
    Path mnt = base.resolve("mnt");
    Path mirror = base.resolve("mirror");
    Path rsyncDst = base.resolve("rsync-dst");
    String volume = "bench-prop";
    String connector = "bench-prop";
    Trees.Spec spec = Trees.uniform(n, 1024, 100, 1024);
    env.say("%s: writing a %,d-file tree", g, n);
    Trees.write(spec, store, 1000);
    Procs.sync();
    long r0 = System.nanoTime();
    Procs.run(List.of("rsync", "-a", store + "/", rsyncDst + "/"), LONG);
    env.results.add(
        g, "initial copy", "rsync", "seconds", "s", false, 1, secs(r0, System.nanoTime()));
    env.stack.createTopic(Volumes.defaultTopic(volume));
    Subject.Mounted m = null;
    try {
      env.stack.deployMirror(connector, volume, mirror, Map.of());
      long t0 = System.nanoTime();
      m = shipper("capture-prop").mount(env, store, mnt, base.resolve("journal"), volume);
      long tMounted = System.nanoTime();
      Trees.marker(mnt, "ready");
      long tDone =
          Trees.awaitFile(env, mirror.resolve("ready"), Trees.MARKER_BYTES, LONG, connector);
      env.results.add(g, "initial copy", "tfs", "seconds", "s", false, 1, secs(t0, tDone));
      env.results.add(
          g, "initial copy", "tfs", "snapshot-recorded", "s", false, 1, secs(t0, tMounted));
      env.say(
          "%s: tfs bootstrap of %,d files: snapshot recorded in %.1f s, mirror complete in %.1f s",
          g, n, secs(t0, tMounted), secs(t0, tDone));
      for (int rep = 1; rep <= env.reps(env.sizes.propReps()); rep++) {
        SplittableRandom r = new SplittableRandom(rep);
        int[] idx = new int[10];
        byte[][] content = new byte[10][];
        for (int k = 0; k < 10; k++) {
          idx[k] = r.nextInt(n);
          content[k] = Data.bytes(1024, 5_000_000L + rep * 100L + k);
        }
        Procs.sync();
        // tfs
        long a = System.nanoTime();
        for (int k = 0; k < 10; k++) {
          try (FileChannel ch =
              FileChannel.open(spec.file(mnt, idx[k]), StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content[k]);
            while (b.hasRemaining()) {
              ch.write(b, b.position());
            }
          }
        }
        long b = awaitContent(spec, mirror, idx, content, connector);
        env.results.add(g, "10 changed files", "tfs", "seconds", "s", false, rep, secs(a, b));
        // rsync of the whole tree (sees the same 10 changes in the store)
        Procs.sync();
        long c = System.nanoTime();
        Procs.run(List.of("rsync", "-a", store + "/", rsyncDst + "/"), LONG);
        long d = System.nanoTime();
        for (int k = 0; k < 10; k++) {
          if (!Arrays.equals(Files.readAllBytes(spec.file(rsyncDst, idx[k])), content[k])) {
            throw new BenchException("rsync did not copy a changed file");
          }
        }
        env.results.add(g, "10 changed files", "rsync", "seconds", "s", false, rep, secs(c, d));
        env.say(
            "%s rep %d: tfs %.1f ms, rsync -a %.0f ms (%.0f×)",
            g, rep, secs(a, b) * 1e3, secs(c, d) * 1e3, secs(c, d) / secs(a, b));
      }
    } finally {
      if (m != null) {
        m.close();
      }
      env.stack.deleteMirror(connector);
      env.stack.deleteTopic(Volumes.defaultTopic(volume));
      Data.deleteTree(base);
    }
  }

  private long awaitContent(
      Trees.Spec spec, Path mirror, int[] idx, byte[][] content, String connector) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    int k = 0;
    while (k < idx.length) {
      try {
        if (Arrays.equals(Files.readAllBytes(spec.file(mirror, idx[k])), content[k])) {
          k++;
          continue;
        }
      } catch (IOException e) {
        // not there yet
      }
      if (System.nanoTime() > deadline) {
        env.stack.checkNotFailed(connector);
        throw new BenchException("the mirror did not show the changed files within 2 min");
      }
      java.util.concurrent.locks.LockSupport.parkNanos(200_000);
    }
    return System.nanoTime();
  }

  // ------------------------------------------------------------------ bootstrap

  /**
   * A 1 GiB / 10k-file tree into a new mirror. tfs: a new tfs-capture over the tree (snapshot into
   * the journal, shipped), a new mirror connector deployed at the start; timed from starting the
   * daemon until the mirror shows a marker written after the snapshot. rsync: {@code rsync -a} to a
   * new directory.
   */
  void bootstrap() throws IOException {
    String g = "bootstrap";
    Path base = env.work.resolve("boot");
    Path src = base.resolve("src");
    Trees.Spec spec = Trees.mixed(env.sizes.bootFiles(), env.sizes.bootBytes(), 100, 7);
    env.say("%s: writing a %s / %,d-file tree", g, Sections.size(spec.bytes()), spec.files());
    Trees.write(spec, src, 2000);
    Procs.sync();
    try {
      for (int rep = 1; rep <= env.reps(env.sizes.bootReps()); rep++) {
        Path dst = base.resolve("rsync-" + rep);
        Procs.sync();
        long a = System.nanoTime();
        Procs.run(List.of("rsync", "-a", src + "/", dst + "/"), LONG);
        long b = System.nanoTime();
        env.results.add(g, "tree", "rsync", "seconds", "s", false, rep, secs(a, b));
        trash.add(dst);

        bootstrapTfs(g, base, src, rep, "tfs", null);
        if (env.baselineJar != null) {
          bootstrapTfs(g, base, src, rep, "tfs@before", env.baselineJar);
        }
      }
    } finally {
      Data.emptyTrash(trash);
      Data.deleteTree(base);
    }
  }

  /** One tfs bootstrap of {@code src} into a new mirror, as subject {@code name}. */
  private void bootstrapTfs(String g, Path base, Path src, int rep, String name, Path jar)
      throws IOException {
    String tag = name.equals("tfs") ? "" : "-before";
    String volume = "bench-boot-" + rep + tag;
    String connector = "bench-boot-" + rep + tag;
    Path mirror = base.resolve("mirror-" + rep + tag);
    Path mnt = base.resolve("mnt");
    Path journal = base.resolve("journal-" + rep + tag);
    env.stack.createTopic(Volumes.defaultTopic(volume));
    Subject s = shipper("capture-boot");
    if (jar != null) {
      s = s.withJar("capture-boot-before", jar);
    }
    Subject.Mounted m = null;
    try {
      Procs.sync();
      long t0 = System.nanoTime();
      env.stack.deployMirror(connector, volume, mirror, Map.of());
      m = s.mount(env, src, mnt, journal, volume);
      long tMounted = System.nanoTime();
      Trees.marker(mnt, ".bench-ready");
      long tDone =
          Trees.awaitFile(env, mirror.resolve(".bench-ready"), Trees.MARKER_BYTES, LONG, connector);
      env.results.add(g, "tree", name, "seconds", "s", false, rep, secs(t0, tDone));
      env.results.add(g, "tree", name, "snapshot-recorded", "s", false, rep, secs(t0, tMounted));
      env.say(
          "%s rep %d: %s %.1f s (snapshot recorded after %.1f s)",
          g, rep, name, secs(t0, tDone), secs(t0, tMounted));
    } finally {
      if (m != null) {
        m.close();
      }
      env.stack.deleteMirror(connector);
      env.stack.deleteTopic(Volumes.defaultTopic(volume));
      Files.deleteIfExists(src.resolve(".bench-ready"));
      Data.deleteTree(journal);
      trash.add(mirror);
    }
  }

  // ------------------------------------------------------------------ apply rate

  /**
   * Mirror apply rate from a pre-filled topic: the large-file tree and the small-file tree are
   * written through tfs-capture once (each its own volume and topic) and shipped; then per
   * repetition a new mirror connector applies the topic into an empty root (timed from the first
   * entry appearing to the marker, the last op), interleaved with writing the same tree directly
   * into a plain directory plus a syncfs (the mirror connectors use tfs.fsync=commit).
   */
  void apply() throws IOException {
    String g = "apply";
    Path base = env.work.resolve("apply");
    Trees.Spec large =
        Trees.uniform(
            (int) Math.max(1, env.sizes.applyLargeBytes() / (128L << 20)),
            Math.min(128L << 20, env.sizes.applyLargeBytes()),
            100,
            1 << 20);
    Trees.Spec small = Trees.uniform(env.sizes.applySmallFiles(), 4096, 100, 4096);
    try {
      prefill(g, "large", large, base);
      prefill(g, "small", small, base);
      for (int rep = 1; rep <= env.reps(env.sizes.applyReps()); rep++) {
        for (String kind : List.of("large", "small")) {
          Trees.Spec spec = kind.equals("large") ? large : small;
          // raw: the same tree straight into a plain directory
          Path raw = base.resolve("raw-" + kind + "-" + rep);
          Procs.sync();
          long a = System.nanoTime();
          Trees.write(spec, raw, 3000);
          Trees.marker(raw, ".bench-done");
          Procs.run(List.of("sync", "-f", raw.toString()), LONG);
          long b = System.nanoTime();
          recordApply(g, kind, "raw", spec, rep, secs(a, b));
          trash.add(raw);
          Procs.sync();
          // tfs: a new mirror of the pre-filled topic
          String volume = "bench-apply-" + kind;
          String connector = "bench-apply-" + kind + "-" + rep;
          Path mirror = base.resolve("mirror-" + kind + "-" + rep);
          try {
            long t0 = System.nanoTime();
            env.stack.deployMirror(connector, volume, mirror, Map.of());
            long t1 = Trees.awaitNonEmpty(mirror, Duration.ofMinutes(5));
            long t2 =
                Trees.awaitFile(
                    env, mirror.resolve(".bench-done"), Trees.MARKER_BYTES, LONG, connector);
            recordApply(g, kind, "tfs", spec, rep, secs(t1, t2));
            env.results.add(g, kind, "tfs", "startup", "s", false, rep, secs(t0, t1));
          } finally {
            env.stack.deleteMirror(connector);
            trash.add(mirror);
          }
        }
      }
    } finally {
      env.stack.deleteTopic(Volumes.defaultTopic("bench-apply-large"));
      env.stack.deleteTopic(Volumes.defaultTopic("bench-apply-small"));
      Data.emptyTrash(trash);
      Data.deleteTree(base);
    }
  }

  private void recordApply(
      String g, String kind, String subject, Trees.Spec spec, int rep, double s) {
    if (kind.equals("large")) {
      env.results.add(
          g, kind, subject, "throughput", "MiB/s", true, rep, spec.bytes() / 1048576.0 / s);
    } else {
      env.results.add(g, kind, subject, "rate", "files/s", true, rep, spec.files() / s);
    }
    env.say(
        "%s %s rep %d: %s %.2f s (%s)",
        g,
        kind,
        rep,
        subject,
        s,
        kind.equals("large")
            ? String.format("%.0f MiB/s", spec.bytes() / 1048576.0 / s)
            : String.format("%.0f files/s", spec.files() / s));
  }

  /** Writes {@code spec} through a tfs-capture of its own volume and waits until it is shipped. */
  private void prefill(String g, String kind, Trees.Spec spec, Path base) throws IOException {
    String volume = "bench-apply-" + kind;
    Path store = base.resolve("store-" + kind);
    Path mnt = base.resolve("mnt-" + kind);
    Path journal = base.resolve("journal-" + kind);
    env.stack.createTopic(Volumes.defaultTopic(volume));
    Subject.Mounted m = shipper("capture-" + kind).mount(env, store, mnt, journal, volume);
    try {
      long a = System.nanoTime();
      Trees.write(spec, mnt, 3000);
      Trees.marker(mnt, ".bench-done");
      long b = System.nanoTime();
      double drain = m.drainShipper(LONG);
      env.say(
          "%s: pre-filled topic tfs.%s.ops with %s (%,d files): written through the mount in %.1f"
              + " s, shipped %.1f s later",
          g, volume, Sections.size(spec.bytes()), spec.files(), secs(a, b), drain);
    } finally {
      m.close();
      Data.deleteTree(store);
      Data.deleteTree(journal);
    }
  }

  // ------------------------------------------------------------------ memory

  /**
   * Sink memory with a large backlog: {@code memBacklogBytes} written through tfs-capture (files of
   * 256 MiB in 1 MiB writes) and shipped while no mirror reads; then one new mirror applies the
   * whole backlog. The Connect worker's heap is sampled every second after a forced full GC (its
   * live set), with RSS; the live set is also recorded against the bytes applied so far.
   */
  void memory() throws IOException {
    String g = "memory";
    Path base = env.work.resolve("mem");
    long total = env.sizes.memBacklogBytes();
    long fileSize = Math.min(256L << 20, total);
    Trees.Spec spec = Trees.uniform((int) (total / fileSize), fileSize, 100, 1 << 20);
    String volume = "bench-mem";
    String connector = "bench-mem";
    Path store = base.resolve("store");
    Path mnt = base.resolve("mnt");
    Path mirror = base.resolve("mirror");
    env.stack.createTopic(Volumes.defaultTopic(volume));
    try {
      Subject.Mounted m =
          shipper("capture-mem").mount(env, store, mnt, base.resolve("journal"), volume);
      try (JvmSampler cs = JvmSampler.start(m.proc.pid(), 1000, false)) {
        JvmSampler.resetPeakRss(m.proc.pid());
        long a = System.nanoTime();
        Trees.write(spec, mnt, 4000);
        Trees.marker(mnt, ".bench-done");
        long b = System.nanoTime();
        double drain = m.drainShipper(LONG);
        cs.sampleNow();
        env.results.add(
            g, "tfs-capture", "tfs-capture", "peak-rss", "MiB", false, 1, m.peakRss() / 1048576.0);
        env.results.add(
            g,
            "tfs-capture",
            "tfs-capture",
            "peak-heap",
            "MiB",
            false,
            1,
            cs.peakHeapUsed() / 1048576.0);
        env.results.add(
            g,
            "tfs-capture",
            "tfs-capture",
            "heap-after-gc",
            "MiB",
            false,
            1,
            cs.peakHeapAfterGc() / 1048576.0);
        env.results.add(
            g,
            "backlog",
            "tfs-capture",
            "bytes",
            "GiB",
            true,
            1,
            spec.bytes() / (double) (1L << 30));
        env.results.add(g, "backlog", "tfs-capture", "write-seconds", "s", false, 1, secs(a, b));
        env.results.add(g, "backlog", "tfs-capture", "ship-drain", "s", false, 1, drain);
        env.say(
            "%s: backlog of %s written through tfs-capture in %.1f s, in Kafka %.1f s later;"
                + " capture peak RSS %.0f MiB, peak heap %.0f MiB",
            g,
            Sections.size(spec.bytes()),
            secs(a, b),
            drain,
            m.peakRss() / 1048576.0,
            cs.peakHeapUsed() / 1048576.0);
      } finally {
        m.close();
        Data.deleteTree(store);
      }
      long pid = env.stack.connectPid();
      JvmSampler.resetPeakRss(pid);
      List<double[]> curve = new ArrayList<>();
      try (JvmSampler ws = JvmSampler.start(pid, 1000, true)) {
        Procs.sleep(2500);
        double baseLive = ws.peakLive() / 1048576.0;
        long t0 = System.nanoTime();
        env.stack.deployMirror(connector, volume, mirror, Map.of());
        // Sample the live set against bytes applied (the mirror's size) until the marker shows.
        long deadline = System.nanoTime() + LONG.toNanos();
        Path done = mirror.resolve(".bench-done");
        while (!Trees.hasSize(done, Trees.MARKER_BYTES)) {
          if (System.nanoTime() > deadline) {
            throw new BenchException(
                "the memory mirror did not finish within " + LONG.toMinutes() + " min");
          }
          env.stack.checkNotFailed(connector);
          Procs.sleep(1000);
          curve.add(
              new double[] {dirBytes(mirror) / (double) (1L << 30), ws.lastLive() / 1048576.0});
        }
        long t1 = System.nanoTime();
        ws.sampleNow();
        double applied = spec.bytes() / 1048576.0 / secs(t0, t1);
        env.results.add(
            g, "sink", "connect-worker", "baseline-live-heap", "MiB", false, 1, baseLive);
        env.results.add(
            g,
            "sink",
            "connect-worker",
            "peak-live-heap",
            "MiB",
            false,
            1,
            ws.peakLive() / 1048576.0);
        env.results.add(
            g,
            "sink",
            "connect-worker",
            "peak-heap",
            "MiB",
            false,
            1,
            ws.peakHeapUsed() / 1048576.0);
        env.results.add(
            g, "sink", "connect-worker", "peak-rss", "MiB", false, 1, ws.peakRss() / 1048576.0);
        env.results.add(g, "sink", "connect-worker", "apply-throughput", "MiB/s", true, 1, applied);
        env.say(
            "%s: sink applied %s in %.1f s (%.0f MiB/s); worker live heap %.0f MiB before, peak %.0f"
                + " MiB; peak heap used %.0f MiB; peak RSS %.0f MiB",
            g,
            Sections.size(spec.bytes()),
            secs(t0, t1),
            applied,
            baseLive,
            ws.peakLive() / 1048576.0,
            ws.peakHeapUsed() / 1048576.0,
            ws.peakRss() / 1048576.0);
      } finally {
        env.stack.deleteMirror(connector);
      }
      synchronized (CURVE) {
        CURVE.clear();
        CURVE.addAll(curve);
      }
    } finally {
      env.stack.deleteTopic(Volumes.defaultTopic(volume));
      Data.deleteTree(base);
    }
  }

  /** (GiB applied, live heap MiB) samples of the memory run, for the plot. */
  static final List<double[]> CURVE = new ArrayList<>();

  static void saveCurve(Path out) throws IOException {
    StringBuilder sb = new StringBuilder("gib_applied,live_heap_mib\n");
    synchronized (CURVE) {
      for (double[] p : CURVE) {
        sb.append(p[0]).append(',').append(p[1]).append('\n');
      }
    }
    Files.writeString(out.resolve("memory-curve.csv"), sb.toString());
  }

  static void loadCurve(Path out) throws IOException {
    Path f = out.resolve("memory-curve.csv");
    if (!Files.exists(f)) {
      return;
    }
    List<String> lines = Files.readAllLines(f);
    synchronized (CURVE) {
      CURVE.clear();
      for (String l : lines.subList(1, lines.size())) {
        String[] x = l.split(",", -1);
        CURVE.add(new double[] {Double.parseDouble(x[0]), Double.parseDouble(x[1])});
      }
    }
  }

  private static long dirBytes(Path dir) {
    try (var s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }
}
