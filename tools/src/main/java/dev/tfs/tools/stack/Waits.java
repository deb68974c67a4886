package dev.tfs.tools.stack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/** How the stack's components wait for readiness, and how a failed start is explained. */
public final class Waits {
  private Waits() {}

  /** Polls {@code ready} until true, or fails after {@code timeout} naming the log to read. */
  public static void waitFor(String what, Duration timeout, BooleanSupplier ready, Path log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 50;
    while (!ready.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new StackException(
            StackException.STARTUP,
            "timed out after " + timeout.toSeconds() + " s waiting for " + what + ": see " + log);
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StackException(StackException.STARTUP, "interrupted waiting for " + what);
      }
      pause = Math.min(pause * 2, 500);
    }
  }

  /** Fails with the last lines of the component's log when it exited during startup. */
  public static void requireAlive(ChildProcess p, Layout l) {
    if (!p.alive()) {
      throw new StackException(
          StackException.STARTUP,
          p.name()
              + " exited during startup: see "
              + l.log(p.name())
              + " (last lines: "
              + tail(l.log(p.name()), 5)
              + ")");
    }
  }

  /** The last {@code lines} lines of a log, joined with " | ". */
  public static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join(" | ", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "unreadable";
    }
  }

  /** True when something accepts connections on 127.0.0.1:{@code port}. */
  public static boolean portOpen(int port) {
    try (Socket sock = new Socket()) {
      // The stack binds 127.0.0.1 alone (never a wildcard), so this is the one address to try.
      sock.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The log4j2 configuration the stack's JVMs share ({@code <home>/config/log4j2.properties}). */
  public static Path writeLog4j(Layout l) throws IOException {
    Path f = l.config().resolve("log4j2.properties");
    Files.createDirectories(l.config());
    Files.writeString(
        f,
        """
        status = warn
        appender.out.type = Console
        appender.out.name = OUT
        appender.out.layout.type = PatternLayout
        appender.out.layout.pattern = [%d] %p %m (%c)%n
        rootLogger.level = INFO
        rootLogger.appenderRef.out.ref = OUT
        logger.clients.name = org.apache.kafka.clients
        logger.clients.level = WARN
        logger.reflections.name = org.reflections
        logger.reflections.level = ERROR
        """);
    return f;
  }
}
