package dev.tfs.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.capture.CaptureMetrics;
import dev.tfs.capture.ship.KafkaShipper;
import dev.tfs.journal.JournalWriter;
import dev.tfs.registry.FakeSchemaRegistry;
import jakarta.ws.rs.core.Response;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.apache.kafka.test.TestUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connector in a real Connect worker with a real KRaft broker, loaded from the packaged plugin
 * directory through {@code plugin.path} (failsafe keeps the main classes off this test's class
 * path, so the worker cannot find the connector any other way; the test refers to the plugin's
 * classes only through inlined constants). One cluster for the class, without exactly-once support
 * (that is {@link ExactlyOnceKillIT}); each test has its own journal, topic and connector. Journals
 * are written by the real {@link JournalWriter} in this JVM, live where the test needs it.
 */
class TreeSourceConnectIT {
  static final String CONNECTOR_CLASS = "dev.tfs.source.TreeSourceConnector";
  static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";
  static final long TIMEOUT_MS = 90_000;
  static final int P = 4;

  @TempDir static Path tmp;
  static EmbeddedConnectCluster connect;

  @BeforeAll
  static void startCluster() {
    String pluginPath = System.getProperty("tfs.plugin.path");
    assertThat(pluginPath).as("tfs.plugin.path (set by failsafe)").isNotNull();
    assertThat(Path.of(pluginPath, "tfs-source-connector", "lib")).isDirectory();
    Map<String, String> worker = new HashMap<>();
    worker.put("plugin.path", pluginPath);
    worker.put("plugin.discovery", "service_load");
    worker.put("offset.flush.interval.ms", "500");
    Properties broker = new Properties();
    // A record for a missing topic must not create it with the wrong partition count.
    broker.put("auto.create.topics.enable", "false");
    connect =
        new EmbeddedConnectCluster.Builder()
            .name("tfs-source-it")
            .numWorkers(1)
            .numBrokers(1)
            .workerProps(worker)
            .brokerProps(broker)
            .build();
    connect.start();
  }

  @AfterAll
  static void stopCluster() {
    if (connect != null) {
      connect.stop();
    }
  }

  // ------------------------------------------------------------------ helpers

  static Map<String, String> source(Path dir, String volume, String... extra) {
    Map<String, String> c = new HashMap<>();
    c.put("connector.class", CONNECTOR_CLASS);
    c.put("tasks.max", "2"); // collapsed to one task
    c.put(TreeSourceConfig.JOURNAL_DIR_CONFIG, dir.toString());
    c.put(TreeSourceConfig.VOLUME_CONFIG, volume);
    c.put("key.converter", BYTES);
    c.put("value.converter", BYTES);
    c.put(TreeSourceConfig.POLL_INTERVAL_CONFIG, "10");
    c.put(TreeSourceConfig.ACK_INTERVAL_CONFIG, "50");
    for (int i = 0; i < extra.length; i += 2) {
      c.put(extra[i], extra[i + 1]);
    }
    return c;
  }

  static String bootstrap() {
    return connect.kafka().bootstrapServers();
  }

  static TopicContents read(String topic) {
    return TopicContents.read(bootstrap(), topic, true);
  }

  static void awaitCount(String topic, long n) throws InterruptedException {
    TestUtils.waitForCondition(
        () -> read(topic).count() >= n,
        TIMEOUT_MS,
        () -> topic + " did not reach " + n + " records; it has " + read(topic).count());
  }

  static Object jmx(String connector, String attribute) {
    try {
      return ManagementFactory.getPlatformMBeanServer()
          .getAttribute(
              new ObjectName("dev.tfs:type=source,connector=" + ObjectName.quote(connector)),
              attribute);
    } catch (Exception e) {
      return null;
    }
  }

  static long jmxLong(String connector, String attribute) {
    Object v = jmx(connector, attribute);
    return v == null ? -1 : (Long) v;
  }

  static Set<Long> segmentFirstSeqs(Path dir) {
    return Journals.segments(dir).stream().map(Journals::firstSeq).collect(Collectors.toSet());
  }

  // ------------------------------------------------------------------ tests

