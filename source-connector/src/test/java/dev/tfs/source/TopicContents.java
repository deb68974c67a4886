package dev.tfs.source;

import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Everything a topic holds, read with a plain consumer, and checks on the seqs in it. */
final class TopicContents {
  static final OpCodec CODEC = new OpCodec();

  final String topic;
  final int partitions;

  /** Records per partition, in offset order. */
  final Map<Integer, List<ConsumerRecord<byte[], byte[]>>> byPartition = new TreeMap<>();

  private TopicContents(String topic, int partitions) {
    this.topic = topic;
    this.partitions = partitions;
  }

  /**
   * Reads {@code topic} from the beginning to its end as of now. {@code readCommitted}: only
   * records of committed transactions (and non-transactional ones), as mirrors read them.
   */
  static TopicContents read(String bootstrap, String topic, boolean readCommitted) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(
        ConsumerConfig.ISOLATION_LEVEL_CONFIG,
        readCommitted ? "read_committed" : "read_uncommitted");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(15));
      if (infos == null || infos.isEmpty()) {
        return new TopicContents(topic, 0);
      }
      TopicContents out = new TopicContents(topic, infos.size());
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo i : infos) {
        tps.add(new TopicPartition(topic, i.partition()));
        out.byPartition.put(i.partition(), new ArrayList<>());
      }
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(15));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end " + end);
        }
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            out.byPartition.get(r.partition()).add(r);
          }
        }
      }
      return out;
    }
  }

  int count() {
    return byPartition.values().stream().mapToInt(List::size).sum();
  }

  static long seq(ConsumerRecord<byte[], byte[]> r) {
    try {
      return CODEC.decode(r.value()).getSeq();
    } catch (OpDecodeException e) {
      throw new AssertionError(
          "undecodable record at " + r.topic() + "/" + r.partition() + "@" + r.offset(), e);
    }
  }

  /** How many times each seq occurs. */
  Map<Long, Integer> seqCounts() {
    Map<Long, Integer> m = new TreeMap<>();
    for (List<ConsumerRecord<byte[], byte[]>> l : byPartition.values()) {
      for (ConsumerRecord<byte[], byte[]> r : l) {
        m.merge(seq(r), 1, Integer::sum);
      }
    }
    return m;
  }

  /** Every seq 1..n at least once and nothing else. */
  void assertEverySeqAtLeastOnce(long n) {
    Map<Long, Integer> counts = seqCounts();
    List<String> problems = new ArrayList<>();
    for (long s = 1; s <= n; s++) {
      if (!counts.containsKey(s)) {
        problems.add("seq " + s + " missing");
      }
    }
    for (Long s : counts.keySet()) {
      if (s < 1 || s > n) {
        problems.add("unexpected seq " + s);
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          topic
              + ": "
              + problems.size()
              + " problem(s), first: "
              + problems.subList(0, Math.min(20, problems.size())));
    }
  }

  /** Every seq 1..n exactly once and nothing else; each partition in increasing seq order. */
  void assertEverySeqExactlyOnce(long n) {
    Map<Long, Integer> counts = seqCounts();
    List<String> problems = new ArrayList<>();
    for (long s = 1; s <= n; s++) {
      Integer c = counts.get(s);
      if (c == null || c != 1) {
        problems.add("seq " + s + " x" + (c == null ? 0 : c));
      }
    }
    for (Long s : counts.keySet()) {
      if (s < 1 || s > n) {
        problems.add("unexpected seq " + s);
      }
    }
    for (Map.Entry<Integer, List<ConsumerRecord<byte[], byte[]>>> e : byPartition.entrySet()) {
      long prev = 0;
      for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
        long s = seq(r);
        if (s <= prev) {
          problems.add("partition " + e.getKey() + " has seq " + s + " after " + prev);
        }
        prev = s;
      }
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          topic
              + ": "
              + problems.size()
              + " problem(s), first: "
              + problems.subList(0, Math.min(20, problems.size())));
    }
  }
}
