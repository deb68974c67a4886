package dev.tfs.capture.ship;

import dev.tfs.capture.CaptureMetrics;
import dev.tfs.journal.AckWatermark;
import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalReader;
import dev.tfs.journal.JournalWriter;
import dev.tfs.op.OpCodec;
import dev.tfs.registry.SchemaRegistryClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships the journal to Kafka from inside tfs-capture ({@code --ship=kafka}).
 *
 * <p>One thread reads the journal in seq order ({@link JournalReader}) and sends every entry with
 * an idempotent {@link KafkaProducer} ({@code acks=all}, {@code enable.idempotence=true}) to its
 * explicit partition, with the entry's key and value bytes unchanged (re-framed for a Confluent
 * registry when one is configured). Acknowledgements arrive out of order across partitions; the
 * shipper tracks the highest seq below which everything is acknowledged ({@link AckWatermark}) and
 * records it with {@link JournalWriter#acknowledge}, which frees spool quota and deletes shipped
 * segments.
 *
 * <p>Each seq once in the topic: the acknowledged seq in the journal lags what Kafka has (it is
 * recorded every {@link #ACK_INTERVAL_NANOS}, and a SIGKILL loses what was in flight), and a new
 * producer has a new producer id, so the broker cannot deduplicate its sends against an earlier
 * run's. So before every producer starts, the shipper reads the end of each partition ({@link
 * TopicTail}) and acknowledges, without sending, the ops the topic provably holds already.
 *
 * <p>Failures never reach the mount: Kafka down at start, a broker restart, an unreachable network
 * only delay shipping (the journal grows up to its quota). While a broker is briefly away the
 * producer's own retries deliver each record exactly once (idempotence). When a send fails for good
 * (delivery timeout, fatal producer error), the shipper closes the producer, rewinds the reader to
 * the first unacknowledged seq and, after a backoff, resends with a new producer what the topic
 * does not hold by then. Copies (same partition, key and value) remain possible only in the cases
 * {@link TopicTail} names in its log (e.g. a hole left by a failed delivery); sinks drop seqs they
 * already applied.
 *
 * <p>Memory is bounded (G6): at most {@link #MAX_IN_FLIGHT} records are unacknowledged at once.
 */
public final class KafkaShipper implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaShipper.class);

  /** Most records sent and not yet acknowledged. */
  static final int MAX_IN_FLIGHT = 8192;

  /**
   * While records stream, how often the acknowledged seq is recorded in the journal. Acknowledging
   * after every send (as before) cost two fsyncs per record on the journal's disk and capped
   * shipping at a few hundred records per second (measured by ./tfs bench: a 256 MiB backlog took
   * 6.6 s to ship). The position only frees quota and bounds re-sends after a restart (sinks drop
   * seqs they applied), so a 50 ms stale position costs nothing.
   */
  static final long ACK_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /**
   * How often the shipper looks for newly durable journal entries: every 1 ms while ops arrive
   * (each idle poll costs a few syscalls), every 5 ms after a second without any. The journal
   * offers no wake-up, so this bounds the shipper's share of the write-to-Kafka lag.
   */
  static final long BUSY_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  static final long IDLE_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  static final long IDLE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** How often a send waits to see a partition's first record acknowledged. */
  static final long PRIME_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  /** How long reading the partitions' ends may take before connecting counts as failed. */
  static final Duration TAIL_TIMEOUT = Duration.ofSeconds(30);

  private final JournalWriter journal;
  private final String topic;
  private final Properties producerProps;
  private final String registryUrl;
  private final CaptureMetrics metrics;
  private final Duration maxBackoff;
  private final Thread thread;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean failed = new AtomicBoolean();
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final AckWatermark watermark = new AckWatermark(0);
  private volatile String state = "CONNECTING";
  private volatile String refusal;
  private KafkaProducer<byte[], byte[]> producer;
  private JournalReader reader;
  private int schemaId = -1;
  private OpCodec codec = new OpCodec();

  /**
   * Per journal partition, the seq up to which the topic already held every op of the partition
   * when this producer started ({@link TopicTail}); those ops are acknowledged without sending.
   */
  private long[] held = new long[0];

  /**
   * Per partition, for the current producer: {@link #CLOSED} until its first record is sent, {@link
   * #PRIMING} while that record is unacknowledged, {@link #OPEN} after. A broker that has no state
   * for a new producer id accepts its first batch to a partition whatever its sequence number, so
   * if that first batch met a retriable error (a leader not ready yet after a broker restart) while
   * a later one went through, the partition would hold a hole that no retry can fill. Only once the
   * first record is in does idempotence keep the partition's order.
   */
  private AtomicIntegerArray gate = new AtomicIntegerArray(0);

  private static final int CLOSED = 0;
  private static final int PRIMING = 1;
  private static final int OPEN = 2;

  /**
   * @param producerProps producer settings (bootstrap.servers, SASL/TLS, ...); the shipper forces
   *     the serializers, {@code acks=all} and idempotence
   * @param registryUrl a Confluent-API schema registry, or null for single-object framing
   */
  public KafkaShipper(
      JournalWriter journal,
      String topic,
      Properties producerProps,
      String registryUrl,
      CaptureMetrics metrics,
      Duration maxBackoff) {
    this.journal = journal;
    this.topic = topic;
    this.producerProps = producerProps;
    this.registryUrl = registryUrl;
    this.metrics = metrics;
    this.maxBackoff = maxBackoff;
    this.thread = new Thread(this::run, "tfs-shipper");
    this.thread.setDaemon(true);
  }

  /** The producer settings the shipper uses, from the user's and its own. */
  static Properties producerConfig(Properties user) {
    Properties p = new Properties();
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
    // Records are sent as fast as the journal yields them, so batches fill while earlier requests
    // are in flight; a long linger only adds latency to a lone op (./tfs bench, lag group).
    p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "2000");
    p.putAll(user);
    // Not negotiable: ordering and exactly-once delivery per partition depend on them.
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return p;
  }

  /** Admin settings: the producer's connection settings (SASL/TLS) without producer-only keys. */
  static Properties adminConfig(Properties user) {
    Properties p = new Properties();
    for (String k : user.stringPropertyNames()) {
      if (AdminClientConfig.configNames().contains(k)) {
        p.put(k, user.getProperty(k));
      }
    }
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    return p;
  }

  public void start() {
    watermark.reset(journal.stats().ackedSeq());
    thread.start();
  }

  /** Highest seq such that it and every lower one are acknowledged by Kafka. */
  public long shippedSeq() {
    return watermark.contiguous();
  }

  public String state() {
    return state;
  }

  /** Why shipping was refused (e.g. a topic with too few partitions), or null. */
  public String refusal() {
    return refusal;
  }

  private void state(String s) {
    state = s;
    metrics.shipperState(s);
  }

  private void run() {
    long backoff = 100;
    while (!stopping.get()) {
      try {
        if (producer == null) {
          state("CONNECTING");
          connect();
          backoff = 100;
          state("SHIPPING");
        }
        if (failed.get()) {
          throw new IllegalStateException("a delivery failed; resending from the acknowledged seq");
        }
        JournalEntry e = reader.poll();
        if (e == null) {
          acknowledge();
          // Poll the journal every 1 ms while ops flow, every 5 ms once idle for a second.
          boolean busy = System.nanoTime() - lastEntryNanos < IDLE_AFTER_NANOS;
          LockSupport.parkNanos(busy ? BUSY_POLL_NANOS : IDLE_POLL_NANOS);
          continue;
        }
        lastEntryNanos = System.nanoTime();
        if (e.seq() <= held[e.partition()]) {
          // A run before this one shipped it, after the last seq it recorded as acknowledged.
          completed(e.seq());
        } else {
          send(e);
        }
        acknowledgeEvery(ACK_INTERVAL_NANOS);
      } catch (RefusedException r) {
        refusal = r.getMessage();
        state("REFUSED");
        LOG.error("shipping refused: {}", r.getMessage());
        closeProducer();
        return;
      } catch (Exception ex) {
        if (stopping.get()) {
          break;
        }
        metrics.shipError();
        state("BACKING_OFF");
        LOG.warn("shipper: {}; retrying in {} ms", ex.toString(), backoff);
        closeProducer();
        sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff.toMillis());
      }
    }
    acknowledge();
    closeProducer();
    state("STOPPED");
  }

  private static final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    RefusedException(String m) {
      super(m);
    }
  }

  private void connect() throws Exception {
    int partitions = journal.meta().partitions();
    try (Admin admin = Admin.create(adminConfig(producerProps))) {
      TopicDescription d = describe(admin);
      if (d == null) {
        try {
          admin
              .createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())))
              .all()
              .get(15, TimeUnit.SECONDS);
          LOG.info("created topic {} with {} partitions", topic, partitions);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
        d = awaitLeaders(admin);
      }
      if (d.partitions().size() < partitions) {
        throw new RefusedException(
            "topic "
                + topic
                + " has "
                + d.partitions().size()
                + " partitions but the journal numbers ops for "
                + partitions
                + "; add partitions to the topic (kafka-topics --alter --partitions "
                + partitions
                + ") or ship to another --topic. The mount keeps serving; the journal grows.");
      }
    }
    if (registryUrl != null && schemaId < 0) {
      codec = new OpCodec(new SchemaRegistryClient(registryUrl));
      schemaId = codec.registerFor(topic);
      LOG.info("op schema registered under {}-value with id {}", topic, schemaId);
    }
    long from = watermark.contiguous();
    watermark.reset(from);
    held = readTails(partitions, from);
    gate = new AtomicIntegerArray(partitions);
    failed.set(false);
    producer = new KafkaProducer<>(producerConfig(producerProps));
    if (reader == null) {
      reader = JournalReader.open(journal.dir());
    }
    reader.seek(from + 1);
    LOG.info("shipping {} to {} from seq {}", journal.dir(), topic, from + 1);
  }

  /**
   * Reads what the topic already holds above {@code acked} (see {@link TopicTail}), so that the new
   * producer, which has a new producer id and so no broker-side deduplication against the old one,
   * does not send those ops again. Before any producer of this process existed, after a SIGKILL of
   * the previous run, this is the only way to know; after a failed delivery it is the same
   * question.
   */
  private long[] readTails(int partitions, long acked) {
    long[] h = new long[partitions];
    Arrays.fill(h, acked);
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(TopicTail.consumerConfig(producerProps))) {
      TopicTail tail =
          new TopicTail(
              c, topic, journal.meta().volume(), journal.meta().epoch(), codec, TAIL_TIMEOUT);
      StringBuilder found = new StringBuilder();
      for (int p = 0; p < partitions; p++) {
        h[p] = tail.heldThrough(p, acked);
        if (h[p] > acked) {
          found.append(found.length() == 0 ? "" : ", ").append(p).append(':').append(h[p]);
        }
      }
      if (found.length() > 0) {
        LOG.info(
            "{} already holds ops after the acknowledged seq {} (partition:seq through which it"
                + " holds every op of the partition: {}); they are acknowledged, not sent again",
            topic,
            acked,
            found);
      }
    } catch (AuthorizationException e) {
      // Shipping matters more than copies: without Read, ship as before and say what it costs.
      Arrays.fill(h, acked);
      LOG.error(
          "cannot read {} to find what an earlier run already shipped ({}): ops after seq {} are"
              + " sent again and consumers may see copies; grant this principal Read on the topic",
          topic,
          e.toString(),
          acked);
    }
    return h;
  }

  /**
   * Waits until the new topic is visible, every partition has a leader and every leader serves the
   * partition. An idempotent producer whose first batch to a new partition is refused
   * (NOT_LEADER_OR_FOLLOWER: the metadata names the leader before the broker has loaded the log)
   * while its next batches are accepted retries that first batch forever with
   * OUT_OF_ORDER_SEQUENCE_NUMBER, stalling the partition until the delivery timeout (seen in
   * ShipperTest). A list-offsets request goes to each leader and succeeds only once it serves.
   */
  private TopicDescription awaitLeaders(Admin admin) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    TopicDescription d = describe(admin);
    while (d == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topic " + topic + " not visible 30 s after creating it");
      }
      TimeUnit.MILLISECONDS.sleep(100);
      d = describe(admin);
    }
    Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
    for (var p : d.partitions()) {
      latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
    }
    long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    // The admin client retries LEADER_NOT_AVAILABLE and NOT_LEADER_OR_FOLLOWER itself until every
    // leader answers.
    admin.listOffsets(latest).all().get(left, TimeUnit.MILLISECONDS);
    return d;
  }

  private TopicDescription describe(Admin admin) throws Exception {
    try {
      Map<String, TopicDescription> m =
          admin.describeTopics(List.of(topic)).allTopicNames().get(15, TimeUnit.SECONDS);
      return m.get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return null;
      }
      throw e;
    }
  }

  private void send(JournalEntry e) throws InterruptedException {
    AtomicIntegerArray g = gate;
    int partition = e.partition();
    while (g.get(partition) == PRIMING) {
      if (failed.get() || stopping.get()) {
        throw new IllegalStateException("a delivery failed or shipping stops");
      }
      LockSupport.parkNanos(PRIME_POLL_NANOS);
    }
    boolean first = g.compareAndSet(partition, CLOSED, PRIMING);
    while (!inFlight.tryAcquire(50, TimeUnit.MILLISECONDS)) {
      acknowledge();
      if (failed.get() || stopping.get()) {
        throw new IllegalStateException("a delivery failed or shipping stops");
      }
    }
    byte[] value = schemaId >= 0 ? OpCodec.toConfluent(e.value(), schemaId) : e.value();
    long seq = e.seq();
    try {
      // The callback handles the outcome; the future adds nothing.
      var unused =
          producer.send(
              new ProducerRecord<>(topic, e.partition(), e.key(), value),
              (md, ex) -> {
                inFlight.release();
                if (ex != null) {
                  if (failed.compareAndSet(false, true)) {
                    LOG.warn("delivery of seq {} failed: {}", seq, ex.toString());
                  }
                  return;
                }
                if (first) {
                  g.set(partition, OPEN);
                }
                completed(seq);
              });
    } catch (RuntimeException ex) {
      inFlight.release();
      throw ex;
    }
  }

  private void completed(long seq) {
    watermark.done(seq);
  }

  private long lastAcked = -1;
  private long lastAckNanos;
  private long lastEntryNanos;

  /**
   * Records the contiguous acknowledged seq in the journal now. Each call that moves it costs the
   * journal an atomic file replace (two fsyncs), so while records stream the shipper does this at
   * most every {@link #ACK_INTERVAL_NANOS} ({@link #acknowledgeEvery}); when it runs out of
   * entries, waits for in-flight room, or stops, it acknowledges at once.
   */
  private void acknowledge() {
    long c = watermark.contiguous();
    if (c > lastAcked && c > 0) {
      journal.acknowledge(c);
      lastAcked = c;
      lastAckNanos = System.nanoTime();
    }
  }

  private void acknowledgeEvery(long intervalNanos) {
    if (System.nanoTime() - lastAckNanos >= intervalNanos) {
      acknowledge();
    }
  }

  private void closeProducer() {
    KafkaProducer<byte[], byte[]> p = producer;
    producer = null;
    if (p != null) {
      try {
        // Completes every outstanding callback (failed or not) before returning.
        p.close(Duration.ofSeconds(stopping.get() ? 1 : 5));
      } catch (RuntimeException e) {
        LOG.debug("producer close: {}", e.toString());
      }
    }
  }

  private void sleep(long ms) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (!stopping.get() && System.nanoTime() < end) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(50, ms)));
    }
  }

  /**
   * Waits until everything appended so far is acknowledged, at most {@code timeout}. Returns true
   * when it is.
   */
  public boolean awaitShipped(Duration timeout) {
    long target = journal.stats().nextSeq() - 1;
    long deadline = System.nanoTime() + timeout.toNanos();
    // Done when Kafka has it all and the journal recorded that (quota freed, segments deletable).
    while ((watermark.contiguous() < target || journal.stats().ackedSeq() < target)
        && System.nanoTime() < deadline
        && thread.isAlive()
        && !"REFUSED".equals(state)) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
    return watermark.contiguous() >= target && journal.stats().ackedSeq() >= target;
  }

  /** Stops the thread (without waiting for unshipped ops: call {@link #awaitShipped} first). */
  @Override
  public void close() {
    stopping.set(true);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(15));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (reader != null) {
      reader.close();
    }
    acknowledgeQuietly();
  }

  private void acknowledgeQuietly() {
    try {
      acknowledge();
    } catch (RuntimeException e) {
      LOG.debug("final acknowledge: {}", e.toString());
    }
  }
}
