package dev.tfs.capture.ship;

import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import dev.tfs.op.schema.OpRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an ops topic already holds of a journal's unacknowledged ops, read back from the end of each
 * partition before the shipper produces, so that a restarted shipper (after a SIGKILL, or after a
 * failed delivery) sends each seq to the topic once.
 *
 * <p>For each journal partition it answers {@link #heldThrough}: the highest seq {@code h} such
 * that every op of that partition with a seq in {@code (acked, h]} is in the topic. The shipper
 * acknowledges those ops without sending them. The answer is proved, not guessed from the newest
 * record: a partition's ops form a chain ({@code partitionPrevSeq}), and {@code h} is where the
 * chain read from the topic, starting at the first op above {@code acked}, breaks. The newest
 * record alone would not do: after a failed delivery an idempotent producer bumps its epoch and may
 * write later records of a partition although an earlier one was lost, so a partition can hold seq
 * 12 without seq 10; skipping everything up to its newest seq would lose 10.
 *
 * <p>Reading starts a few hundred records before the end and goes back in growing chunks until it
 * reaches an op of this journal at or below {@code acked}, an op of an earlier journal of the
 * volume (an older epoch: nothing before it is ours), or the start of the partition; at most {@link
 * #MAX_RECORDS} per partition (normally the unacknowledged ops are at most the in-flight window
 * plus one acknowledgement interval). Only the seq and chain link of each record are kept.
 *
 * <p>What does not fit is said loudly and never causes a skip: a record that does not decode as a
 * tfs op, an op of another volume or of a newer epoch (another tfs-capture ships to this topic),
 * seqs held above a hole (resent: consumers see copies of those), a scan that reached its limit.
 */
final class TopicTail {
  private static final Logger LOG = LoggerFactory.getLogger(TopicTail.class);

  /** Records read back first from each partition's end. */
  static final int FIRST_CHUNK = 512;

  /** Most records read back from one partition. */
  static final int MAX_RECORDS = 65_536;

  /** Most warnings about foreign records per partition (then one summary line). */
  private static final int MAX_WARNINGS = 5;

  /** An op of this journal read back from the topic: its seq and its partition chain link. */
  record Held(long seq, long partitionPrevSeq) {}

  private final Consumer<byte[], byte[]> consumer;
  private final String topic;
  private final String volume;
  private final long epoch;
  private final OpCodec codec;
  private final long deadlineNanos;

  /**
   * @param consumer a consumer without a group (partitions are assigned, not subscribed)
   * @param codec decodes the topic's values (with a registry when they use Confluent framing)
   * @param timeout for the whole read
   */
  TopicTail(
      Consumer<byte[], byte[]> consumer,
      String topic,
      String volume,
      long epoch,
      OpCodec codec,
      Duration timeout) {
    this.consumer = consumer;
    this.topic = topic;
    this.volume = volume;
    this.epoch = epoch;
    this.codec = codec;
    this.deadlineNanos = System.nanoTime() + timeout.toNanos();
  }

  /** Consumer settings: the producer's connection settings (SASL/TLS) plus a group-less reader. */
  static Properties consumerConfig(Properties user) {
    Properties p = new Properties();
    for (String k : user.stringPropertyNames()) {
      if (ConsumerConfig.configNames().contains(k)) {
        p.put(k, user.getProperty(k));
      }
    }
    p.remove(ConsumerConfig.GROUP_ID_CONFIG);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "tfs-shipper-tail");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // Below the high watermark only: what is there is committed and stays (acks=all).
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    // Bounded memory (G6): a few MiB of fetched bytes at a time, however large the records.
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(4 << 20));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(1 << 20));
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return p;
  }

  /**
   * The highest seq {@code h ≥ acked} such that partition {@code partition} holds every op of this
   * journal's partition with a seq in {@code (acked, h]}; {@code acked} when it holds none of them
   * (or none can be proved).
   *
   * @param acked every op up to it is known to be in the topic (acknowledged by Kafka)
   * @throws TimeoutException when the partition cannot be read within the timeout
   */
  long heldThrough(int partition, long acked) {
    TopicPartition tp = new TopicPartition(topic, partition);
    consumer.assign(List.of(tp));
    long begin = consumer.beginningOffsets(List.of(tp), remaining()).get(tp);
    long end = consumer.endOffsets(List.of(tp), remaining()).get(tp);
    Scan scan = new Scan(partition, acked);
    long to = end;
    long chunk = FIRST_CHUNK;
    while (to > begin && !scan.reachedBottom) {
      if (end - to >= MAX_RECORDS) {
        LOG.warn(
            "partition {} of {}: read back {} records without reaching seq {} (acknowledged) or an"
                + " earlier journal; ops of this partition the topic holds below offset {} are"
                + " sent again, and consumers see copies of them",
            partition,
            topic,
            end - to,
            acked,
            to);
        break;
      }
      long from = Math.max(begin, to - chunk);
      read(tp, from, to, scan);
      to = from;
      chunk = Math.min(chunk * 4, MAX_RECORDS);
    }
    scan.summarize();
    long through = chainEnd(scan.held, acked);
    long newest = acked;
    for (Held h : scan.held) {
      newest = Math.max(newest, h.seq());
    }
    if (newest > through) {
      LOG.warn(
          "partition {} of {} holds ops of this journal up to seq {}, but without a hole only up"
              + " to seq {}: a delivery failed before; the ops after the hole are sent again"
              + " (consumers see copies of some, nothing is lost)",
          partition,
          topic,
          newest,
          through);
    }
    return through;
  }

  /**
   * Where the chain of a partition's ops, starting at its first op above {@code acked}, breaks in
   * {@code held}: the last seq reached by following {@code partitionPrevSeq} links forward, or
   * {@code acked} when the first op above it is not held.
   */
  static long chainEnd(Collection<Held> held, long acked) {
    Map<Long, Long> next = new HashMap<>();
    long first = Long.MAX_VALUE;
    for (Held h : held) {
      if (h.seq() <= acked) {
        continue;
      }
      next.put(h.partitionPrevSeq(), h.seq());
      // In one journal, exactly one op of a partition links from at or below `acked` to above it.
      if (h.partitionPrevSeq() <= acked) {
        first = Math.min(first, h.seq());
      }
    }
    if (first == Long.MAX_VALUE) {
      return acked;
    }
    long cur = first;
    for (Long n = next.get(cur); n != null && n > cur; n = next.get(cur)) {
      cur = n;
    }
    return cur;
  }

  private void read(TopicPartition tp, long from, long to, Scan scan) {
    consumer.seek(tp, from);
    while (consumer.position(tp, remaining()) < to) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
        if (r.offset() < to) {
          scan.add(r);
        }
      }
      remaining();
    }
  }

  private Duration remaining() {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      throw new TimeoutException("reading the end of topic " + topic + " took too long");
    }
    return Duration.ofNanos(left);
  }

  /** What one partition's records told so far. */
  private final class Scan {
    final int partition;
    final long acked;
    final List<Held> held = new ArrayList<>();
    boolean reachedBottom;
    int foreign;
    long olderEpoch = -1;

    Scan(int partition, long acked) {
      this.partition = partition;
      this.acked = acked;
    }

    void add(ConsumerRecord<byte[], byte[]> r) {
      OpRecord op;
      try {
        op = codec.decode(r.value());
      } catch (OpDecodeException e) {
        foreign("does not decode as a tfs op (" + e.getMessage() + ")", r);
        return;
      }
      if (!volume.equals(op.getVolume())) {
        foreign("holds an op of volume " + op.getVolume() + ", not " + volume, r);
      } else if (op.getEpoch() < epoch) {
        // An earlier journal of this volume: everything before it is older still.
        reachedBottom = true;
        olderEpoch = op.getEpoch();
      } else if (op.getEpoch() > epoch) {
        foreign(
            "holds an op of epoch "
                + op.getEpoch()
                + ", newer than this journal's "
                + epoch
                + ": another tfs-capture with a newer journal of this volume ships here",
            r);
      } else if (op.getSeq() <= acked) {
        reachedBottom = true;
      } else {
        held.add(new Held(op.getSeq(), op.getPartitionPrevSeq()));
      }
    }

    private void foreign(String what, ConsumerRecord<byte[], byte[]> r) {
      if (++foreign <= MAX_WARNINGS) {
        LOG.warn(
            "{}-{} offset {} {}; it is left alone and does not count as shipped",
            topic,
            partition,
            r.offset(),
            what);
      }
    }

    void summarize() {
      if (foreign > MAX_WARNINGS) {
        LOG.warn(
            "{}-{}: {} records near the end are not ops of this journal (first {} listed above)",
            topic,
            partition,
            foreign,
            MAX_WARNINGS);
      }
      if (olderEpoch >= 0 && held.isEmpty()) {
        LOG.info(
            "{}-{} ends with ops of an earlier journal (epoch {}); none of epoch {} yet",
            topic,
            partition,
            olderEpoch,
            epoch);
      }
    }
  }
}