  @Test
  void theConnectorComesFromThePluginDirectoryNotTheClassPath() throws Exception {
    assertThatThrownBy(() -> Class.forName(CONNECTOR_CLASS))
        .isInstanceOf(ClassNotFoundException.class);
    String plugins =
        connect.requestGet(connect.endpointForResource("connector-plugins")).getEntity().toString();
    assertThat(plugins).contains(CONNECTOR_CLASS).contains(System.getProperty("tfs.version"));
    var infos =
        connect.validateConnectorConfig(
            "TreeSourceConnector",
            Map.of(
                "connector.class",
                CONNECTOR_CLASS,
                "name",
                "validate",
                TreeSourceConfig.JOURNAL_DIR_CONFIG,
                "relative",
                TreeSourceConfig.VOLUME_CONFIG,
                "v",
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter"));
    assertThat(infos.errorCount()).isGreaterThanOrEqualTo(1);
    assertThat(infos.toString()).contains("absolute path");
  }

  /**
   * Runs tfs-capture's own shipper over a journal (it opens the writer itself, as capture does).
   * The topic is created first and waited for: a shipper that creates it itself can produce before
   * the partition leaders are known, and its idempotent producer then stalls on
   * OutOfOrderSequenceException until its delivery timeout (seen with Kafka 4.3.1).
   */
  static void shipWithTheBuiltInShipper(Path dir, String volume, String topic, String registry) {
    connect.kafka().createTopic(topic, P);
    try (JournalWriter w = JournalWriter.open(dir, Journals.options(volume, P).build())) {
      Properties pp = new Properties();
      pp.put("bootstrap.servers", bootstrap());
      KafkaShipper s =
          new KafkaShipper(w, topic, pp, registry, new CaptureMetrics(), Duration.ofSeconds(1));
      s.start();
      try {
        assertThat(s.awaitShipped(Duration.ofSeconds(60))).as("built-in shipper done").isTrue();
      } finally {
        s.close();
      }
    }
  }

  static void assertSameRecords(TopicContents expected, TopicContents actual) {
    assertThat(actual.partitions).isEqualTo(expected.partitions);
    for (int p = 0; p < expected.partitions; p++) {
      List<ConsumerRecord<byte[], byte[]>> e = expected.byPartition.get(p);
      List<ConsumerRecord<byte[], byte[]>> a = actual.byPartition.get(p);
      assertThat(a).as("records in partition %d", p).hasSameSizeAs(e);
      for (int i = 0; i < e.size(); i++) {
        assertThat(a.get(i).key()).as("key %d/%d", p, i).isEqualTo(e.get(i).key());
        assertThat(a.get(i).value()).as("value %d/%d", p, i).isEqualTo(e.get(i).value());
        assertThat(a.get(i).headers().toArray()).isEmpty();
      }
    }
  }

  @Test
  void recordsAreByteIdenticalToWhatTheBuiltInShipperWrites() throws Exception {
    Path a = tmp.resolve("ident-a");
    long last;
    try (JournalWriter w = JournalWriter.open(a, Journals.options("ident", P).build())) {
      last = Journals.append(w, 1500, 101, 20_000);
    }
    Path b = tmp.resolve("ident-b");
    Journals.copy(a, b); // the same journal, twice: each shipper acknowledges its own copy
    shipWithTheBuiltInShipper(a, "ident", "shipper.ident.ops", null);

    connect.configureConnector(
        "ident",
        source(
            b,
            "ident",
            // Connect creates the topic, with the journal's partition count.
            "topic.creation.default.partitions",
            "" + P,
            "topic.creation.default.replication.factor",
            "1"));
    awaitCount("tfs.ident.ops", last);
    TopicContents ours = read("tfs.ident.ops");
    assertSameRecords(read("shipper.ident.ops"), ours);
    ours.assertEverySeqExactlyOnce(last);
    connect.deleteConnector("ident");
  }

  @Test
  void withASchemaRegistryRecordsAreStillByteIdentical() throws Exception {
    try (FakeSchemaRegistry registry = new FakeSchemaRegistry()) {
      Path a = tmp.resolve("reg-a");
      long last;
      try (JournalWriter w = JournalWriter.open(a, Journals.options("reg", P).build())) {
        last = Journals.append(w, 200, 111, 2000);
      }
      Path b = tmp.resolve("reg-b");
      Journals.copy(a, b);
      shipWithTheBuiltInShipper(a, "reg", "shipper.reg.ops", registry.url());
      connect.kafka().createTopic("tfs.reg.ops", P);
      connect.configureConnector(
          "reg", source(b, "reg", TreeSourceConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url()));
      awaitCount("tfs.reg.ops", last);
      TopicContents ours = read("tfs.reg.ops");
      assertSameRecords(read("shipper.reg.ops"), ours);
      assertThat(ours.byPartition.get(0).get(0).value()[0]).as("Confluent magic").isZero();
      assertThat(String.join("\n", registry.requests())).contains("tfs.reg.ops-value");
      connect.deleteConnector("reg");
    }
  }

  @Test
  void aConnectorPausedWhileTheJournalGrowsCatchesUpWhenResumed() throws Exception {
    Path dir = tmp.resolve("pause");
    String topic = "tfs.pause.ops";
    connect.kafka().createTopic(topic, P);
    try (JournalWriter w = JournalWriter.open(dir, Journals.options("pause", P).build())) {
      long first = Journals.append(w, 400, 201, 2000);
      connect.configureConnector("pause", source(dir, "pause"));
      awaitCount(topic, first);
      connect.pauseConnector("pause");
      connect.assertions().assertConnectorAndExactlyNumTasksArePaused("pause", 1, "paused");
      long emitted = jmxLong("pause", "EmittedSeq");
      assertThat(emitted).isEqualTo(first);

      long last = Journals.append(w, 1200, 202, 2000); // the journal grows while paused
      assertThat(jmxLong("pause", "EmittedSeq")).isEqualTo(emitted);

      connect.resumeConnector("pause");
      connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("pause", 1, "resumed");
      awaitCount(topic, last);
      read(topic).assertEverySeqExactlyOnce(last);
      TestUtils.waitForCondition(
          () -> Boolean.TRUE.equals(jmx("pause", "CaughtUp")), TIMEOUT_MS, "caught up");
      assertThat(jmxLong("pause", "EmittedSeq")).isEqualTo(last);
      assertThat(jmxLong("pause", "JournalLagOps")).isZero();
      connect.deleteConnector("pause");
    }
  }

  /**
   * A live writer with small segments; then, for a while, records Kafka does not get although the
   * task emits them (the connector's producer lingers for an hour: the task goes on polling and
   * Connect on committing offsets, with nothing to commit); then records Kafka does get (the
   * override removed: the task restarts and its producer flushes). Meanwhile a watcher checks every
   * few ms that no segment disappears before its ops are acknowledged.
   */
  @Test
  void journalSegmentsAreDeletedOnlyAfterKafkaHasTheirOps() throws Exception {
    Path dir = tmp.resolve("trim");
    String topic = "tfs.trim.ops";
    connect.kafka().createTopic(topic, P);
    List<String> violations = new CopyOnWriteArrayList<>();
    AtomicBoolean watching = new AtomicBoolean(true);
    Thread watcher = null;
    try (JournalWriter w =
        JournalWriter.open(dir, Journals.options("trim", P).segmentBytes(4096).build())) {
      long epoch = w.meta().epoch();
      connect.configureConnector(
          "trim",
          source(
              dir,
              "trim",
              "producer.override.linger.ms",
              "3600000",
              "producer.override.batch.size",
              "262144"));
      connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("trim", 1, "running");
      TestUtils.waitForCondition(
          () -> "running".equals(jmx("trim", "State")), TIMEOUT_MS, "journal opened");
      watcher = new Thread(() -> watch(dir, watching, violations), "segment-watcher");
      watcher.start();

      long last = Journals.append(w, 600, 301, 300);
      List<Long> initial = new ArrayList<>(segmentFirstSeqs(dir));
      assertThat(initial).hasSizeGreaterThan(5);
      // Every op read and handed to Connect; Kafka has none of them.
      TestUtils.waitForCondition(
          () -> jmxLong("trim", "EmittedSeq") == last, TIMEOUT_MS, "all ops emitted");
      long commits = jmxLong("trim", "Commits");
      TestUtils.waitForCondition(
          () -> jmxLong("trim", "Commits") >= commits + 3,
          TIMEOUT_MS,
          "Connect goes on committing offsets (with nothing to commit)");
      assertThat(read(topic).count()).isZero();
      assertThat(jmxLong("trim", "CommittedSeq")).isZero();
      assertThat(Journals.acked(dir)).as("acked while Kafka has nothing").isZero();
      assertThat(segmentFirstSeqs(dir)).containsAll(initial);

      // Kafka gets the records now.
      connect.configureConnector("trim", source(dir, "trim"));
      TestUtils.waitForCondition(
          () -> Journals.acked(dir) == last,
          TIMEOUT_MS,
          () -> "acked " + Journals.acked(dir) + " of " + last);
      TestUtils.waitForCondition(
          () -> Journals.segments(dir).size() == 1,
          TIMEOUT_MS,
          () -> "shipped segments not deleted: " + Journals.segments(dir));
      // Without exactly-once support the restart may have written some records twice.
      read(topic).assertEverySeqAtLeastOnce(last);

      long more = Journals.append(w, 100, 302, 300);
      TestUtils.waitForCondition(
          () -> Journals.acked(dir) == more, TIMEOUT_MS, "later ops acknowledged");
      read(topic).assertEverySeqAtLeastOnce(more);
      assertThat(jmxLong("trim", "AcknowledgedSeq")).isEqualTo(more);
      watching.set(false);
      watcher.join();
      assertThat(violations).isEmpty();

      // Replaying from a seq the journal no longer holds fails loudly, naming what is missing.
      connect.stopConnector("trim");
      connect.assertions().assertConnectorIsStopped("trim", "stopped");
      connect.alterSourceConnectorOffset(
          "trim", Map.of("volume", "trim", "epoch", epoch), Map.of("seq", 5L));
      connect.resumeConnector("trim");
      connect
          .assertions()
          .assertConnectorIsRunningAndTasksHaveFailed("trim", 1, "replay below the journal");
      String trace = connect.connectorStatus("trim").tasks().get(0).trace();
      assertThat(trace).contains("no longer holds seqs 6..").contains("G7");
      connect.deleteConnector("trim");
    } finally {
      watching.set(false);
      if (watcher != null) {
        watcher.join();
      }
    }
  }

  /** Checks, sample after sample, that each vanished segment held only acknowledged ops. */
  static void watch(Path dir, AtomicBoolean watching, List<String> violations) {
    List<Long> before = null;
    while (watching.get()) {
      List<Long> now = new ArrayList<>(segmentFirstSeqs(dir));
      now.sort(null);
      long acked = Journals.acked(dir); // read after listing: at least what the writer saw
      if (before != null) {
        for (int i = 0; i < before.size(); i++) {
          long first = before.get(i);
          if (now.contains(first)) {
            continue;
          }
          if (i == before.size() - 1) {
            violations.add("the newest segment " + first + " was deleted");
          } else if (before.get(i + 1) - 1 > acked) {
            violations.add(
                "segment "
                    + first
                    + " (seqs up to "
                    + (before.get(i + 1) - 1)
                    + ") deleted with acked seq "
                    + acked);
          }
        }
      }
      before = now;
      Thread.onSpinWait();
    }
  }

  @Test
  void replayFromASeqThroughTheRestOffsetsApiEmitsFromThere() throws Exception {
    Path dir = tmp.resolve("replay");
    String topic = "tfs.replay.ops";
    connect.kafka().createTopic(topic, P);
    long last;
    long epoch;
    try (JournalWriter w = JournalWriter.open(dir, Journals.options("replay", P).build())) {
      last = Journals.append(w, 300, 401, 1000);
      epoch = w.meta().epoch();
    }
    connect.configureConnector("replay", source(dir, "replay"));
    awaitCount(topic, last);
    connect.stopConnector("replay");
    connect.assertions().assertConnectorIsStopped("replay", "stopped");

    ConnectorOffsets offsets = connect.connectorOffsets("replay");
    assertThat(offsets.offsets()).hasSize(1);
    ConnectorOffset o = offsets.offsets().get(0);
    assertThat(o.partition()).containsOnlyKeys("volume", "epoch");
    assertThat(o.partition().get("volume")).isEqualTo("replay");
    assertThat(((Number) o.partition().get("epoch")).longValue()).isEqualTo(epoch);
    assertThat(o.offset()).containsOnlyKeys("seq");
    assertThat(((Number) o.offset().get("seq")).longValue()).isEqualTo(last);

    String bad =
        "{\"offsets\": [{\"partition\": {\"volume\": \"replay\", \"epoch\": "
            + epoch
            + "}, \"offset\": {\"seq\": \"250\"}}]}";
    Response r =
        connect.requestPatch(connect.endpointForResource("connectors/replay/offsets"), bad);
    String body = String.valueOf(r.getEntity());
    assertThat(r.getStatus()).as(body).isGreaterThanOrEqualTo(400);
    assertThat(body).contains("'seq' must be an integer");

    long from = 250;
    connect.alterSourceConnectorOffset(
        "replay", Map.of("volume", "replay", "epoch", epoch), Map.of("seq", from));
    connect.resumeConnector("replay");
    awaitCount(topic, last + (last - from));
    TopicContents c = read(topic);
    Map<Long, Integer> counts = c.seqCounts();
    for (long s = 1; s <= last; s++) {
      assertThat(counts.get(s)).as("copies of seq %d", s).isEqualTo(s > from ? 2 : 1);
    }
    // Within each partition: the whole history, then the replayed tail again, in order.
    for (List<ConsumerRecord<byte[], byte[]>> part : c.byPartition.values()) {
      List<Long> seqs = part.stream().map(TopicContents::seq).toList();
      List<Long> once = seqs.stream().distinct().toList();
      List<Long> again = once.stream().filter(s -> s > from).toList();
      List<Long> expected = new ArrayList<>(once);
      expected.addAll(again);
      assertThat(seqs).isEqualTo(expected);
    }
    connect.deleteConnector("replay");
  }
}
