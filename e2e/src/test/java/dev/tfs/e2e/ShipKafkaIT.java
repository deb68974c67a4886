package dev.tfs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tfs.tools.stack.ConnectRest;
import dev.tfs.tools.stack.LocalStack;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline with tfs-capture's built-in shipper: a real workload through the mount, two
 * mirrors, a mirror stopped and resumed, a mirror added later, a replay into a fresh root through
 * the REST offsets API, a point-in-time replay, a capture killed with SIGKILL and a broker outage.
 * The tests share one stack and run in order; each leaves the mirrors converged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShipKafkaIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONVERGE = Duration.ofMinutes(4);

  @TempDir static Path tmp;
  private static StackFixture stack;

  @BeforeAll
  static void start() throws IOException {
    stack = StackFixture.start(tmp.resolve("home"), LocalStack.Ship.KAFKA, 2, "e2e", List.of());
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
  void aRealWorkloadReachesBothMirrors() throws IOException {
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
        tmp, "bash", script.toString(), stack.mount().toString(), tarball.toString(), "200");
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
    // The mount shows exactly the store.
    assertThat(StackFixture.verify(stack.store(), stack.mount()).differences()).isEmpty();
  }

  @Test
  @Order(2)
  void aStoppedMirrorCatchesUpWhenResumed() throws IOException {
    ConnectRest rest = stack.rest();
    assertThat(rest.put("connectors/mirror-b/stop", null).status()).isEqualTo(204);
    StackFixture.await(
        "mirror-b to stop",
        Duration.ofSeconds(60),
        () -> state("mirror-b").equals("STOPPED"),
        null);
    Path dir = Files.createDirectories(stack.mount().resolve("while-stopped"));
    for (int i = 0; i < 100; i++) {
      Files.writeString(dir.resolve("f" + i), "written while mirror-b was stopped " + i);
    }
    Files.move(stack.mount().resolve("hard-1"), dir.resolve("moved-hard-link"));
    stack.awaitIdentical(stack.store(), CONVERGE, stack.mirror(0));
    assertThat(StackFixture.verify(stack.store(), stack.mirror(1)).identical())
        .as("mirror-b must not change while stopped")
        .isFalse();

    assertThat(rest.put("connectors/mirror-b/resume", null).status()).isEqualTo(202);
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
  }

  @Test
  @Order(3)
  void aMirrorAddedLaterReplaysFromTheStart() throws IOException {
    Path root = tmp.resolve("home/mirror-late");
    stack.rest().upsert("mirror-late", stack.mirrorConfig("mirror-late", root));
    stack.awaitIdentical(stack.store(), CONVERGE, root);
  }

  @Test
  @Order(4)
  void offsetsResetThroughRestRebuildAFreshRoot() throws IOException {
    ConnectRest rest = stack.rest();
    assertThat(rest.put("connectors/mirror-late/stop", null).status()).isEqualTo(204);
    StackFixture.await(
        "mirror-late to stop",
        Duration.ofSeconds(60),
        () -> state("mirror-late").equals("STOPPED"),
        null);
    ConnectRest.Answer reset = rest.delete("connectors/mirror-late/offsets");
    assertThat(reset.status()).as(String.valueOf(reset.body())).isEqualTo(200);
    Path fresh = tmp.resolve("home/mirror-rebuilt");
    Map<String, String> cfg = stack.mirrorConfig("mirror-late", fresh);
    rest.upsert("mirror-late", cfg);
    assertThat(rest.put("connectors/mirror-late/resume", null).status()).isEqualTo(202);
    stack.awaitIdentical(stack.store(), CONVERGE, fresh);
    assertThat(rest.delete("connectors/mirror-late").status()).isEqualTo(204);
  }

  @Test
  @Order(5)
  void pointInTimeReplayEqualsACopyTakenAtThatSeq() throws IOException {
    // Quiet: no writes in flight, so the newest seq is exactly the store as copied.
    long seq = stack.newestSeq();
    Path copy = tmp.resolve("copy-at-seq");
    StackFixture.run(tmp, "cp", "-a", "--preserve=all", stack.store().toString(), copy.toString());
    assertThat(stack.newestSeq()).isEqualTo(seq);

    // History moves on after the copy.
    Files.writeString(stack.mount().resolve("after-the-copy.txt"), "later");
    Files.move(stack.mount().resolve("storm/c"), stack.mount().resolve("storm/renamed-later"));
    Files.delete(stack.mount().resolve("big.bin"));
    StackFixture.await(
        "the capture to journal the later ops",
        Duration.ofSeconds(30),
        () -> stack.newestSeq() > seq,
        null);

    Path root = tmp.resolve("home/mirror-pit");
    Map<String, String> cfg = stack.mirrorConfig("mirror-pit", root);
    cfg.put("tfs.replay.until.seq", Long.toString(seq));
    stack.rest().upsert("mirror-pit", cfg);
    stack.awaitIdentical(copy, CONVERGE, root);
    assertThat(StackFixture.verify(stack.store(), root).identical()).isFalse();
    assertThat(stack.rest().delete("connectors/mirror-pit").status()).isEqualTo(204);
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
  }

  @Test
  @Order(6)
  void aCaptureKilledWithSigkillLosesNothingAcknowledged() throws Exception {
    Path dir = Files.createDirectories(stack.mount().resolve("killed"));
    List<Integer> acknowledged = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<Throwable> writer =
        CompletableFuture.supplyAsync(
            () -> {
              for (int i = 0; !stop.get(); i++) {
                try {
                  Files.writeString(dir.resolve("f" + i), "acknowledged " + i);
                  acknowledged.add(i);
                } catch (IOException e) {
                  return e; // the mount went away under the writer
                }
              }
              return null;
            });
    StackFixture.await(
        "the writer to get going", Duration.ofSeconds(60), () -> acknowledged.size() >= 200, null);
    stack.stack.stopComponent(StackFixture.CAPTURE, true);
    Throwable ended = writer.get();
    stop.set(true);
    assertThat(ended).as("the writer must fail once the daemon is gone").isNotNull();
    List<Integer> acked = List.copyOf(acknowledged);

    stack.stack.startComponent(StackFixture.CAPTURE);
    for (int i : acked) {
      assertThat(Files.readString(stack.store().resolve("killed/f" + i)))
          .isEqualTo("acknowledged " + i);
    }
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
    for (int i : acked) {
      assertThat(Files.readString(stack.mirror(0).resolve("killed/f" + i), StandardCharsets.UTF_8))
          .isEqualTo("acknowledged " + i);
    }
  }

  @Test
  @Order(7)
  void writesGoOnWhileTheBrokerIsDownAndMirrorsConvergeAfter() throws Exception {
    stack.stack.stopComponent(StackFixture.BROKER, false);
    Path dir = Files.createDirectories(stack.mount().resolve("outage"));
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    int n = 0;
    long slowest = 0;
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      Files.writeString(dir.resolve("f" + n), "written during the outage " + n);
      slowest = Math.max(slowest, System.nanoTime() - t0);
      n++;
    }
    assertThat(n).as("writes during a 30 s outage").isGreaterThan(100);
    assertThat(Duration.ofNanos(slowest))
        .as("no write waits on the network")
        .isLessThan(Duration.ofSeconds(5));
    Object unshipped = stack.stack.captureMetrics().get("UnshippedOps");
    assertThat(((Number) unshipped).longValue()).isPositive();

    stack.stack.startComponent(StackFixture.BROKER);
    stack.awaitIdentical(stack.store(), CONVERGE, mirrors());
  }

  private static String state(String connector) {
    try {
      ObjectNode s = (ObjectNode) stack.rest().status(connector);
      return s == null ? "MISSING" : s.path("connector").path("state").asText();
    } catch (IOException e) {
      return "UNREACHABLE";
    }
  }
}
