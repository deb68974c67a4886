package dev.tfs.bench;

import dev.tfs.tools.stack.ChildProcess;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The processes and mounts the harness starts. Each is registered when started and removed when
 * stopped; {@link #cleanup} (also run from a shutdown hook, e.g. on Ctrl-C) stops what is left, by
 * pid, and unmounts what is left, so no daemon or mount outlives a run.
 */
final class Procs {
  private static final List<Proc> RUNNING = new CopyOnWriteArrayList<>();
  private static final List<Path> MOUNTS = new CopyOnWriteArrayList<>();
  // The stack's components, started by the tools' stack classes in their own sessions.
  private static final List<ChildProcess> CHILDREN = new CopyOnWriteArrayList<>();

  private Procs() {}

  /** A started child process with its log. */
  static final class Proc {
    final String name;
    final Process process;
    final Path log;

    Proc(String name, Process process, Path log) {
      this.name = name;
      this.process = process;
      this.log = log;
    }

    long pid() {
      return process.pid();
    }

    boolean alive() {
      return process.isAlive();
    }

    /** SIGTERM, wait up to {@code grace}, then SIGKILL. True when it stopped on its own. */
    boolean stop(Duration grace) {
      RUNNING.remove(this);
      if (!process.isAlive()) {
        return true;
      }
      process.destroy();
      try {
        if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          return true;
        }
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
      return false;
    }

    String tail(int lines) {
      try {
        List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
      } catch (IOException e) {
        return "(no log)";
      }
    }
  }

  /** Starts {@code cmd} with stdout and stderr appended to {@code log}. */
  static Proc start(String name, List<String> cmd, Path log, Map<String, String> env) {
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(
          log,
          "---- starting " + String.join(" ", cmd) + "\n",
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().putAll(env);
      pb.redirectErrorStream(true);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      Proc p = new Proc(name, pb.start(), log);
      RUNNING.add(p);
      return p;
    } catch (IOException e) {
      throw new BenchException("cannot start " + name + " (" + cmd.get(0) + "): " + e.getMessage());
    }
  }

  /** The java executable of this JVM. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** {@code sync}: flushes every file system, so a timed step starts with no dirty pages. */
  static void sync() {
    run(List.of("sync"), Duration.ofMinutes(10));
  }

  /** Runs a command to completion; returns its output; fails on a non-zero exit. */
  static String run(List<String> cmd, Duration timeout) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new BenchException(String.join(" ", cmd) + " timed out");
      }
      String s = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new BenchException(
            String.join(" ", cmd) + " exited " + p.exitValue() + ": " + s.strip());
      }
      return s;
    } catch (IOException e) {
      throw new BenchException("cannot run " + cmd.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted running " + cmd.get(0));
    }
  }

  /** Like {@link #run} but returns null instead of failing. */
  static String tryRun(List<String> cmd, Duration timeout) {
    try {
      return run(cmd, timeout);
    } catch (BenchException e) {
      return null;
    }
  }

  /** Registers a stack component for {@link #cleanup}; returns it. */
  static ChildProcess track(ChildProcess p) {
    CHILDREN.add(p);
    return p;
  }

  /** Stops a tracked stack component (SIGTERM, then SIGKILL after {@code grace}). */
  static boolean stop(ChildProcess p, Duration grace) {
    CHILDREN.remove(p);
    return p.stop(grace);
  }

  static void registerMount(Path dir) {
    MOUNTS.add(dir);
  }

  static void unregisterMount(Path dir) {
    MOUNTS.remove(dir);
  }

  /** Polls until {@code ready} or the timeout, failing with {@code what}. */
  static void await(String what, Duration timeout, BooleanSupplier ready) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 2;
    while (!ready.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new BenchException(
            "timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      sleep(pause);
      pause = Math.min(pause * 2, 100);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  /** Stops every process still registered and unmounts every mount still registered. */
  static synchronized void cleanup() {
    List<Proc> procs = new ArrayList<>(RUNNING);
    for (int i = procs.size() - 1; i >= 0; i--) {
      Proc p = procs.get(i);
      if (p.alive()) {
        System.err.println("bench: stopping " + p.name + " (pid " + p.pid() + ")");
      }
      p.stop(Duration.ofSeconds(30));
    }
    List<ChildProcess> children = new ArrayList<>(CHILDREN);
    for (int i = children.size() - 1; i >= 0; i--) {
      ChildProcess c = children.get(i);
      if (c.alive()) {
        System.err.println("bench: stopping " + c.name() + " (pid " + c.pid() + ")");
      }
      stop(c, Duration.ofSeconds(30));
    }
    for (Path m : new ArrayList<>(MOUNTS)) {
      if (Mounts.isMounted(m)) {
        System.err.println("bench: unmounting " + m);
        Mounts.unmount(m);
      }
      MOUNTS.remove(m);
    }
  }
}
