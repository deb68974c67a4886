package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.ship.KafkaShipper;
import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalOptions;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.OpRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each seq once in the topic (issue 12 item 7): a shipper that restarts after a SIGKILL, or over a
 * journal whose acknowledged seq lags the topic, does not send again what the topic holds.
 */
class ShipperRestartTest {
  static final int PARTITIONS = 4;
  static KafkaClusterTestKit cluster;

  @TempDir Path tmp;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = TestBrokers.started();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A closed journal of {@code n} small create ops spread over the partitions by path. */
  static void writeJournal(Path dir, String volume, int n) {
    JournalOptions opts =
        JournalOptions.builder()
            .volume(volume)
            .partitions(PARTITIONS)
            .durability(Durability.NONE)
            .build();
    long t0 = 1_763_769_600_000_000_000L;
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      for (int i = 1; i <= n; i++) {
        byte[] path = ("d" + (i % 61) + "/f" + i).getBytes(StandardCharsets.UTF_8);
        w.commit(0, new OpDraft(path, t0 + i, new Create(0644, 0, 0), t0 + i, t0 + i));
      }
    }
  }

  static long topicEnd(Admin admin, String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    try {
      long sum = 0;
      for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).values()) {
        sum += e.offset();
      }
      return sum;
    } catch (java.util.concurrent.ExecutionException e) {
      return 0; // the topic does not exist yet
    }
  }

  /** Every record of every partition, in offset order, read up to the partition's end. */
  static Map<Integer, List<ConsumerRecord<byte[], byte[]>>> readAll(String topic) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    Map<Integer, List<ConsumerRecord<byte[], byte[]>>> out = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) {
        tps.add(new TopicPartition(topic, p));
        out.put(p, new ArrayList<>());
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        assertThat(System.nanoTime()).as("read the whole topic within 60 s").isLessThan(deadline);
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.partition()).add(r);
        }
      }
    }
    return out;
  }

  /**
   * Asserts the topic holds each seq 1..n of {@code volume} once, in seq order per partition with
   * an unbroken partition chain; records that are not ops of the volume are counted and skipped.
   *
   * @return how many records were not ops of the volume
   */
  static int assertEachSeqOnce(String topic, String volume, long n) throws Exception {
    OpCodec codec = new OpCodec();
    Map<Long, Integer> copies = new HashMap<>();
    Map<Integer, List<OpRecord>> ops = new HashMap<>();
    int foreign = 0;
    for (var p : readAll(topic).entrySet()) {
      List<OpRecord> ours = new ArrayList<>();
      ops.put(p.getKey(), ours);
      for (ConsumerRecord<byte[], byte[]> r : p.getValue()) {
        OpRecord op;
        try {
          op = codec.decode(r.value());
        } catch (OpDecodeException e) {
          foreign++;
          continue;
        }
        if (!op.getVolume().equals(volume)) {
          foreign++;
          continue;
        }
        copies.merge(op.getSeq(), 1, Integer::sum);
        ours.add(op);
      }
    }
    long duplicates = copies.values().stream().filter(c -> c > 1).count();
    assertThat(duplicates)
        .as(
            "seqs in the topic more than once (%s)",
            copies.entrySet().stream().filter(e -> e.getValue() > 1).limit(10).toList())
        .isZero();
    for (long s = 1; s <= n; s++) {
      assertThat(copies).as("seq %d in the topic", s).containsKey(s);
    }
    assertThat(copies).hasSize((int) n);
    for (var p : ops.entrySet()) {
      long prev = 0;
      for (OpRecord op : p.getValue()) {
        assertThat(op.getPartition()).isEqualTo(p.getKey());
        assertThat(op.getSeq())
            .as("partition %d after seq %d", p.getKey(), prev)
            .isGreaterThan(prev);
        assertThat(op.getPartitionPrevSeq())
            .as("chain at seq %d in partition %d", op.getSeq(), p.getKey())
            .isEqualTo(prev);
        prev = op.getSeq();
      }
    }
    return foreign;
  }

  /**
   * The shipper in a child JVM is SIGKILLed mid-stream again and again, each time soon after the
   * topic grew (so ops Kafka has are not yet recorded as acknowledged in the journal), then runs to
   * the end: the topic holds each seq exactly once, in order per partition.
   */
  @Test
  void sigkilledAgainAndAgainMidStreamEachSeqOnce() throws Exception {
    int n = 50_000;
    int kills = 10;
    String volume = "killed";
    String topic = "tfs.killed.ops";
    Path journal = tmp.resolve("journal");
    writeJournal(journal, volume, n);
    Random random = new Random(12);
    int midStream = 0;
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    try (Admin admin = Admin.create(ap)) {
      for (int k = 1; k <= kills; k++) {
        long before = topicEnd(admin, topic);
        // Kill once the topic grew by a few hundred to a few thousand records in this run.
        long grow = 200 + random.nextInt(2000);
        try (ShipperProcess s =
            new ShipperProcess(
                journal,
                volume,
                PARTITIONS,
                topic,
                cluster.bootstrapServers(),
                tmp.resolve("ship-" + k + ".log"))) {
          long started = System.nanoTime();
          long deadline = started + TimeUnit.SECONDS.toNanos(30);
          while (topicEnd(admin, topic) < before + grow && s.process.isAlive()) {
            assertThat(System.nanoTime())
                .as("run %d: the topic grows by %d within 30 s", k, grow)
                .isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(2);
          }
          s.kill9();
          long end = topicEnd(admin, topic);
          if (end < n) {
            midStream++;
          }
          System.out.printf(
              "kill %d after %d ms: topic end %d%n",
              k, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), end);
        }
      }
      assertThat(midStream).as("kills while ops were still unshipped").isEqualTo(kills);
      ShipperProcess last =
          new ShipperProcess(
              journal, volume, PARTITIONS, topic, cluster.bootstrapServers(), tmp.resolve("last"));
      try (last) {
        assertThat(last.awaitExit(Duration.ofSeconds(60))).as(last.output()).isZero();
        assertThat(last.output()).contains(ShipperProcess.SHIPPED + n);
      }
    }
    assertThat(assertEachSeqOnce(topic, volume, n)).isZero();
  }

  /**
   * A journal whose acknowledged seq lags the topic (a copy taken before it shipped: the state a
   * SIGKILL leaves, deterministically), over partitions whose tails end with records that are no
   * ops of this journal: nothing the topic holds is sent again, the foreign records are left alone,
   * and ops appended to the journal afterwards still ship.
   */
  @Test
  void acknowledgedSeqBehindTheTopicSendsOnlyWhatIsMissing() throws Exception {
    int n = 3_000;
    String volume = "behind";
    String topic = "tfs.behind.ops";
    Path journal = tmp.resolve("journal");
    Path copy = tmp.resolve("copy");
    writeJournal(journal, volume, n);
    Files.createDirectories(copy);
    try (Stream<Path> files = Files.list(journal)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
    Properties producer = new Properties();
    producer.put("bootstrap.servers", cluster.bootstrapServers());
    shipAll(journal, volume, topic, producer, n);
    // Foreign tails: bytes that are no op, and an op of another volume, on every partition.
    Path other = tmp.resolve("other");
    writeJournal(other, "someone-else", 1);
    byte[] otherOp;
    try (dev.tfs.journal.JournalReader r = dev.tfs.journal.JournalReader.open(other)) {
      otherOp = r.poll().value();
    }
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    try (KafkaProducer<byte[], byte[]> junk = new KafkaProducer<>(pp)) {
      for (int p = 0; p < PARTITIONS; p++) {
        junk.send(
                new ProducerRecord<>(topic, p, null, "not an op".getBytes(StandardCharsets.UTF_8)))
            .get();
        junk.send(new ProducerRecord<>(topic, p, null, otherOp)).get();
      }
    }
    // The copy still has acknowledged seq 0; two more ops are appended to it first.
    JournalOptions opts =
        JournalOptions.builder()
            .volume(volume)
            .partitions(PARTITIONS)
            .durability(Durability.NONE)
            .build();
    try (JournalWriter w = JournalWriter.open(copy, opts)) {
      assertThat(w.stats().ackedSeq()).isZero();
      for (int i = n + 1; i <= n + 2; i++) {
        byte[] path = ("late/f" + i).getBytes(StandardCharsets.UTF_8);
        w.commit(0, new OpDraft(path, i, new Create(0644, 0, 0), (long) i, (long) i));
      }
    }
    shipAll(copy, volume, topic, producer, n + 2);
    assertThat(assertEachSeqOnce(topic, volume, n + 2)).isEqualTo(2 * PARTITIONS);
  }

  private static void shipAll(Path dir, String volume, String topic, Properties producer, long n) {
    JournalOptions opts =
        JournalOptions.builder()
            .volume(volume)
            .partitions(PARTITIONS)
            .durability(Durability.NONE)
            .build();
    try (JournalWriter w = JournalWriter.open(dir, opts);
        KafkaShipper s =
            new KafkaShipper(
                w, topic, producer, null, new CaptureMetrics(), Duration.ofSeconds(1))) {
      s.start();
      assertThat(s.awaitShipped(Duration.ofSeconds(60))).isTrue();
      assertThat(s.shippedSeq()).isEqualTo(n);
    }
  }
}
