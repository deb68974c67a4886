package dev.tfs.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfs.journal.JournalWriter;
import dev.tfs.op.Volumes;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.connect.util.clusters.EmbeddedKafkaCluster;
import org.apache.kafka.test.TestUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Connect worker killed with SIGKILL in the middle of shipping a journal that keeps growing, and
 * a new worker taking over: with exactly-once source support every seq is in the topic exactly once
 * for {@code read_committed} readers. The workers are real {@code ConnectDistributed} processes (an
 * in-JVM worker cannot be killed mid-transaction) loading the packaged plugin through {@code
 * plugin.path}; the broker is an in-JVM KRaft cluster.
 *
 * <p>{@code -Dtfs.it.control=true} also runs the same scenario without exactly-once support and
 * expects duplicates: the check that the exactly-once test can fail at all.
 */
class ExactlyOnceKillIT {
  static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";
  static final long TIMEOUT_MS = 120_000;
  static final int P = 4;
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir static Path tmp;
  static EmbeddedKafkaCluster kafka;

  @BeforeAll
  static void startBroker() {
    Properties broker = new Properties();
    broker.put("auto.create.topics.enable", "false");
    broker.put("transaction.state.log.replication.factor", "1");
    broker.put("transaction.state.log.min.isr", "1");
    broker.put("offsets.topic.replication.factor", "1");
    broker.put("group.initial.rebalance.delay.ms", "0");
    // How often the coordinator aborts transactions past their timeout (a killed worker's).
    broker.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");
    kafka = new EmbeddedKafkaCluster(1, broker);
    kafka.start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.stop();
    }
  }

  /** A {@code ConnectDistributed} worker in its own JVM. */
  static final class Worker implements AutoCloseable {
    final String name;
    final Process process;
    final Path log;
    final String url;

    private Worker(String name, Process process, Path log, String url) {
      this.name = name;
      this.process = process;
      this.log = log;
      this.url = url;
    }

    static Worker start(String name, String group, boolean exactlyOnce) throws Exception {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Properties w = new Properties();
      w.put("bootstrap.servers", kafka.bootstrapServers());
      w.put("group.id", group);
      w.put("config.storage.topic", group + "-configs");
      w.put("offset.storage.topic", group + "-offsets");
      w.put("status.storage.topic", group + "-status");
      w.put("config.storage.replication.factor", "1");
      w.put("offset.storage.replication.factor", "1");
      w.put("offset.storage.partitions", "3");
      w.put("status.storage.replication.factor", "1");
      w.put("status.storage.partitions", "1");
      w.put("key.converter", BYTES);
      w.put("value.converter", BYTES);
      w.put("plugin.path", System.getProperty("tfs.plugin.path"));
      w.put("plugin.discovery", "service_load");
      w.put("listeners", "http://127.0.0.1:" + port);
      w.put("rest.advertised.host.name", "127.0.0.1");
      w.put("exactly.once.source.support", exactlyOnce ? "enabled" : "disabled");
      // Without exactly-once support offsets are flushed rarely: a kill loses the last minute.
      w.put("offset.flush.interval.ms", "60000");
      // A dead worker's tasks are reassigned as soon as its session expires.
      w.put("scheduled.rebalance.max.delay.ms", "0");
      w.put("session.timeout.ms", "6000");
      // A joining worker waits this long for a dead member before the group moves on.
      w.put("rebalance.timeout.ms", "8000");
      w.put("heartbeat.interval.ms", "1000");
      Path props = tmp.resolve(name + ".properties");
      try (var out = Files.newBufferedWriter(props)) {
        w.store(out, "tfs ExactlyOnceKillIT worker " + name);
      }
      Path log = Path.of("target", "it-workers", name + ".log").toAbsolutePath();
      Files.createDirectories(log.getParent());
      ProcessBuilder pb =
          new ProcessBuilder(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx384m",
              "-cp",
              System.getProperty("java.class.path"),
              "org.apache.kafka.connect.cli.ConnectDistributed",
              props.toString());
      pb.redirectErrorStream(true);
      pb.redirectOutput(log.toFile());
      Worker worker = new Worker(name, pb.start(), log, "http://127.0.0.1:" + port);
      TestUtils.waitForCondition(
          () -> {
            if (!worker.process.isAlive()) {
              throw new AssertionError("worker " + name + " exited; see " + log);
            }
            return worker.status("connectors") == 200;
          },
          TIMEOUT_MS,
          "worker " + name + " REST API up");
      return worker;
    }

    HttpResponse<String> request(String method, String path, String body) {
      try {
        HttpRequest.Builder b =
            HttpRequest.newBuilder(URI.create(url + "/" + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json");
        b.method(
            method,
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    int status(String path) {
      HttpResponse<String> r = request("GET", path, null);
      return r == null ? -1 : r.statusCode();
    }

    /** Connector and task states, e.g. {@code RUNNING/RUNNING}; empty when unknown. */
    String states(String connector) {
      HttpResponse<String> r = request("GET", "connectors/" + connector + "/status", null);
      if (r == null || r.statusCode() != 200) {
        return "";
      }
      try {
        JsonNode n = JSON.readTree(r.body());
        StringBuilder sb = new StringBuilder(n.path("connector").path("state").asText());
        for (JsonNode t : n.path("tasks")) {
          sb.append('/').append(t.path("state").asText());
          if (t.has("trace")) {
            sb.append(" ").append(t.path("trace").asText());
          }
        }
        return sb.toString();
      } catch (IOException e) {
        return "";
      }
    }

    /** SIGKILL: no shutdown hook, no final commit, no transaction abort. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Override
    public void close() throws InterruptedException {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  static String connectorConfig(Path dir, String volume, String topic, boolean exactlyOnce)
      throws IOException {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("connector.class", "dev.tfs.source.TreeSourceConnector");
    c.put("tasks.max", "1");
    c.put(TreeSourceConfig.JOURNAL_DIR_CONFIG, dir.toString());
    c.put(TreeSourceConfig.VOLUME_CONFIG, volume);
    c.put(TreeSourceConfig.TOPIC_CONFIG, topic);
    c.put("key.converter", BYTES);
    c.put("value.converter", BYTES);
    c.put(TreeSourceConfig.POLL_INTERVAL_CONFIG, "10");
    c.put(TreeSourceConfig.ACK_INTERVAL_CONFIG, "100");
    c.put(TreeSourceConfig.BATCH_MAX_RECORDS_CONFIG, "200");
    if (exactlyOnce) {
      c.put("exactly.once.support", "required");
      // Transactions of 3 s, so the kill lands inside one that already has records in the log.
      c.put("transaction.boundary", "interval");
      c.put("transaction.boundary.interval.ms", "3000");
      // The killed worker's open transaction holds read_committed readers (the new worker's
      // offset reads too) until it times out: 60 s by default.
      c.put("producer.override.transaction.timeout.ms", "10000");
    }
    return JSON.writeValueAsString(c);
  }

  /** Appends ops at a bounded rate (under 1000 ops/s) until stopped; returns the last seq. */
  static Thread appender(JournalWriter w, AtomicBoolean running, AtomicLong last) {
    Thread t =
        new Thread(
            () -> {
              long seed = 1000;
              while (running.get()) {
                last.set(Journals.append(w, 10, seed++, 500));
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing, not a wait
              }
            },
            "journal-appender");
    t.start();
    return t;
  }

  /**
   * Ships a growing journal, kills the worker once {@code killAt} records are committed, starts
   * another, and returns the topic as read_committed consumers see it once every op is there.
   */
  static TopicContents killMidStream(String volume, boolean exactlyOnce) throws Exception {
    String topic = Volumes.defaultTopic(volume);
    kafka.createTopic(topic, P);
    Path dir = tmp.resolve(volume);
    String group = "connect-" + volume;
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong last = new AtomicLong();
    try (JournalWriter w = JournalWriter.open(dir, Journals.options(volume, P).build())) {
      last.set(Journals.append(w, 500, 1, 500));
      Thread appender = null;
      try (Worker w1 = Worker.start(volume + "-w1", group, exactlyOnce)) {
        HttpResponse<String> r =
            w1.request(
                "PUT",
                "connectors/" + volume + "/config",
                connectorConfig(dir, volume, topic, exactlyOnce));
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        appender = appender(w, running, last);
        // Kill once 1000 records are committed and more sit in an open transaction.
        TestUtils.waitForCondition(
            () -> {
              int committed = TopicContents.read(kafka.bootstrapServers(), topic, true).count();
              int written = TopicContents.read(kafka.bootstrapServers(), topic, false).count();
              return committed >= 1000 && (!exactlyOnce || written > committed);
            },
            TIMEOUT_MS,
            () -> "1000 records before the kill; status " + w1.states(volume) + "; see " + w1.log);
        w1.kill();
      }
      long atKill = last.get();
      System.out.printf("%s: worker killed at journal seq %d%n", volume, atKill);
      try (Worker w2 = Worker.start(volume + "-w2", group, exactlyOnce)) {
        TestUtils.waitForCondition(
            () -> w2.states(volume).equals("RUNNING/RUNNING"),
            TIMEOUT_MS,
            () -> "the new worker runs the task; status " + w2.states(volume) + "; see " + w2.log);
        running.set(false);
        appender.join();
        long total = last.get();
        TestUtils.waitForCondition(
            () -> {
              Map<Long, Integer> counts =
                  TopicContents.read(kafka.bootstrapServers(), topic, true).seqCounts();
              return counts.size() == total;
            },
            TIMEOUT_MS,
            () -> "all " + total + " seqs in the topic; status " + w2.states(volume));
        assertThat(w2.states(volume)).isEqualTo("RUNNING/RUNNING");
        TopicContents committed = TopicContents.read(kafka.bootstrapServers(), topic, true);
        TopicContents all = TopicContents.read(kafka.bootstrapServers(), topic, false);
        System.out.printf(
            "%s: %d ops; read_committed sees %d records, read_uncommitted %d (aborted or"
                + " duplicated: %d)%n",
            volume, total, committed.count(), all.count(), all.count() - committed.count());
        w2.request("DELETE", "connectors/" + volume, null);
        return committed;
      } finally {
        running.set(false);
        if (appender != null) {
          appender.join();
        }
      }
    }
  }

  @Test
  void aWorkerKilledMidStreamLeavesEverySeqExactlyOnceWithExactlyOnceSupport() throws Exception {
    TopicContents c = killMidStream("eos", true);
    c.assertEverySeqExactlyOnce(c.seqCounts().size());
  }

  @Test
  @EnabledIfSystemProperty(named = "tfs.it.control", matches = "true")
  void withoutExactlyOnceSupportTheSameKillDuplicatesOps() throws Exception {
    TopicContents c = killMidStream("atleastonce", false);
    List<Long> twice = new ArrayList<>();
    Map<Long, Integer> counts = new HashMap<>(c.seqCounts());
    counts.forEach(
        (seq, n) -> {
          if (n > 1) {
            twice.add(seq);
          }
        });
    assertThat(twice).as("seqs written more than once").isNotEmpty();
    assertThat(c.count()).isGreaterThan(counts.size());
  }
}
