package dev.tfs.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalWriter;
import dev.tfs.op.OpCodec;
import dev.tfs.registry.FakeSchemaRegistry;
import dev.tfs.registry.SchemaRegistryClient;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTaskContext;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The task against real journals written by the real {@link JournalWriter}. Connect itself is stood
 * in for by a task context whose offset store is a map the test commits to, the way the runtime
 * would (the Connect runtime proper is exercised by the *IT tests).
 */
@Timeout(60)
class TreeSourceTaskTest {
  static final String VOLUME = "vol";
  static final int P = 4;

  @TempDir Path tmp;

  final OffsetStore offsets = new OffsetStore();
  final List<TreeSourceTask> tasks = new ArrayList<>();
  final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void cleanUp() throws Exception {
    for (TreeSourceTask t : tasks) {
      t.stop();
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** Connect's offset store, as a task sees it. */
  static final class OffsetStore implements OffsetStorageReader {
    final Map<Map<String, ?>, Map<String, Object>> committed = new ConcurrentHashMap<>();

    @Override
    public <T> Map<String, Object> offset(Map<String, T> partition) {
      return committed.get(partition);
    }

    @Override
    public <T> Map<Map<String, T>, Map<String, Object>> offsets(
        java.util.Collection<Map<String, T>> partitions) {
      Map<Map<String, T>, Map<String, Object>> out = new HashMap<>();
      for (Map<String, T> p : partitions) {
        out.put(p, committed.get(p));
      }
      return out;
    }

    void commit(long epoch, long seq) {
      committed.put(SourceOffsets.partition(VOLUME, epoch), new HashMap<>(Map.of("seq", seq)));
    }
  }

  Map<String, String> props(Path dir, String... extra) {
    Map<String, String> p = new HashMap<>();
    p.put("name", "unit-" + tasks.size());
    p.put(TreeSourceConfig.JOURNAL_DIR_CONFIG, dir.toString());
    p.put(TreeSourceConfig.VOLUME_CONFIG, VOLUME);
    p.put(TreeSourceConfig.POLL_INTERVAL_CONFIG, "1");
    p.put(TreeSourceConfig.ACK_INTERVAL_CONFIG, "0");
    for (int i = 0; i < extra.length; i += 2) {
      p.put(extra[i], extra[i + 1]);
    }
    return p;
  }

  TreeSourceTask start(Path dir, String... extra) {
    Map<String, String> p = props(dir, extra);
    TreeSourceTask t = new TreeSourceTask();
    t.initialize(
        new SourceTaskContext() {
          @Override
          public Map<String, String> configs() {
            return p;
          }

          @Override
          public OffsetStorageReader offsetStorageReader() {
            return offsets;
          }

          @Override
          public PluginMetrics pluginMetrics() {
            return null;
          }
        });
    t.start(p);
    tasks.add(t);
    return t;
  }

  JournalWriter writer(Path dir) {
    return writer(dir, Journals.options(VOLUME, P).build());
  }

  JournalWriter writer(Path dir, dev.tfs.journal.JournalOptions o) {
    JournalWriter w = JournalWriter.open(dir, o);
    closeables.add(w);
    return w;
  }

  /** Polls until {@code n} records arrived (a poll returning nothing is a wait, not an end). */
  static List<SourceRecord> pollN(TreeSourceTask t, int n) throws InterruptedException {
    List<SourceRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (out.size() < n) {
      List<SourceRecord> batch = t.poll();
      if (batch != null) {
        out.addAll(batch);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + out.size() + " of " + n + " records arrived");
      }
    }
    return out;
  }

  /** Polls until the task fails; returns the failure. */
  static ConnectException pollUntilFailure(TreeSourceTask t, List<SourceRecord> sink)
      throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        List<SourceRecord> batch = t.poll();
        if (batch != null) {
          sink.addAll(batch);
        }
      } catch (ConnectException e) {
        return e;
      }
    }
    throw new AssertionError("the task did not fail; it emitted " + sink.size() + " records");
  }

  static long seq(SourceRecord r) {
    return (Long) r.sourceOffset().get("seq");
  }

  static RecordMetadata metadata(SourceRecord r) {
    return new RecordMetadata(
        new TopicPartition(r.topic(), r.kafkaPartition()), seq(r), 0, 0L, 0, 0);
  }

  // ------------------------------------------------------------------ tests

  @Test
  void waitsForAMissingJournalThenForAnEmptyOneThenShipsIt() throws Exception {
    Path dir = tmp.resolve("not-yet");
    TreeSourceTask t = start(dir);
    assertThat(t.poll()).isNull();
    assertThat(t.poll()).isNull();
    assertThat(t.metrics().getState()).isEqualTo("waiting for journal");

    JournalWriter w = writer(dir);
    assertThat(t.poll()).isNull(); // exists, no ops
    assertThat(t.metrics().getState()).isEqualTo("running");
    assertThat(t.metrics().getEpoch()).isEqualTo(w.meta().epoch());

    Journals.append(w, 5, 1, 100);
    List<SourceRecord> got = pollN(t, 5);
    assertThat(got).extracting(TreeSourceTaskTest::seq).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(t.poll()).isNull(); // caught up: waits again
    assertThat(t.metrics().isCaughtUp()).isTrue();
    assertThat(t.metrics().getJournalLagOps()).isZero();
  }

  @Test
  void emitsEveryOpInSeqOrderWithItsPartitionKeyValueAndOffset() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    long last = Journals.append(w, 300, 7, 3000);
    List<JournalEntry> expected = Journals.readAll(dir);
    assertThat(expected).hasSize((int) last);

    TreeSourceTask t = start(dir, TreeSourceConfig.BATCH_MAX_RECORDS_CONFIG, "7");
    List<SourceRecord> got = new ArrayList<>();
    while (got.size() < expected.size()) {
      List<SourceRecord> batch = t.poll();
      if (batch != null) {
        assertThat(batch.size()).isBetween(1, 7);
        got.addAll(batch);
      }
    }
    assertThat(got).hasSize(expected.size());
    Map<String, Object> partition = SourceOffsets.partition(VOLUME, w.meta().epoch());
    for (int i = 0; i < got.size(); i++) {
      SourceRecord r = got.get(i);
      JournalEntry e = expected.get(i);
      assertThat(r.topic()).isEqualTo("tfs.vol.ops");
      assertThat(r.kafkaPartition()).isEqualTo(e.partition());
      assertThat(r.keySchema()).isEqualTo(Schema.BYTES_SCHEMA);
      assertThat(r.valueSchema()).isEqualTo(Schema.BYTES_SCHEMA);
      assertThat((byte[]) r.key()).isEqualTo(e.key());
      assertThat((byte[]) r.value()).isEqualTo(e.value());
      assertThat(r.sourcePartition()).isEqualTo(partition);
      assertThat(r.sourceOffset()).isEqualTo(Map.of("seq", (long) i + 1));
      assertThat(r.headers().isEmpty()).isTrue();
      assertThat(r.timestamp()).isNull();
    }
    assertThat(t.metrics().getEmittedSeq()).isEqualTo(last);
    assertThat(t.metrics().getRecordsEmitted()).isEqualTo(last);
  }

  @Test
  void aBatchEndsAtTheByteBound() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    for (int i = 0; i < 20; i++) {
      w.commit(0, w.writeOps(Journals.bytes("f"), i * 1000L, new byte[1000], 0, 1000, 1L, 1L));
    }
    TreeSourceTask t =
        start(
            dir,
            TreeSourceConfig.BATCH_MAX_BYTES_CONFIG,
            "2500",
            TreeSourceConfig.BATCH_MAX_RECORDS_CONFIG,
            "1000");
    List<SourceRecord> first = t.poll();
    // Each record is ~1 KiB: the batch ends with the record that reaches 2500 bytes.
    assertThat(first).hasSize(3);
  }

  @Test
  void resumesAfterTheCommittedOffsetOfItsJournalsEpoch() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 40, 3, 100);
    offsets.commit(w.meta().epoch(), 25);
    offsets.commit(w.meta().epoch() - 1, 3); // another epoch's offset: not this journal's
    TreeSourceTask t = start(dir);
    List<SourceRecord> got = pollN(t, 15);
    assertThat(got).extracting(TreeSourceTaskTest::seq).startsWith(26L, 27L).endsWith(40L);
  }

  @Test
  void aCommittedOffsetBelowTheJournalsFirstSeqFailsNamingTheMissingSeqs() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir, Journals.options(VOLUME, P).segmentBytes(4096).build());
    Journals.append(w, 200, 5, 400);
    w.acknowledge(150); // as the built-in shipper would: segments up to 150 go
    org.apache.kafka.test.TestUtils.waitForCondition(
        () -> {
          List<Path> segs = Journals.segments(dir);
          return segs.size() > 1 && Journals.firstSeq(segs.get(1)) > 151;
        },
        10_000,
        "the writer deletes the acknowledged segments");
    long first = Journals.firstSeq(Journals.segments(dir).get(0));
    assertThat(first).isGreaterThan(10);
    offsets.commit(w.meta().epoch(), 9);
    TreeSourceTask t = start(dir);
    ConnectException e = pollUntilFailure(t, new ArrayList<>());
    assertThat(e.getMessage())
        .contains("no longer holds seqs 10.." + (first - 1))
        .contains("starts at seq " + first)
        .contains("\"offset\": {\"seq\": " + (first - 1) + "}")
        .contains("G7");
    assertThat(t.metrics().getState()).startsWith("failed");
  }

  @Test
  void aDamagedEntryFailsTheTaskNamingSegmentAndPosition() throws Exception {
    Path dir = tmp.resolve("j");
    try (JournalWriter w = JournalWriter.open(dir, Journals.options(VOLUME, P).build())) {
      Journals.append(w, 30, 11, 200);
    }
    JournalEntry victim = Journals.readAll(dir).get(12); // seq 13
    Journals.flipByte(dir.resolve(victim.segment()), victim.position() + 12);
    TreeSourceTask t = start(dir);
    List<SourceRecord> before = new ArrayList<>();
    ConnectException e = pollUntilFailure(t, before);
    assertThat(before).extracting(TreeSourceTaskTest::seq).endsWith(12L);
    assertThat(before).hasSize(12);
    assertThat(e.getMessage())
        .contains("is damaged at segment " + victim.segment())
        .contains("position " + victim.position())
        .contains("Ops up to seq 12");
  }

  @Test
  void aSeqGapFailsLoudly() throws Exception {
    Path dir = tmp.resolve("j");
    try (JournalWriter w =
        JournalWriter.open(dir, Journals.options(VOLUME, P).segmentBytes(4096).build())) {
      Journals.append(w, 200, 13, 400);
    }
    List<Path> segs = Journals.segments(dir);
    assertThat(segs).hasSizeGreaterThan(3);
    Files.delete(segs.get(1));
    TreeSourceTask t = start(dir);
    List<SourceRecord> before = new ArrayList<>();
    ConnectException e = pollUntilFailure(t, before);
    long lastBeforeGap = Journals.firstSeq(segs.get(1)) - 1;
    assertThat(before).extracting(TreeSourceTaskTest::seq).endsWith(lastBeforeGap);
    assertThat(e.getMessage()).contains("seq gap").contains(segs.get(0).getFileName().toString());
  }

  @Test
  void aJournalRecreatedUnderTheTaskFailsItWithWhatToDo() throws Exception {
    Path dir = tmp.resolve("j");
    long oldEpoch;
    try (JournalWriter w = JournalWriter.open(dir, Journals.options(VOLUME, P).build())) {
      Journals.append(w, 10, 17, 100);
      oldEpoch = w.meta().epoch();
    }
    TreeSourceTask t = start(dir);
    pollN(t, 10);
    Files.move(dir, tmp.resolve("j.old"));
    while (System.currentTimeMillis() <= oldEpoch) {
      Thread.onSpinWait(); // the new epoch is the creation time in ms: it must differ
    }
    JournalWriter w2 = writer(dir);
    Journals.append(w2, 3, 19, 100);
    ConnectException e = pollUntilFailure(t, new ArrayList<>());
    assertThat(e.getMessage())
        .contains("was recreated")
        .contains(oldEpoch + " to " + w2.meta().epoch())
        .contains("Ops up to seq 10")
        .contains("restart the task")
        .contains("must be rebuilt");
  }

  @Test
  void aJournalOfAnotherVolumeFailsClearly() throws Exception {
    Path dir = tmp.resolve("j");
    writer(dir, Journals.options("other", P).build());
    TreeSourceTask t = start(dir);
    ConnectException e = pollUntilFailure(t, new ArrayList<>());
    assertThat(e.getMessage()).contains("belongs to volume 'other'").contains("'vol'");
  }

  @Test
  void theAckedFileFollowsOnlyContiguouslyCommittedSeqsWithCommittedOffsets() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    long epoch = w.meta().epoch();
    Journals.append(w, 40, 23, 100);
    TreeSourceTask t = start(dir);
    List<SourceRecord> got = pollN(t, 40);

    // Kafka has 1..10 and 12..20 (11 still in flight); the offset store holds 20.
    for (SourceRecord r : got.subList(0, 20)) {
      if (seq(r) != 11) {
        t.commitRecord(r, metadata(r));
      }
    }
    offsets.commit(epoch, 20);
    assertThat(t.poll()).isNull();
    assertThat(Journals.acked(dir)).as("no commit() yet").isZero();
    t.commit();
    assertThat(t.poll()).isNull();
    assertThat(Journals.acked(dir)).as("contiguous watermark").isEqualTo(10);

    // 11 arrives; the offset store lags at 15 (commitRecord precedes the offset flush).
    t.commitRecord(got.get(10), metadata(got.get(10)));
    offsets.commit(epoch, 15);
    t.commit();
    t.poll();
    assertThat(Journals.acked(dir)).as("committed offset").isEqualTo(15);
    assertThat(t.metrics().getCommittedSeq()).isEqualTo(20);

    for (SourceRecord r : got.subList(20, 40)) {
      t.commitRecord(r, metadata(r));
    }
    offsets.commit(epoch, 40);
    t.commit();
    t.poll();
    assertThat(Journals.acked(dir)).isEqualTo(40);
    assertThat(t.metrics().getAcknowledgedSeq()).isEqualTo(40);
    assertThat(t.metrics().getUnacknowledgedOps()).isZero();

    // An offset moved back (a replay request) never moves the acked file backwards.
    offsets.commit(epoch, 5);
    t.commit();
    t.poll();
    assertThat(Journals.acked(dir)).isEqualTo(40);
    assertThat(
            ManagementFactory.getPlatformMBeanServer()
                .getAttribute(SourceMetrics.name("unit-0"), "AcknowledgedSeq"))
        .isEqualTo(40L);
  }

  @Test
  void anOffsetBeyondTheJournalsEndNeverReachesTheAckedFile() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 20, 29, 100);
    offsets.commit(w.meta().epoch(), 1000);
    TreeSourceTask t = start(dir);
    assertThat(t.poll()).isNull(); // nothing at or after 1001 yet
    t.commit();
    assertThat(t.poll()).isNull();
    assertThat(Journals.acked(dir)).isZero();
    // The writer would refuse to open a journal whose acked file claims seqs it lacks.
    w.close();
    writer(dir).close();
  }

  @Test
  void aRestartedTaskAcknowledgesTheCommittedOffsetWithoutNewOps() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 12, 31, 100);
    // The previous run committed seq 12 but stopped before it could record it in the journal.
    offsets.commit(w.meta().epoch(), 12);
    TreeSourceTask t = start(dir, TreeSourceConfig.ACK_INTERVAL_CONFIG, "3600000");
    assertThat(t.poll()).as("seq 12 is read again, not emitted").isNull();
    assertThat(Journals.acked(dir)).isEqualTo(12);
    Journals.append(w, 3, 32, 100);
    assertThat(pollN(t, 3)).extracting(TreeSourceTaskTest::seq).containsExactly(13L, 14L, 15L);
  }

  @Test
  void aDroppedRecordCountsAsDoneSoTheJournalDoesNotFillBehindIt() throws Exception {
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 3, 37, 100);
    TreeSourceTask t = start(dir);
    List<SourceRecord> got = pollN(t, 3);
    t.commitRecord(got.get(0), metadata(got.get(0)));
    t.commitRecord(got.get(1), null); // filtered by a transformation
    t.commitRecord(got.get(2), metadata(got.get(2)));
    offsets.commit(w.meta().epoch(), 3);
    t.commit();
    t.poll();
    assertThat(Journals.acked(dir)).isEqualTo(3);
  }

  @Test
  void withARegistryValuesAreReframedExactlyAsTheShipperDoes() throws Exception {
    FakeSchemaRegistry registry = new FakeSchemaRegistry();
    closeables.add(registry);
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 30, 41, 500);
    List<JournalEntry> expected = Journals.readAll(dir);
    TreeSourceTask t =
        start(
            dir,
            TreeSourceConfig.SCHEMA_REGISTRY_URL_CONFIG,
            registry.url(),
            TreeSourceConfig.TOPIC_CONFIG,
            "custom.topic");
    List<SourceRecord> got = pollN(t, 30);
    int id = new OpCodec(new SchemaRegistryClient(registry.url())).registerFor("custom.topic");
    OpCodec decoder = new OpCodec(new SchemaRegistryClient(registry.url()));
    for (int i = 0; i < got.size(); i++) {
      byte[] v = (byte[]) got.get(i).value();
      assertThat(v).isEqualTo(OpCodec.toConfluent(expected.get(i).value(), id));
      assertThat(ByteBuffer.wrap(v, 1, 4).getInt()).isEqualTo(id);
      assertThat(decoder.decode(v)).isEqualTo(decoder.decode(expected.get(i).value()));
      assertThat(got.get(i).topic()).isEqualTo("custom.topic");
    }
    assertThat(String.join("\n", registry.requests())).contains("custom.topic-value");
  }

  @Test
  void anUnreachableRegistryIsRetriedNotFatal() throws Exception {
    FakeSchemaRegistry registry = new FakeSchemaRegistry();
    closeables.add(registry);
    Path dir = tmp.resolve("j");
    JournalWriter w = writer(dir);
    Journals.append(w, 2, 43, 100);
    registry.failNext(1000, 503);
    TreeSourceTask t = start(dir, TreeSourceConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url());
    assertThatThrownBy(t::poll)
        .isInstanceOf(org.apache.kafka.connect.errors.RetriableException.class)
        .hasMessageContaining("tfs.vol.ops-value");
    registry.failNext(0, 503);
    assertThat(pollN(t, 2)).hasSize(2);
  }
}
