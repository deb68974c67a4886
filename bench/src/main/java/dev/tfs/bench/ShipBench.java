package dev.tfs.bench;

import dev.tfs.op.Volumes;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Shipping throughput of tfs-capture's built-in shipper with the journal on the store's disk (as
 * deployed): write a tree through the mount, then wait until Kafka acknowledged the whole journal.
 * Throughput = data / (first write → last op acknowledged). Large: files of 128 MiB in 1 MiB
 * writes; small: 4 KiB files (two ops each: create, write).
 */
final class ShipBench {
  static final String GROUP = "ship";

  private final Env env;
  private final List<Subject> subjects;
  private final int reps;

  ShipBench(Env env, List<Subject> subjects, int reps) {
    this.env = env;
    this.subjects = subjects;
    this.reps = reps;
  }

  static List<Subject> defaultSubjects() {
    List<Subject> s = new ArrayList<>();
    s.add(Subject.capture("tfs-ship-disk", true, Subject.JournalOn.DISK, List.of()));
    return s;
  }

  void run() throws IOException {
    long large = env.sizes.seqBytes();
    Trees.Spec big =
        Trees.uniform(
            (int) Math.max(1, large / (128L << 20)), Math.min(large, 128L << 20), 10, 1 << 20);
    Trees.Spec small = Trees.uniform(env.sizes.tarFiles(), 4096, 100, 4096);
    for (int rep = 1; rep <= reps; rep++) {
      for (Subject s : subjects) {
        Path base = env.work.resolve(GROUP + "/" + s.name + "-" + rep);
        String volume = ("bench-ship-" + s.name + "-" + rep).replaceAll("[^A-Za-z0-9._-]", "-");
        env.stack.createTopic(Volumes.defaultTopic(volume));
        env.say("%s rep %d/%d: %s", GROUP, rep, reps, s.name);
        Subject.Mounted m =
            s.mount(
                env, base.resolve("store"), base.resolve("mnt"), base.resolve("journal"), volume);
        try {
          long a = System.nanoTime();
          Trees.write(big, m.dir.resolve("large"), 1);
          long b = System.nanoTime();
          m.drainShipper(Duration.ofMinutes(20));
          long c = System.nanoTime();
          double mib = big.bytes() / 1048576.0;
          env.results.add(
              GROUP, "large", s.name, "throughput", "MiB/s", true, rep, mib / ((c - a) / 1e9));
          env.results.add(GROUP, "large", s.name, "drain", "s", false, rep, (c - b) / 1e9);
          env.say(
              "  large: written %.1f s, shipped %.1f s later: %.0f MiB/s",
              (b - a) / 1e9, (c - b) / 1e9, mib / ((c - a) / 1e9));
          Procs.sync();
          a = System.nanoTime();
          Trees.write(small, m.dir.resolve("small"), 2);
          b = System.nanoTime();
          m.drainShipper(Duration.ofMinutes(20));
          c = System.nanoTime();
          env.results.add(
              GROUP,
              "small",
              s.name,
              "rate",
              "files/s",
              true,
              rep,
              small.files() / ((c - a) / 1e9));
          env.results.add(GROUP, "small", s.name, "drain", "s", false, rep, (c - b) / 1e9);
          env.say(
              "  small: written %.1f s, shipped %.1f s later: %.0f files/s",
              (b - a) / 1e9, (c - b) / 1e9, small.files() / ((c - a) / 1e9));
        } finally {
          m.close();
          env.stack.deleteTopic(Volumes.defaultTopic(volume));
          Data.deleteTree(base.resolve("journal"));
          trash.add(base);
        }
      }
    }
    Data.emptyTrash(trash);
  }

  private final List<Path> trash = new ArrayList<>();
}
