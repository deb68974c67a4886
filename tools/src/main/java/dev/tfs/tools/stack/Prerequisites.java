package dev.tfs.tools.stack;

import dev.tfs.posix.Posix;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks the machine before anything starts, so the user gets one clear sentence instead of a stack
 * trace from deep inside a broker or a FUSE library.
 */
public final class Prerequisites {
  private Prerequisites() {}

  /** Root, /dev/fuse and libfuse2: what a FUSE capture mount needs. */
  public static void checkFuse() {
    if (Posix.geteuid() != 0) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "the local stack mounts a FUSE file system and sets owners on mirrors: run it as root"
              + " (sudo ./tfs ...)");
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "/dev/fuse is missing: load the fuse module (modprobe fuse) or give the container the"
              + " device (--device /dev/fuse --cap-add SYS_ADMIN)");
    }
    if (!libfuse2Present()) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "libfuse2 is not installed (tfs-capture loads libfuse.so.2): apt-get install libfuse2"
              + " fuse3");
    }
  }

  static boolean libfuse2Present() {
    for (String dir :
        List.of(
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib/x86_64-linux-gnu",
            "/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/lib")) {
      if (Files.exists(Path.of(dir, "libfuse.so.2"))) {
        return true;
      }
    }
    return false;
  }

  /** Fails when something already listens on 127.0.0.1:port, naming the flag that moves it. */
  public static void checkPortFree(int port, String what, String flag) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "port "
              + port
              + " (for the "
              + what
              + ") is in use on 127.0.0.1: stop what uses it (ss -ltnp | grep :"
              + port
              + ") or choose another port with "
              + flag);
    }
  }

  /** True when {@code dir} is a mount point of a FUSE file system (per /proc/self/mounts). */
  public static boolean isFuseMount(Path dir) {
    String target = dir.toAbsolutePath().normalize().toString();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ", -1);
        if (f.length > 2 && unescape(f[1]).equals(target) && f[2].startsWith("fuse")) {
          return true;
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** /proc/mounts escapes space, tab, newline and backslash as octal. */
  static String unescape(String s) {
    return s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }

  /**
   * Unmounts a FUSE mount left behind by a crash (its daemon is gone: "Transport endpoint is not
   * connected"). Returns true when there was one.
   */
  public static boolean clearStaleMount(Path dir) {
    if (!isFuseMount(dir)) {
      return false;
    }
    for (List<String> cmd :
        List.of(
            List.of("fusermount", "-u", "-z", dir.toString()),
            List.of("fusermount3", "-u", "-z", dir.toString()),
            List.of("umount", "-l", dir.toString()))) {
      try {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() == 0 && !isFuseMount(dir)) {
          return true;
        }
      } catch (IOException e) {
        // try the next tool
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (isFuseMount(dir)) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "a stale FUSE mount from a crash is left at "
              + dir
              + " and could not be unmounted: run 'fusermount -u -z "
              + dir
              + "' (or 'umount -l "
              + dir
              + "') and try again");
    }
    return true;
  }
}
