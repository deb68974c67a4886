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
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The capture path: each workload on every subject, in interleaved repetitions (rep 1: A B C …, rep
 * 2: A B C …). Every subject is mounted fresh over an empty store for each repetition and runs the
 * workloads in a fixed order, each in its own directory; between workloads the harness syncs
 * (untimed) and, for a shipping capture, waits until Kafka has the journal (untimed, recorded as
 * {@code ship-drain}).
 */
final class CaptureBench {
  static final String GROUP = "capture";

  static final String SEQ = "seq-write";
  static final String TAR = "tar-x";
  static final String CREATE = "create";
  static final String STAT = "stat";
  static final String DELETE = "delete";
  static final String MIXED = "mixed-rw";
  static final String PAR = "par-create";

  private final Env env;
  private final String group;
  private final List<Subject> subjects;
  private final int reps;
  private Path tarball;

  /** Stores deleted at the end of the group (see {@link Data#emptyTrash}). */
  private final List<Path> trash = new ArrayList<>();

  CaptureBench(Env env, String group, List<Subject> subjects, int reps) {
    this.env = env;
    this.group = group;
    this.subjects = subjects;
    this.reps = reps;
  }

  /** The default subjects: the five, plus the journal on the store's disk. */
  static List<Subject> defaultSubjects(boolean withShip) {
    List<Subject> s = new ArrayList<>();
    s.add(Subject.raw());
    s.add(Subject.bindfs());
    s.add(Subject.passthrough("passthrough", List.of()));
    s.add(Subject.capture("tfs-journal", false, Subject.JournalOn.TMPFS, List.of()));
    s.add(Subject.capture("tfs-journal-disk", false, Subject.JournalOn.DISK, List.of()));
    if (withShip) {
      s.add(Subject.capture("tfs-ship", true, Subject.JournalOn.TMPFS, List.of()));
    }
    return s;
  }

  void run() throws IOException {
    Env.Sizes z = env.sizes;
    tarball = makeTarball(z.tarFiles());
    try {
      for (int rep = 1; rep <= reps; rep++) {
        for (Subject s : subjects) {
          runOne(s, rep);
        }
      }
    } finally {
      Files.deleteIfExists(tarball);
      Data.emptyTrash(trash);
    }
  }

  private void runOne(Subject s, int rep) throws IOException {
    Path base = env.work.resolve(group + "/" + s.name);
    Path store = base.resolve("store-" + rep);
    Path mnt = base.resolve("mnt");
    Path journalRoot = s.journalOn == Subject.JournalOn.TMPFS ? env.shm : base;
    Path journal = journalRoot.resolve("journal-" + s.name);
    String volume =
        ("bench-" + group + "-" + s.name + "-" + rep).replaceAll("[^A-Za-z0-9._-]", "-");
    Data.deleteTree(store);
    Data.deleteTree(journal);
    env.say("%s rep %d/%d: %s", group, rep, reps, s.name);
    Subject.Mounted m = s.mount(env, store, mnt, journal, volume);
    JvmSampler sampler = null;
    try {
      if (s.isJvm()) {
        JvmSampler.resetPeakRss(m.proc.pid());
        sampler = JvmSampler.start(m.proc.pid(), 1000, false);
        if (rep == 1) {
          Profiler.start(env, m.proc.pid(), group + "-" + s.name);
        }
      } else if (m.proc != null) {
        JvmSampler.resetPeakRss(m.proc.pid());
      }
      Env.Sizes z = env.sizes;
      Path d = m.dir;
      warmUp(d.resolve("warm-up"), env.quick);

      between(m, rep);
      double secs = seqWrite(d.resolve("seq"), z.seqBytes());
      record(SEQ, s, "throughput", "MiB/s", rep, z.seqBytes() / 1048576.0 / secs);
      between(m, rep);

      secs = tarX(d.resolve("tar"));
      record(TAR, s, "rate", "files/s", rep, z.tarFiles() / secs);
      between(m, rep);

      double[] meta = createStatDelete(d.resolve("meta"), z.metaFiles());
      record(CREATE, s, "rate", "files/s", rep, z.metaFiles() / meta[0]);
      record(STAT, s, "rate", "stats/s", rep, z.metaFiles() / meta[1]);
      record(DELETE, s, "rate", "files/s", rep, z.metaFiles() / meta[2]);
      between(m, rep);

      secs = mixed(d.resolve("mixed"), z.mixedFileBytes(), z.mixedOps(), rep);
      record(MIXED, s, "rate", "ops/s", rep, z.mixedOps() / secs);
      between(m, rep);

      int par = z.metaFiles();
      secs = parallelCreate(d.resolve("par"), 4, par / 4);
      record(PAR, s, "rate", "files/s", rep, (par / 4 * 4) / secs);
      between(m, rep);

      if (s.isJvm() && rep == 1) {
        Profiler.stop(
            env,
            m.proc.pid(),
            group + "-" + s.name,
            s.name + " during the " + group + " workloads (rep 1)",
            "");
      }
      if (m.proc != null) {
        if (sampler != null) {
          sampler.sampleNow();
          env.results.add(
              group,
              "memory",
              s.name,
              "peak-heap",
              "MiB",
              false,
              rep,
              sampler.peakHeapUsed() / 1048576.0);
          env.results.add(
              group,
              "memory",
              s.name,
              "heap-after-gc",
              "MiB",
              false,
              rep,
              sampler.peakHeapAfterGc() / 1048576.0);
        }
        env.results.add(
            group, "memory", s.name, "peak-rss", "MiB", false, rep, m.peakRss() / 1048576.0);
      }
    } finally {
      if (sampler != null) {
        sampler.close();
      }
      m.close();
      if (s.ship && env.stack != null) {
        env.stack.deleteTopic(Volumes.defaultTopic(volume));
      }
      trash.add(store);
      Data.deleteTree(journal);
    }
  }

