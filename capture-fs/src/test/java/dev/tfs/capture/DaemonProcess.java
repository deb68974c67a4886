package dev.tfs.capture;

import dev.tfs.capture.fs.FuseMount;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** tfs-capture as a child JVM, as users run it (same classpath as the tests). */
final class DaemonProcess implements AutoCloseable {
  final Process process;
  final StringBuffer output = new StringBuffer();
  final CompletableFuture<String> ready = new CompletableFuture<>();
  private final java.util.concurrent.CountDownLatch eof =
      new java.util.concurrent.CountDownLatch(1);
  private final Path mnt;

  DaemonProcess(List<String> args, Path mnt) throws IOException {
    this.mnt = mnt;
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dfile.encoding=ISO-8859-1");
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.tfs.capture.cli.CaptureMain");
    cmd.addAll(args);
    process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  output.append(line).append('\n');
                  if (line.startsWith("tfs-capture: mounted ")) {
                    ready.complete(line);
                  }
                }
              } catch (IOException ignored) {
                // process gone
              }
              ready.completeExceptionally(new IOException("daemon exited:\n" + output));
              eof.countDown();
            },
            "daemon-output");
    t.setDaemon(true);
    t.start();
  }

  String awaitReady() throws Exception {
    return ready.get(60, TimeUnit.SECONDS);
  }

  /** SIGKILL, then wait for the process and for auto_unmount to remove the mount. */
  void kill9() throws Exception {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (FuseMount.isMounted(mnt) && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /**
   * SIGKILL that leaves the mount dead, as auto_unmount sometimes fails to prevent (issue 12 item
   * 5): first the daemon's auto_unmount helper (libfuse2 runs {@code fusermount -o ...auto_unmount
   * -- MOUNT} as a child of the daemon, which unmounts when the daemon's end of its socket closes),
   * then the daemon. The kernel mount then stays, and every access to it fails with ENOTCONN.
   */
  void kill9LeavingDeadMount() throws Exception {
    String where = mnt.toAbsolutePath().toString();
    List<ProcessHandle> helpers =
        process.descendants().filter(h -> isAutoUnmountHelper(h, where)).toList();
    if (helpers.isEmpty()) {
      throw new AssertionError(
          "no auto_unmount helper (fusermount) runs for "
              + where
              + "; children: "
              + process.descendants().map(DaemonProcess::cmdline).toList());
    }
    for (ProcessHandle h : helpers) {
      h.destroyForcibly();
      // The daemon does not reap it: dead means a zombie (state Z) or gone, not !isAlive().
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!deadOrZombie(h.pid())) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("auto_unmount helper " + h.pid() + " survived SIGKILL");
        }
        TimeUnit.MILLISECONDS.sleep(5);
      }
    }
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("daemon survived SIGKILL");
    }
  }

  private static boolean isAutoUnmountHelper(ProcessHandle h, String mountPoint) {
    List<String> argv = cmdline(h);
    return !argv.isEmpty()
        && argv.get(0).endsWith("fusermount")
        && argv.contains(mountPoint)
        && argv.stream().anyMatch(a -> a.contains("auto_unmount"));
  }

  private static boolean deadOrZombie(long pid) {
    try {
      String stat =
          java.nio.file.Files.readString(
              Path.of("/proc", String.valueOf(pid), "stat"), StandardCharsets.ISO_8859_1);
      // pid (comm) STATE ...: comm may hold spaces and parentheses, the state follows the last ')'.
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return true; // gone
    }
  }

  /** argv of a process, from /proc (ProcessHandle.Info often has no arguments). */
  private static List<String> cmdline(ProcessHandle h) {
    try {
      String raw =
          java.nio.file.Files.readString(
              Path.of("/proc", String.valueOf(h.pid()), "cmdline"), StandardCharsets.ISO_8859_1);
      return raw.isEmpty() ? List.of() : List.of(raw.split("\0"));
    } catch (IOException e) {
      return List.of(); // gone
    }
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  int terminate() throws Exception {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("daemon did not stop on SIGTERM:\n" + output);
    }
    eof.await(30, TimeUnit.SECONDS);
    return process.exitValue();
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    FuseMount.unmount(mnt, true, Duration.ofSeconds(5));
  }
}
