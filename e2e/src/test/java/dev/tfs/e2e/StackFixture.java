package dev.tfs.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tfs.tools.stack.ConnectRest;
import dev.tfs.tools.stack.Layout;
import dev.tfs.tools.stack.LocalStack;
import dev.tfs.tools.stack.StackOptions;
import dev.tfs.tools.stack.StackState;
import dev.tfs.tools.verify.TreeVerifier;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One local stack for a test class: a real broker and Connect worker as processes, the packaged
 * plugins through plugin.path, tfs-capture mounted — started through the same {@link LocalStack}
 * that {@code ./tfs up} uses, on free ports and a temporary home.
 */
final class StackFixture implements AutoCloseable {
  static final String CAPTURE = "capture";
  static final String BROKER = "kafka";
  static final String CONNECT = "connect";

  final LocalStack stack;
  final StackState state;
  final Layout layout;
  private final PrintStream log;
  private Thread cleanup;

  private StackFixture(LocalStack stack, StackState state, Layout layout, PrintStream log) {
    this.stack = stack;
    this.state = state;
    this.layout = layout;
    this.log = log;
  }

  static StackFixture start(
      Path home, LocalStack.Ship ship, int mirrors, String volume, List<String> captureArgs)
      throws IOException {
    int[] ports = freePorts(3);
    Layout layout = new Layout(home);
    LocalStack.Settings settings =
        new LocalStack.Settings(
            StackOptions.repo(),
            layout,
            ports[0],
            ports[1],
            ports[2],
            mirrors,
            ship,
            volume,
            4,
            captureArgs);
    Files.createDirectories(home);
    PrintStream log =
        new PrintStream(
            Files.newOutputStream(home.resolve("fixture.log")), true, StandardCharsets.UTF_8);
    LocalStack stack = new LocalStack(settings, log);
    // Whatever happens to the test JVM, leave no broker, worker or mount behind.
    Thread cleanup = new Thread(() -> LocalStack.down(layout, log));
    Runtime.getRuntime().addShutdownHook(cleanup);
    StackState state = stack.up();
    StackFixture f = new StackFixture(stack, state, layout, log);
    f.cleanup = cleanup;
    return f;
  }

  Path mount() {
    return layout.mount();
  }

  Path store() {
    return layout.store();
  }

  Path mirror(int i) {
    return layout.mirror(i);
  }

  ConnectRest rest() {
    return stack.rest();
  }

  /** The newest seq tfs-capture has journaled. */
  long newestSeq() {
    return ((Number) stack.captureMetrics().get("NextSeq")).longValue() - 1;
  }

  /** The sink config of mirror {@code template} with a new name and root (a further mirror). */
  Map<String, String> mirrorConfig(String name, Path root) throws IOException {
    JsonNode cfg = rest().get("connectors/mirror-a/config").body();
    Map<String, String> out = new LinkedHashMap<>();
    cfg.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    out.put("name", name);
    out.put("tfs.mirror.root", root.toString());
    return out;
  }

  /** Waits until every listed mirror equals {@code source} (G4), failing fast on a failed task. */
  void awaitIdentical(Path source, Duration timeout, Path... mirrors) {
    List<String> last = new ArrayList<>();
    await(
        "mirrors " + List.of(mirrors) + " to equal " + source,
        timeout,
        () -> {
          failOnFailedTasks();
          last.clear();
          boolean all = true;
          for (Path m : mirrors) {
            if (!Files.isDirectory(m)) {
              all = false; // the sink creates its root when its task starts
              last.add(m + ": not created yet");
              continue;
            }
            TreeVerifier.Result r = verify(source, m);
            if (!r.identical()) {
              all = false;
              last.add(m + ": " + r.differenceCount() + " differences, e.g. " + r.differences());
            }
          }
          return all;
        },
        last);
  }

  static TreeVerifier.Result verify(Path source, Path mirror) {
    try {
      return new TreeVerifier(TreeVerifier.Options.all(), 5).run(source, mirror);
    } catch (IOException e) {
      throw new AssertionError("cannot compare " + source + " and " + mirror + ": " + e, e);
    }
  }

  /** Throws when a connector task has FAILED, with its trace: no point waiting further. */
  void failOnFailedTasks() {
    try {
      JsonNode list = rest().get("connectors?expand=status").body();
      if (list == null) {
        return;
      }
      list.fields()
          .forEachRemaining(
              e -> {
                for (JsonNode t : e.getValue().path("status").path("tasks")) {
                  if ("FAILED".equals(t.path("state").asText())) {
                    throw new AssertionError(
                        "connector " + e.getKey() + " task FAILED: " + t.path("trace").asText());
                  }
                }
              });
    } catch (IOException e) {
      // the worker may be restarting; the wait goes on
    }
  }

  /** Polls {@code condition} until true or fails after {@code timeout} with {@code detail}. */
  static void await(String what, Duration timeout, BooleanSupplier condition, List<String> detail) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after "
                + timeout.toSeconds()
                + " s waiting for "
                + what
                + (detail == null || detail.isEmpty() ? "" : ": " + detail));
      }
      pause(200);
    }
  }

  /** A poll interval between checks of a condition (never a wait for an outcome). */
  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  static int[] freePorts(int n) throws IOException {
    int[] out = new int[n];
    List<ServerSocket> open = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0);
        open.add(s);
        out[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : open) {
        s.close();
      }
    }
    return out;
  }

  /** Runs a command, failing with its output when it exits non-zero. */
  static String run(Path dir, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      if (rc != 0) {
        throw new AssertionError(String.join(" ", cmd) + " exited " + rc + ":\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError("cannot run " + String.join(" ", cmd) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  @Override
  public void close() {
    stack.down();
    if (cleanup != null) {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    }
    log.close();
    if (dev.tfs.tools.stack.Prerequisites.isFuseMount(mount())) {
      // JUnit would delete the temporary home through a live mount: refuse loudly instead.
      throw new AssertionError("tfs down left " + mount() + " mounted");
    }
  }
}