  private void record(String workload, Subject s, String metric, String unit, int rep, double v) {
    env.results.add(group, workload, s.name, metric, unit, true, rep, v);
    env.say("  %-10s %-18s %10.1f %s", workload, s.name, v, unit);
  }

  /** Untimed: write back dirty pages, and let a shipping capture drain. */
  private void between(Subject.Mounted m, int rep) {
    Procs.sync();
    if (m.subject().ship) {
      double w = m.drainShipper(Duration.ofMinutes(10));
      env.results.add(group, "ship-drain", m.subject().name, "seconds", "s", false, rep, w);
    }
  }

  // ------------------------------------------------------------------ workloads

  /**
   * Untimed, on every subject alike: a JVM daemon's first seconds are spent compiling its hot paths
   * (C2 took 17% of tfs-capture's CPU in a cold 1 GiB write), which long-running daemons do not
   * pay. A little of each workload warms every path the timed runs use.
   */
  static void warmUp(Path dir, boolean quick) throws IOException {
    int k = quick ? 2 : 1;
    seqWrite(dir.resolve("seq"), (128L << 20) / k);
    createStatDelete(dir.resolve("meta"), 2000 / k);
    mixed(dir.resolve("mixed"), 8L << 20, 2000 / k, 1);
    parallelCreate(dir.resolve("par"), 4, 250 / k);
  }

