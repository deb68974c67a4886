package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.ship.KafkaShipper;
import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalReader;
import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.OpRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipper against a real in-JVM KRaft broker: placement, bytes, density, outages, quota. */
class ShipperTest {
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

  static void await(String what, Duration timeout, BooleanSupplier cond)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** The broker address of a cluster that is built but not started (its port is pre-bound). */
  static String preboundBootstrap(KafkaClusterTestKit c) throws Exception {
    java.lang.reflect.Field f = KafkaClusterTestKit.class.getDeclaredField("socketFactoryManager");
    f.setAccessible(true);
    Object mgr = f.get(c);
    java.lang.reflect.Method m =
        mgr.getClass().getMethod("getOrCreatePortForListener", int.class, String.class);
    int broker = c.nodes().brokerNodes().keySet().iterator().next();
    int port = (Integer) m.invoke(mgr, broker, c.nodes().brokerListenerName().value());
    return "localhost:" + port;
  }

  static Properties producer(String bootstrap) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("delivery.timeout.ms", "120000");
    p.put("request.timeout.ms", "5000");
    return p;
  }

  /** Every record of the topic, by partition, in offset order. */
  static Map<Integer, List<ConsumerRecord<byte[], byte[]>>> consume(
      String topic, int partitions, long total) throws Exception {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<Integer, List<ConsumerRecord<byte[], byte[]>>> out = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) {
        tps.add(new TopicPartition(topic, i));
        out.put(i, new ArrayList<>());
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      long n = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (n < total && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.get(r.partition()).add(r);
          n++;
        }
      }
      // Anything beyond `total` would be a duplicate: read a little longer to see it.
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        out.get(r.partition()).add(r);
      }
    }
    return out;
  }

  /** Asserts the topic holds exactly the journal: placement, key, value bytes, dense chains. */
  static void assertTopicEqualsJournal(
      Path journalDir, String topic, int partitions, boolean allowIdenticalDuplicates)
      throws Exception {
    Map<Long, JournalEntry> bySeq = new HashMap<>();
    try (JournalReader r = JournalReader.open(journalDir)) {
      r.seek(1);
      for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
        bySeq.put(e.seq(), e);
      }
    }
    long total = bySeq.size();
    Map<Integer, List<ConsumerRecord<byte[], byte[]>>> topicRecords =
        consume(topic, partitions, total);
    OpCodec codec = new OpCodec();
    Map<Long, Integer> seen = new HashMap<>();
    for (Map.Entry<Integer, List<ConsumerRecord<byte[], byte[]>>> p : topicRecords.entrySet()) {
      long prev = 0;
      for (ConsumerRecord<byte[], byte[]> rec : p.getValue()) {
        OpRecord op = codec.decode(rec.value());
        JournalEntry e = bySeq.get(op.getSeq());
        assertThat(e).as("seq %d is in the journal", op.getSeq()).isNotNull();
        assertThat(rec.partition()).isEqualTo(e.partition());
        assertThat(rec.key()).isEqualTo(e.key());
        assertThat(Arrays.equals(rec.value(), e.value())).isTrue();
        if (seen.merge(op.getSeq(), 1, Integer::sum) > 1) {
          assertThat(allowIdenticalDuplicates).as("duplicate of seq %d", op.getSeq()).isTrue();
          continue;
        }
        if (op.getSeq() > prev) {
          assertThat(op.getPartitionPrevSeq()).as("chain at seq %d", op.getSeq()).isEqualTo(prev);
          prev = op.getSeq();
        }
      }
    }
    for (long s = 1; s <= total; s++) {
      assertThat(seen).as("seq %d delivered", s).containsKey(s);
    }
  }

  @Test
  void shipsEveryOpToItsPartitionWithTheJournalsBytes() throws Exception {
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Shell.run(
          f.mnt, "mkdir -p a/b && for i in $(seq 1 50); do echo $i > a/b/f$i; done && mv a c");
      KafkaShipper s =
          new KafkaShipper(
              f.journal,
              "tfs.ship1.ops",
              producer(cluster.bootstrapServers()),
              null,
              f.metrics,
              Duration.ofSeconds(1));
      s.start();
      try {
        assertThat(s.awaitShipped(Duration.ofSeconds(60))).isTrue();
        assertThat(f.metrics.getShippedSeq()).isEqualTo(f.journal.stats().nextSeq() - 1);
      } finally {
        s.close();
      }
      assertTopicEqualsJournal(f.journalDir, "tfs.ship1.ops", 4, false);
    }
  }

  /**
   * Kafka unavailable when shipping starts (a broker whose port accepts connections but that is not
   * running yet), writes going on throughout: the mount never waits, the journal grows, and once
   * the broker runs the shipper catches up and every op is delivered.
   *
   * <p>(A broker of the in-JVM test kit cannot be restarted on its port: its pre-bound listener
   * socket stays in use, so startup() after shutdown() fails to bind. The outage is therefore
   * modelled by a second cluster that starts late.)
   */
  @Test
  void kafkaDownAtStartThenUpDeliversEveryOpAndNeverBlocksTheMount() throws Exception {
    KafkaClusterTestKit late = TestBrokers.build();
    try (late;
        CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      late.format();
      String bootstrap = preboundBootstrap(late);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong worstNanos = new AtomicLong();
      AtomicLong files = new AtomicLong();
      ExecutorService ex = Executors.newSingleThreadExecutor();
      try (KafkaShipper s =
          new KafkaShipper(
              f.journal,
              "tfs.ship2.ops",
              producer(bootstrap),
              null,
              f.metrics,
              Duration.ofSeconds(1))) {
        s.start();
        Future<?> writer =
            ex.submit(
                () -> {
                  while (!stop.get()) {
                    long t0 = System.nanoTime();
                    Files.writeString(f.mnt.resolve("f" + files.incrementAndGet()), "x");
                    worstNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                  }
                  return null;
                });
        try {
          await(
              "ops journaled while Kafka is down",
              Duration.ofSeconds(60),
              () -> f.journal.stats().nextSeq() > 600);
          assertThat(s.shippedSeq()).isZero();
          late.startup();
          late.waitForReadyBrokers();
          await("first ops shipped", Duration.ofSeconds(90), () -> s.shippedSeq() > 0);
          long target = files.get() + 100;
          await("writes after Kafka came up", Duration.ofSeconds(30), () -> files.get() > target);
        } finally {
          stop.set(true);
          writer.get(30, TimeUnit.SECONDS);
          ex.shutdown();
        }
        assertThat(s.awaitShipped(Duration.ofSeconds(120))).as("caught up").isTrue();
      }
      // Under the quota, a local write never waited on the network.
      assertThat(worstNanos.get()).isLessThan(TimeUnit.SECONDS.toNanos(2));
      KafkaClusterTestKit main = cluster;
      cluster = late;
      try {
        assertTopicEqualsJournal(f.journalDir, "tfs.ship2.ops", 4, true);
      } finally {
        cluster = main;
      }
    }
  }

  @Test
  void tinyQuotaWithoutKafkaBlocksWritersThenResumes() throws Exception {
    try (CaptureFixture f =
        new CaptureFixture(tmp, CaptureFixture.options().spoolMaxBytes(64 * 1024))) {
      ExecutorService ex = Executors.newSingleThreadExecutor();
      int n = 200;
      Future<?> writer =
          ex.submit(
              () -> {
                for (int i = 0; i < n; i++) {
                  Files.write(f.mnt.resolve("f" + i), new byte[1024]);
                }
                return null;
              });
      try {
        // No shipper: the quota fills and the writer blocks inside the journal.
        await("a blocked writer", Duration.ofSeconds(60), () -> f.metrics.getBlockedWriters() > 0);
        assertThat(writer.isDone()).isFalse();
        long blockedAt = f.journal.stats().nextSeq();
        // Kafka comes (back): the shipper drains the journal and the writer resumes.
        KafkaShipper s =
            new KafkaShipper(
                f.journal,
                "tfs.ship3.ops",
                producer(cluster.bootstrapServers()),
                null,
                f.metrics,
                Duration.ofSeconds(1));
        s.start();
        try {
          writer.get(120, TimeUnit.SECONDS);
          assertThat(f.journal.stats().nextSeq()).isGreaterThan(blockedAt);
          assertThat(s.awaitShipped(Duration.ofSeconds(60))).isTrue();
        } finally {
          s.close();
        }
        assertThat(f.metrics.getBackPressureMillis()).isPositive();
      } finally {
        ex.shutdownNow();
      }
      for (int i = 0; i < n; i++) {
        assertThat(Files.size(f.store.resolve("f" + i))).isEqualTo(1024);
      }
      assertTopicEqualsJournal(f.journalDir, "tfs.ship3.ops", 4, false);
    }
  }

  /**
   * A store larger than the spool quota, bootstrapped by a daemon that ships to Kafka itself. The
   * snapshot can only be recorded while the shipper frees quota, so the shipper must run during the
   * bootstrap (it used to start after it, and such a start never finished).
   */
  @Test
  void bootstrapLargerThanTheQuotaShipsWhileItRecords() throws Exception {
    Path store = Files.createDirectories(tmp.resolve("bigstore"));
    Path mnt = Files.createDirectories(tmp.resolve("bigmnt"));
    Path journalDir = tmp.resolve("bigjournal");
    byte[] data = new byte[256 * 1024];
    new java.util.Random(1).nextBytes(data);
    for (int i = 0; i < 32; i++) {
      Files.write(store.resolve("f" + i), data); // 8 MiB against a 2 MiB quota
    }
    String topic = "tfs.bigboot.ops";
    CaptureDaemon d =
        new CaptureDaemon(
            new CaptureDaemon.Config(
                store,
                mnt,
                journalDir,
                "bigboot",
                4,
                dev.tfs.journal.Durability.GROUP,
                5,
                2L << 20,
                0,
                OpCodec.DEFAULT_MAX_RECORD_BYTES,
                true,
                topic,
                producer(cluster.bootstrapServers()),
                null,
                Duration.ofSeconds(30),
                dev.tfs.capture.fs.FuseMount.Options.defaults()),
            new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    ExecutorService ex = Executors.newSingleThreadExecutor();
    long last;
    try {
      Future<?> started =
          ex.submit(
              () -> {
                d.start();
                return null;
              });
      started.get(120, TimeUnit.SECONDS);
      last = d.journal().stats().nextSeq() - 1;
      assertThat(d.shipper().awaitShipped(Duration.ofSeconds(60))).isTrue();
      assertThat(d.journal().stats().blockedNanos())
          .as("the snapshot waited on the quota")
          .isPositive();
    } finally {
      d.stop();
      ex.shutdownNow();
    }
    // Acknowledged segments are gone from the journal: check the topic's seqs are 1..last, once.
    OpCodec codec = new OpCodec();
    java.util.Set<Long> seqs = new java.util.HashSet<>();
    for (List<ConsumerRecord<byte[], byte[]>> recs : consume(topic, 4, last).values()) {
      for (ConsumerRecord<byte[], byte[]> r : recs) {
        assertThat(seqs.add(codec.decode(r.value()).getSeq())).isTrue();
      }
    }
    assertThat(seqs).hasSize((int) last);
    assertThat(java.util.Collections.max(seqs)).isEqualTo(last);
  }
}
