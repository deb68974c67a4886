package dev.tfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --profile}: JFR recordings ({@code settings=profile}) of the JVMs a group measures,
 * started and dumped with {@code jcmd}, summarized (hottest methods by self and total CPU samples)
 * into {@code profiles.md}. JFR samples Java frames only; FUSE callback threads spend most of their
 * time in native code and syscalls, which JFR does not see (use perf for that split).
 */
final class Profiler {
  private static final List<String[]> DONE = new ArrayList<>();

  private Profiler() {}

  /** Starts a recording named {@code name} in JVM {@code pid}. */
  static void start(Env env, long pid, String name) {
    if (!env.profile) {
      return;
    }
    Procs.tryRun(
        List.of("jcmd", Long.toString(pid), "JFR.start", "name=" + name, "settings=profile"),
        Duration.ofSeconds(30));
  }

  /** Dumps and stops the recording; {@code threads} filters the summary by thread name. */
  static void stop(Env env, long pid, String name, String title, String threads) {
    if (!env.profile) {
      return;
    }
    Path dir = env.out.resolve("profiles");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      return;
    }
    Path f = dir.resolve(name + ".jfr");
    Procs.tryRun(
        List.of("jcmd", Long.toString(pid), "JFR.dump", "name=" + name, "filename=" + f),
        Duration.ofSeconds(60));
    Procs.tryRun(
        List.of("jcmd", Long.toString(pid), "JFR.stop", "name=" + name), Duration.ofSeconds(30));
    synchronized (DONE) {
      DONE.add(new String[] {title, f.toString(), threads});
    }
  }

  /** Writes profiles.md from every recording of the run. */
  static void writeSummary(Env env) throws IOException {
    synchronized (DONE) {
      if (DONE.isEmpty()) {
        return;
      }
      StringBuilder sb = new StringBuilder("# JFR profiles of this run\n\n");
      sb.append(
          "CPU samples (`jdk.ExecutionSample`) of the JVMs, hottest methods by self time and by"
              + " total (inclusive) time. JFR sees Java frames only: time in syscalls and the"
              + " kernel (FUSE round trips, page-cache copies, fsync) does not appear here.\n\n");
      for (String[] d : DONE) {
        Path f = Path.of(d[1]);
        if (!Files.exists(f)) {
          continue;
        }
        sb.append("## ").append(d[0]).append("\n\n```\n");
        sb.append(JfrSummary.summarize(f, d[2].isEmpty() ? null : d[2], 20));
        sb.append("```\n\n");
      }
      Files.writeString(env.out.resolve("profiles.md"), sb.toString());
    }
  }
}
