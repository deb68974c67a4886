package dev.tfs.tools.stack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A component of the local stack running as its own process, in its own session (so a Ctrl-C in the
 * terminal reaches the launcher, which stops the components in order, rather than all of them at
 * once), with its output appended to a log file.
 *
 * <p>Each process gets a marker argument {@code -Dtfs.stack=<home>#<name>}; stopping by pid checks
 * the marker first, so a pid reused by an unrelated process after a reboot is never killed.
 */
public final class ChildProcess {
  private final String name;
  private final long pid;
  private final String marker;
  // Set when this JVM started the process: its own handle needs no marker check (and right after
  // the fork, before the exec, the command line does not show the marker yet).
  private final Process process;

  private ChildProcess(String name, long pid, String marker, Process process) {
    this.name = name;
    this.pid = pid;
    this.marker = marker;
    this.process = process;
  }

  /** The marker argument that identifies component {@code name} of the stack at {@code home}. */
  public static String marker(Path home, String name) {
    return "-Dtfs.stack=" + home + "#" + name;
  }

  /** Starts {@code javaArgs} (everything after the java executable) with the current JVM's java. */
  public static ChildProcess startJava(
      Layout layout, String name, List<String> javaArgs, Map<String, String> env) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String marker = marker(layout.home(), name);
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(java);
    cmd.add(marker);
    cmd.addAll(javaArgs);
    return start(layout, name, cmd, env, marker);
  }

  private static ChildProcess start(
      Layout layout, String name, List<String> cmd, Map<String, String> env, String marker) {
    Path log = layout.log(name);
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(
          log,
          "---- " + java.time.Instant.now() + " starting " + String.join(" ", cmd) + "\n",
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().putAll(env);
      pb.redirectErrorStream(true);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      Process p = pb.start();
      return new ChildProcess(name, p.pid(), marker, p);
    } catch (IOException e) {
      throw new StackException(
          StackException.STARTUP, "cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  /** A handle to a process started earlier, e.g. by {@code tfs up}, from its recorded pid. */
  public static ChildProcess attach(String name, long pid, String marker) {
    return new ChildProcess(name, pid, marker, null);
  }

  public String name() {
    return name;
  }

  public long pid() {
    return pid;
  }

  public String marker() {
    return marker;
  }

  /** The live process if {@code pid} still runs and carries this component's marker. */
  public Optional<ProcessHandle> handle() {
    if (process != null) {
      return process.isAlive() ? Optional.of(process.toHandle()) : Optional.empty();
    }
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(h -> carriesMarker(pid));
  }

  /**
   * Reads /proc/PID/cmdline directly: ProcessHandle.Info drops the arguments of a long command line
   * (a broker's classpath is tens of KiB).
   */
  private boolean carriesMarker(long pid) {
    try {
      byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      for (String arg :
          new String(cmdline, java.nio.charset.StandardCharsets.UTF_8).split("\0", -1)) {
        if (arg.equals(marker)) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  public boolean alive() {
    return handle().isPresent();
  }

  /**
   * Asks the process to stop (SIGTERM), waits up to {@code grace}, then kills it (SIGKILL).
   *
   * @return true when it stopped on its own within the grace period
   */
  public boolean stop(Duration grace) {
    Optional<ProcessHandle> h = handle();
    if (h.isEmpty()) {
      return true;
    }
    ProcessHandle p = h.get();
    p.destroy();
    try {
      p.onExit().get(grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      p.destroyForcibly();
      try {
        p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // reported by the caller through alive()
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return true;
    }
  }
}