  /** 1 MiB writes of fresh content, fsync at the end; returns seconds (open to close). */
  static double seqWrite(Path dir, long bytes) throws IOException {
    Files.createDirectories(dir);
    int block = 1 << 20;
    int pool = 8;
    ByteBuffer[] bufs = new ByteBuffer[pool];
    for (int i = 0; i < pool; i++) {
      bufs[i] = ByteBuffer.allocateDirect(block);
      Data.fill(bufs[i], 4242 + i);
    }
    long t0 = System.nanoTime();
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve("seq.bin"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      long blocks = bytes / block;
      for (long i = 0; i < blocks; i++) {
        ByteBuffer b = bufs[(int) (i % pool)];
        b.clear();
        // A different first word per block, so no two blocks are equal.
        b.putLong(0, i * 0x9E3779B97F4A7C15L);
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      ch.force(true);
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** A tarball of {@code n} 4 KiB files in 100 directories, built once on tmpfs. */
  private Path makeTarball(int n) throws IOException {
    Path src = env.shm.resolve("tar-src");
    Data.deleteTree(src);
    int dirs = 100;
    for (int d = 0; d < dirs; d++) {
      Files.createDirectories(src.resolve(String.format("d%03d", d)));
    }
    for (int i = 0; i < n; i++) {
      Files.write(
          src.resolve(String.format("d%03d/f%06d", i % dirs, i)), Data.bytes(4096, 77_000 + i));
    }
    Path tar = env.shm.resolve("files.tar");
    Files.deleteIfExists(tar);
    Procs.run(
        List.of("tar", "-C", src.toString(), "-cf", tar.toString(), "."), Duration.ofMinutes(5));
    Data.deleteTree(src);
    return tar;
  }

  /** {@code tar -xf} of the tarball (as root: owners and mtimes restored too); returns seconds. */
  private double tarX(Path dir) throws IOException {
    Files.createDirectories(dir);
    long t0 = System.nanoTime();
    Procs.run(
        List.of("tar", "-xf", tarball.toString(), "-C", dir.toString()), Duration.ofMinutes(10));
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Creates n empty files, stats each, deletes each; returns the seconds of each phase. */
  static double[] createStatDelete(Path dir, int n) throws IOException {
    Files.createDirectories(dir);
    Path[] p = new Path[n];
    for (int i = 0; i < n; i++) {
      p[i] = dir.resolve("f" + i);
    }
    long t0 = System.nanoTime();
    for (Path f : p) {
      Files.createFile(f);
    }
    long t1 = System.nanoTime();
    long sum = 0;
    for (Path f : p) {
      sum += Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
    }
    long t2 = System.nanoTime();
    for (Path f : p) {
      Files.delete(f);
    }
    long t3 = System.nanoTime();
    if (sum != 0) {
      throw new BenchException("stat saw non-empty files");
    }
    return new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9};
  }

  /**
   * A file of {@code size} bytes (written untimed), then {@code ops} random 4 KiB operations, 60%
   * writes and 40% reads, with an fsync every 256 operations and at the end; returns seconds.
   */
  static double mixed(Path dir, long size, int ops, int seed) throws IOException {
    Files.createDirectories(dir);
    Path f = dir.resolve("mixed.bin");
    Data.writeFile(f, size, 1 << 20, 99, ByteBuffer.allocateDirect(1 << 20));
    int blocks = (int) (size / 4096);
    ByteBuffer w = ByteBuffer.allocateDirect(4096);
    ByteBuffer r = ByteBuffer.allocateDirect(4096);
    SplittableRandom rnd = new SplittableRandom(seed);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.force(true);
      long t0 = System.nanoTime();
      for (int i = 0; i < ops; i++) {
        long off = (long) rnd.nextInt(blocks) * 4096;
        if (rnd.nextInt(10) < 6) {
          w.clear();
          w.putLong(0, i);
          w.putLong(8, off);
          while (w.hasRemaining()) {
            ch.write(w, off + w.position());
          }
        } else {
          r.clear();
          while (r.hasRemaining()) {
            if (ch.read(r, off + r.position()) < 0) {
              break;
            }
          }
        }
        if ((i & 255) == 255) {
          ch.force(false);
        }
      }
      ch.force(false);
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  /** {@code threads} threads each create {@code perThread} 4 KiB files in their own directory. */
  static double parallelCreate(Path dir, int threads, int perThread) throws IOException {
    for (int t = 0; t < threads; t++) {
      Files.createDirectories(dir.resolve("t" + t));
    }
    byte[] content = Data.bytes(4096, 5);
    ExecutorService ex = Executors.newFixedThreadPool(threads);
    try {
      long t0 = System.nanoTime();
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Path d = dir.resolve("t" + t);
        fs.add(
            ex.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    Files.write(
                        d.resolve("f" + i),
                        content,
                        StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      return (System.nanoTime() - t0) / 1e9;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new BenchException("parallel create failed: " + e.getCause(), e.getCause());
    } finally {
      ex.shutdownNow();
    }
  }
}
