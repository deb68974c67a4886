package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.OpCodec;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.Write;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.apache.kafka.test.TestUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connector in a real Connect worker with a real KRaft broker, loaded from the packaged plugin
 * directory through {@code plugin.path} (failsafe keeps the main classes off this test's class
 * path, so the worker cannot find the connector any other way). One cluster for the whole class;
 * each test uses its own topic, connectors, mirror roots and state dirs.
 */
class TreeSinkConnectIT {
  static final int P = 8;
  static final String CONNECTOR_CLASS = "dev.tfs.sink.TreeSinkConnector";
  static final String BYTES = "org.apache.kafka.connect.converters.ByteArrayConverter";
  static final long TIMEOUT_MS = 90_000;

  @TempDir static Path tmp;
  static EmbeddedConnectCluster connect;

  @BeforeAll
  static void startCluster() {
    String pluginPath = System.getProperty("tfs.plugin.path");
    assertThat(pluginPath).as("tfs.plugin.path (set by failsafe)").isNotNull();
    assertThat(Path.of(pluginPath, "tfs-sink-connector", "lib")).isDirectory();
    Map<String, String> worker = new HashMap<>();
    worker.put("plugin.path", pluginPath);
    worker.put("plugin.discovery", "service_load");
    worker.put("offset.flush.interval.ms", "500");
    connect =
        new EmbeddedConnectCluster.Builder()
            .name("tfs-sink-it")
            .numWorkers(1)
            .numBrokers(1)
            .workerProps(worker)
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

  static Map<String, String> sink(String topic, Path root, Path state, String... extra) {
    Map<String, String> c = new HashMap<>();
    c.put("connector.class", CONNECTOR_CLASS);
    c.put("tasks.max", "3"); // collapsed to one task
    c.put("topics", topic);
    c.put("key.converter", BYTES);
    c.put("value.converter", BYTES);
    c.put(TreeSinkConfig.MIRROR_ROOT_CONFIG, root.toString());
    c.put(TreeSinkConfig.STATE_DIR_CONFIG, state.toString());
    c.put(TreeSinkConfig.FSYNC_CONFIG, "commit");
    for (int i = 0; i < extra.length; i += 2) {
      c.put(extra[i], extra[i + 1]);
    }
    return c;
  }

  /** Creates a topic and waits until every partition has a leader. */
  static void createTopic(String topic) throws InterruptedException {
    connect.kafka().createTopic(topic, P);
    TestUtils.waitForCondition(
        () ->
            connect
                .kafka()
                .describeTopics(topic)
                .get(topic)
                .map(
                    d ->
                        d.partitions().size() == P
                            && d.partitions().stream().allMatch(pi -> pi.leader() != null))
                .orElse(false),
        TIMEOUT_MS,
        "leaders of " + topic);
  }

  /** One record at a time per connection, so retries cannot reorder a partition's chain. */
  static KafkaProducer<byte[], byte[]> producer() {
    return connect
        .kafka()
        .createProducer(
            Map.of(
                "enable.idempotence", "false",
                "max.in.flight.requests.per.connection", "1",
                "acks", "all",
                "linger.ms", "5"));
  }

  /** Produces ops keyed by path: Kafka's own partitioner must put each where the op says. */
  static void produce(String topic, List<OpRecord> ops) {
    OpCodec codec = new OpCodec();
    try (KafkaProducer<byte[], byte[]> p = producer()) {
      for (OpRecord op : ops) {
        p.send(new ProducerRecord<>(topic, Ops.path(op), codec.encode(op)));
      }
      p.flush();
    }
  }

  static Path reference(List<OpRecord> ops, String name) throws Exception {
    return ReferenceTree.build(ops, tmp.resolve(name));
  }

  static Path statusFile(Path stateDir, String name, Path root) throws Exception {
    byte[] d =
        MessageDigest.getInstance("SHA-256")
            .digest(root.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
    return stateDir.resolve(name + "-" + HexFormat.of().formatHex(d, 0, 8) + ".status.json");
  }

  static String status(Path stateDir, String name, Path root) {
    try {
      return Files.readString(statusFile(stateDir, name, root));
    } catch (Exception e) {
      return "";
    }
  }

  static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  static void awaitApplied(Path state, String name, Path root, long seq)
      throws InterruptedException {
    TestUtils.waitForCondition(
        () -> field(status(state, name, root), "appliedSeq") == seq,
        TIMEOUT_MS,
        () -> name + " did not reach seq " + seq + "; status: " + status(state, name, root));
  }

  static void assertSameTree(Path expected, Path actual) throws Exception {
    Trees.assertSame(expected, actual, false);
  }

  static History renameHeavy(String volume, int randomOps, long seed) {
    History base = HistoryGen.generate(seed, randomOps, P, 4096);
    History h = new History(volume, base.epoch, P);
    for (OpRecord op : base.ops) {
      h.add(Ops.path(op), op.getOp(), op.getMtime() != null, op.getParentMtime() != null);
    }
    // Ops whose double application would show: rename a->b, re-create a, append to both.
    for (int i = 0; i < 20; i++) {
      String a = "twice-a" + i;
      String b = "twice-b" + i;
      h.add(a, new Create(0644, 0, 0));
      h.add(a.getBytes(StandardCharsets.UTF_8), new Write(0L, History.buf("first")), true, false);
      h.add(
          a.getBytes(StandardCharsets.UTF_8),
          new Rename(History.buf(b), h.now() + 1_000_000L),
          false,
          true);
      h.add(a, new Create(0600, 0, 0));
      h.add(a.getBytes(StandardCharsets.UTF_8), new Write(0L, History.buf("second")), true, false);
      h.add(b.getBytes(StandardCharsets.UTF_8), new Write(5L, History.buf("+more")), true, false);
    }
    return h;
  }

  // ------------------------------------------------------------------ tests

  @Test
  void theConnectorComesFromThePluginDirectoryNotTheClassPath() throws Exception {
    assertThatThrownBy(() -> Class.forName(CONNECTOR_CLASS))
        .isInstanceOf(ClassNotFoundException.class);
    String plugins =
        String.valueOf(
            connect.requestGet(connect.endpointForResource("connector-plugins")).getEntity());
    assertThat(plugins).contains(CONNECTOR_CLASS).contains("0.1.0");
  }

  @Test
  void validateReportsCrossFieldProblems() throws Exception {
    Path root = tmp.resolve("validate-root");
    Map<String, String> c =
        sink(
            "tfs.validate.ops",
            root,
            root.resolve("state"),
            TreeSinkConfig.REPLAY_UNTIL_SEQ_CONFIG,
            "5",
            TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG,
            "2026-01-01T00:00:00Z");
    c.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
    c.put("name", "validate");
    ConfigInfos infos = connect.validateConnectorConfig("TreeSinkConnector", c);
    String text = infos.toString();
    assertThat(infos.errorCount()).isGreaterThanOrEqualTo(3);
    assertThat(text).contains("overlap").contains("not both").contains("ByteArrayConverter");
  }

  @Test
  void twoMirrorsOnOneTopicConvergeToTheSameTree_andJmxShowsThem() throws Exception {
    String topic = "tfs.two.ops";
    createTopic(topic);
    History h = renameHeavy("two", 400, 101);
    produce(topic, h.ops);
    Path r1 = tmp.resolve("two-m1");
    Path r2 = tmp.resolve("two-m2");
    Path s1 = tmp.resolve("two-s1");
    Path s2 = tmp.resolve("two-s2");
    connect.configureConnector("two-m1", sink(topic, r1, s1));
    connect.configureConnector("two-m2", sink(topic, r2, s2));
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("two-m1", 1, "m1 running");
    awaitApplied(s1, "two-m1", r1, h.ops.size());
    awaitApplied(s2, "two-m2", r2, h.ops.size());
    Path ref = reference(h.ops, "two-ref");
    assertSameTree(ref, r1);
    assertSameTree(ref, r2);
    Set<ObjectName> beans =
        ManagementFactory.getPlatformMBeanServer()
            .queryNames(new ObjectName("dev.tfs:type=sink,connector=\"two-m1\""), null);
    assertThat(beans).hasSize(1);
    Object applied =
        ManagementFactory.getPlatformMBeanServer()
            .getAttribute(beans.iterator().next(), "AppliedSeq");
    assertThat(applied).isEqualTo((long) h.ops.size());

    // Offsets rewound through the REST API into the same root: a no-op.
    Path before = Trees.snapshot(r1, tmp.resolve("r1-before"));
    connect.stopConnector("two-m1");
    connect.assertions().assertConnectorIsStopped("two-m1", "stopped");
    connect.resetConnectorOffsets("two-m1");
    connect.resumeConnector("two-m1");
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("two-m1", 1, "resumed");
    TestUtils.waitForCondition(
        () -> status(s1, "two-m1", r1).contains("\"opsApplied\": 0"),
        TIMEOUT_MS,
        "status of the resumed task");
    assertThat(field(status(s1, "two-m1", r1), "appliedSeq")).isEqualTo(h.ops.size());
    Trees.assertSame(before, r1, false);

    // ... and into a fresh root: a rebuild.
    Path fresh = tmp.resolve("two-m1-rebuilt");
    connect.stopConnector("two-m1");
    connect.assertions().assertConnectorIsStopped("two-m1", "stopped again");
    connect.resetConnectorOffsets("two-m1");
    connect.patchConnectorConfig(
        "two-m1", Map.of(TreeSinkConfig.MIRROR_ROOT_CONFIG, fresh.toString()));
    connect.resumeConnector("two-m1");
    awaitApplied(s1, "two-m1", fresh, h.ops.size());
    assertSameTree(ref, fresh);
    connect.deleteConnector("two-m1");
    connect.deleteConnector("two-m2");
  }

  @Test
  void aConnectorStoppedOrPausedWhileOpsFlowConvergesWhenResumed() throws Exception {
    String topic = "tfs.pause.ops";
    createTopic(topic);
    History h = renameHeavy("pause", 600, 202);
    int third = h.ops.size() / 3;
    Path root = tmp.resolve("pause-m");
    Path state = tmp.resolve("pause-s");
    produce(topic, h.ops.subList(0, third));
    connect.configureConnector("pause-m", sink(topic, root, state));
    awaitApplied(state, "pause-m", root, third);
    connect.stopConnector("pause-m");
    produce(topic, h.ops.subList(third, 2 * third));
    connect.resumeConnector("pause-m");
    awaitApplied(state, "pause-m", root, 2 * third);
    connect.pauseConnector("pause-m");
    connect.assertions().assertConnectorAndExactlyNumTasksArePaused("pause-m", 1, "paused");
    produce(topic, h.ops.subList(2 * third, h.ops.size()));
    connect.resumeConnector("pause-m");
    awaitApplied(state, "pause-m", root, h.ops.size());
    assertSameTree(reference(h.ops, "pause-ref"), root);
    connect.deleteConnector("pause-m");
  }

  @Test
  void restartsAndAWorkerReplacedMidStreamApplyNothingTwice() throws Exception {
    String topic = "tfs.restart.ops";
    createTopic(topic);
    History h = renameHeavy("restart", 1500, 303);
    Path root = tmp.resolve("restart-m");
    Path state = tmp.resolve("restart-s");
    connect.configureConnector("restart-m", sink(topic, root, state));
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("restart-m", 1, "running");
    int chunk = 200;
    for (int i = 0, n = 0; i < h.ops.size(); i += chunk, n++) {
      produce(topic, h.ops.subList(i, Math.min(h.ops.size(), i + chunk)));
      if (n == 3) {
        // The worker goes away mid-stream and another one takes over.
        connect.removeWorker();
        connect.addWorker();
        connect.assertions().assertAtLeastNumWorkersAreUp(1, "replacement worker");
      } else {
        connect.restartTask("restart-m", 0); // while the records just produced are in flight
      }
    }
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("restart-m", 1, "running");
    awaitApplied(state, "restart-m", root, h.ops.size());
    assertSameTree(reference(h.ops, "restart-ref"), root);
    for (int i = 0; i < 20; i++) {
      assertThat(Files.readString(root.resolve("twice-b" + i))).isEqualTo("first+more");
      assertThat(Files.readString(root.resolve("twice-a" + i))).isEqualTo("second");
    }
    connect.deleteConnector("restart-m");
  }

  @Test
  void replayUntilSeqGivesTheTreeAsOfThatSeq() throws Exception {
    String topic = "tfs.replay.ops";
    createTopic(topic);
    History h = renameHeavy("replay", 300, 404);
    produce(topic, h.ops);
    int n = 217;
    Path root = tmp.resolve("replay-m");
    Path state = tmp.resolve("replay-s");
    connect.configureConnector(
        "replay-m", sink(topic, root, state, TreeSinkConfig.REPLAY_UNTIL_SEQ_CONFIG, "" + n));
    TestUtils.waitForCondition(
        () -> status(state, "replay-m", root).contains("\"replayTargetReached\": true"),
        TIMEOUT_MS,
        "replay target");
    assertThat(field(status(state, "replay-m", root), "appliedSeq")).isEqualTo(n);
    assertSameTree(reference(h.ops.subList(0, n), "replay-ref"), root);
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning("replay-m", 1, "idle");
    connect.deleteConnector("replay-m");
  }

  /** Produces a history with one record replaced by garbage; returns (partition, offset). */
  static long[] produceWithGarbage(String topic, History h, int bad) {
    OpCodec codec = new OpCodec();
    long[] where = new long[2];
    try (KafkaProducer<byte[], byte[]> p = producer()) {
      for (int i = 0; i < h.ops.size(); i++) {
        OpRecord op = h.ops.get(i);
        byte[] value = i == bad ? garbage() : codec.encode(op);
        var md = p.send(new ProducerRecord<>(topic, Ops.path(op), value));
        if (i == bad) {
          try {
            where[0] = md.get().partition();
            where[1] = md.get().offset();
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        }
      }
      p.flush();
    }
    return where;
  }

  static int aWriteWithALaterOpInItsPartition(History h) {
    for (int i = h.ops.size() / 2; i < h.ops.size(); i++) {
      OpRecord op = h.ops.get(i);
      if (op.getOp() instanceof Write) {
        for (int j = i + 1; j < h.ops.size(); j++) {
          if (h.ops.get(j).getPartition() == op.getPartition()) {
            return i;
          }
        }
      }
    }
    throw new AssertionError("no candidate");
  }

  @Test
  void anUndecodableRecordGoesToTheDlqWithToleranceAndTheMirrorSaysDiverged() throws Exception {
    String topic = "tfs.dlq.ops";
    String dlq = "tfs.dlq.dead";
    createTopic(topic);
    History h = renameHeavy("dlq", 300, 505);
    int bad = aWriteWithALaterOpInItsPartition(h);
    long[] where = produceWithGarbage(topic, h, bad);
    Path root = tmp.resolve("dlq-m");
    Path state = tmp.resolve("dlq-s");
    connect.configureConnector(
        "dlq-m",
        sink(
            topic,
            root,
            state,
            "errors.tolerance",
            "all",
            "errors.deadletterqueue.topic.name",
            dlq,
            "errors.deadletterqueue.topic.replication.factor",
            "1",
            "errors.deadletterqueue.context.headers.enable",
            "true"));
    awaitApplied(state, "dlq-m", root, h.ops.size());
    String st = status(state, "dlq-m", root);
    assertThat(st)
        .contains("\"diverged\": true")
        .contains("partition " + where[0] + " offset " + where[1]);
    ConsumerRecords<byte[], byte[]> dead = connect.kafka().consume(1, TIMEOUT_MS, dlq);
    assertThat(dead.count()).isEqualTo(1);
    List<OpRecord> without = new ArrayList<>(h.ops);
    without.remove(bad);
    assertSameTree(reference(without, "dlq-ref"), root);
    connect.deleteConnector("dlq-m");
  }

  @Test
  void anUndecodableRecordWithoutToleranceFailsTheTaskNamingTopicPartitionOffset()
      throws Exception {
    String topic = "tfs.fail.ops";
    createTopic(topic);
    History h = renameHeavy("fail", 100, 606);
    int bad = aWriteWithALaterOpInItsPartition(h);
    long[] where = produceWithGarbage(topic, h, bad);
    Path root = tmp.resolve("fail-m");
    Path state = tmp.resolve("fail-s");
    connect.configureConnector("fail-m", sink(topic, root, state));
    connect
        .assertions()
        .assertConnectorIsRunningAndTasksHaveFailed("fail-m", 1, "task fails on the bad record");
    ConnectorStateInfo info = connect.connectorStatus("fail-m");
    String trace = info.tasks().get(0).trace();
    assertThat(trace)
        .contains("topic " + topic + " partition " + where[0] + " offset " + where[1])
        .contains("UNKNOWN_SCHEMA");
    // errors.tolerance=none skips nothing: the mirror stops before the record, not diverged.
    assertThat(status(state, "fail-m", root)).contains("\"diverged\": false");
    connect.deleteConnector("fail-m");
  }

  @Test
  void aSeqNoPartitionCanDeliverFailsTheTaskWithinTheGapTimeout() throws Exception {
    String topic = "tfs.hole.ops";
    connect.kafka().createTopic(topic, 1);
    TestUtils.waitForCondition(
        () ->
            connect
                .kafka()
                .describeTopics(topic)
                .get(topic)
                .map(d -> d.partitions().size() == 1 && d.partitions().get(0).leader() != null)
                .orElse(false),
        TIMEOUT_MS,
        "leader of " + topic);
    History h = new History("hole", 1L, 1);
    for (int i = 1; i <= 5; i++) {
      h.add("f" + i, new Create(0644, 0, 0));
    }
    // seq 5 says the partition's previous op is seq 3: its chain is consistent, but seq 4 is in
    // no partition (a one-partition topic), so it can never arrive.
    OpRecord last = h.ops.get(4);
    OpRecord five =
        OpRecord.newBuilder()
            .setVolume(last.getVolume())
            .setEpoch(last.getEpoch())
            .setSeq(5)
            .setPartition(0)
            .setPartitionPrevSeq(3)
            .setTime(last.getTime())
            .setPath(last.getPath())
            .setOp(last.getOp())
            .build();
    produce(topic, List.of(h.ops.get(0), h.ops.get(1), h.ops.get(2), five));
    Path root = tmp.resolve("hole-m");
    Path state = tmp.resolve("hole-s");
    long timeoutMs = 3_000;
    long started = System.nanoTime();
    connect.configureConnector(
        "hole-m",
        sink(topic, root, state, TreeSinkConfig.GAP_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs)));
    connect
        .assertions()
        .assertConnectorIsRunningAndTasksHaveFailed("hole-m", 1, "task fails on the hole");
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    String trace = connect.connectorStatus("hole-m").tasks().get(0).trace();
    assertThat(trace)
        .contains("seq 4 cannot arrive")
        .contains(topic + "-0: seq 5 at offset 3")
        .contains("tfs.gap.timeout.ms");
    assertThat(tookMs).as("stopped within the timeout plus start-up").isLessThan(TIMEOUT_MS);
    String st = status(state, "hole-m", root);
    assertThat(field(st, "appliedSeq")).isEqualTo(3);
    assertThat(st).contains("\"waitingFor\": \"seq 4\"").contains("\"waitingSince\": \"20");
    assertThat(field(st, "lagSeconds")).as("the lag grew while waiting").isGreaterThanOrEqualTo(3);
    assertThat(st).contains("\"diverged\": false");
    connect.deleteConnector("hole-m");
  }

  /** Single-object marker with a fingerprint of no bundled schema: not decodable. */
  static byte[] garbage() {
    byte[] g = new byte[40];
    g[0] = (byte) 0xC3;
    g[1] = 0x01;
    return g;
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
