package dev.tfs.e2e;

import dev.tfs.tools.stack.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline with the journal shipped by TreeSourceConnector (tfs-capture --ship=none) on the
 * same Connect worker as the mirrors, starting from a store that already holds files (bootstrap).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShipConnectIT {
  private static final Duration CONVERGE = Duration.ofMinutes(4);

  @TempDir static Path tmp;
  private static StackFixture stack;

  @BeforeAll
  static void start() throws IOException {
    Path home = tmp.resolve("home");
    fillStore(Files.createDirectories(home.resolve("store")));
    stack = StackFixture.start(home, LocalStack.Ship.CONNECT, 2, "e2e-connect", List.of());
  }

  /** A store that already holds files before tfs-capture first starts. */
  private static void fillStore(Path store) throws IOException {
    Path d = Files.createDirectories(store.resolve("existing/deep/er"));
    for (int i = 0; i < 50; i++) {
      Files.writeString(d.resolve("f" + i), "existing " + i);
    }
    Files.createLink(store.resolve("existing/hard"), d.resolve("f1"));
    Files.createSymbolicLink(store.resolve("existing/sym"), Path.of("deep/er/f2"));
    Files.setPosixFilePermissions(d.resolve("f3"), PosixFilePermissions.fromString("rwx------"));
    StackFixture.run(store, "setfattr", "-n", "user.pre", "-v", "existing", "existing/deep");
    StackFixture.run(store, "mkfifo", "existing/fifo");
    StackFixture.run(
        store,
        "dd",
        "if=/dev/urandom",
        "of=existing/sparse",
        "bs=4096",
        "count=2",
        "seek=5000",
        "status=none");
    StackFixture.run(store, "touch", "-d", "2021-06-01 12:00:00", "existing/deep/er/f4");
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  private static Path[] mirrors() {
    return new Path[] {stack.mirror(0), stack.mirror(1)};
  }

  @Test
  @Order(1)
  void theExistingTreeAndAWorkloadReachBothMirrors() throws IOException {
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
    Path tarball = tmp.resolve("source.tar.gz");
    StackFixture.run(
        Path.of(System.getProperty("tfs.repo")),
        "git",
        "archive",
        "--format=tar.gz",
        "-o",
        tarball.toString(),
        "HEAD");
    Path script = Path.of(System.getProperty("tfs.repo"), "e2e/src/test/resources/workload.sh");
    StackFixture.run(
        tmp, "bash", script.toString(), stack.mount().toString(), tarball.toString(), "20");
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
  }

  @Test
  @Order(2)
  void aCaptureKilledWithSigkillAndRestartedLosesNothing() throws IOException {
    Path dir = Files.createDirectories(stack.mount().resolve("before-kill"));
    for (int i = 0; i < 200; i++) {
      Files.writeString(dir.resolve("f" + i), "before the kill " + i);
    }
    stack.stack.stopComponent(StackFixture.CAPTURE, true);
    stack.stack.startComponent(StackFixture.CAPTURE);
    Files.writeString(stack.mount().resolve("after-restart.txt"), "after");
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
  }

  @Test
  @Order(3)
  void theConnectWorkerKilledMidStreamResumesExactlyOnce() throws Exception {
    Path dir = Files.createDirectories(stack.mount().resolve("worker-kill"));
    for (int i = 0; i < 300; i++) {
      Files.writeString(dir.resolve("f" + i), "x".repeat(1000) + i);
    }
    stack.stack.stopComponent(StackFixture.CONNECT, true);
    for (int i = 300; i < 400; i++) {
      Files.writeString(dir.resolve("f" + i), "while the worker is down " + i);
    }
    stack.stack.startComponent(StackFixture.CONNECT);
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
    // The source connector's acknowledgements reach the journal, which frees shipped segments.
    StackFixture.await(
        "the journal to see every op acknowledged",
        Duration.ofSeconds(60),
        () -> ((Number) stack.stack.captureMetrics().get("UnshippedOps")).longValue() == 0,
        null);
  }
}
