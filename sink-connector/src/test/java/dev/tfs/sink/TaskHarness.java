package dev.tfs.sink;

import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.OpRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/**
 * Drives a real {@link TreeSinkTask} the way WorkerSinkTask does, over an in-memory topic: a
 * simulated consumer with per-partition positions that honors the task's seeks ({@code
 * context.offset}) before the next poll and never returns records of paused partitions. The order
 * in which partitions are polled is up to a {@link Strategy}, which is where the adversarial
 * interleavings come from. Records pause/resume calls and the buffer high-water mark.
 */
final class TaskHarness implements SinkTaskContext {
  /** Chooses which records the next poll returns. */
  interface Strategy {
    List<SinkRecord> poll(TaskHarness h, Random rnd);
  }

  final String topic;
  final int partitions;
  final List<List<SinkRecord>> log = new ArrayList<>();
  final long[] position;
  final Set<Integer> paused = new HashSet<>();
  final Set<Integer> everPaused = new HashSet<>();
  final Map<TopicPartition, Long> seeks = new HashMap<>();
  final Map<TopicPartition, Long> committed = new HashMap<>();
  final List<Object[]> reported = new ArrayList<>();

  /** Which partition holds each seq (from produceAll). */
  final Map<Long, Integer> partitionOfSeq = new HashMap<>();

  /** Pauses of a partition that held the next seq to apply: must never happen (deadlock). */
  final List<String> badPauses = new ArrayList<>();

  final Map<String, String> props;
  TreeSinkTask task;
  long maxBuffered;
  long maxBatchBytes;
  boolean withReporter;

  TaskHarness(String topic, int partitions, Map<String, String> props) {
    this.topic = topic;
    this.partitions = partitions;
    this.position = new long[partitions];
    this.props = props;
    for (int p = 0; p < partitions; p++) {
      log.add(new ArrayList<>());
    }
  }

  /** Appends a record value to partition p, as a producer would. */
  void produce(int p, byte[] key, byte[] value) {
    List<SinkRecord> l = log.get(p);
    l.add(new SinkRecord(topic, p, null, key, null, value, l.size()));
  }

  /** Produces every op of the history to its partition (the journal's order). */
  void produceAll(List<OpRecord> ops) {
    OpCodec codec = new OpCodec();
    for (OpRecord op : ops) {
      partitionOfSeq.putIfAbsent(op.getSeq(), op.getPartition());
      produce(op.getPartition(), dev.tfs.op.Ops.path(op), codec.encode(op));
    }
  }

  List<TopicPartition> tps() {
    List<TopicPartition> out = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      out.add(new TopicPartition(topic, p));
    }
    return out;
  }

  /** Starts a new task (as after a worker restart) from the committed offsets. */
  void startTask() {
    if (task != null && task.metrics() != null) {
      task.metrics().close(); // the old task was "killed": only its status thread is stopped
    }
    task = new TreeSinkTask();
    task.initialize(this);
    task.start(props);
    paused.clear();
    for (int p = 0; p < partitions; p++) {
      position[p] = committed.getOrDefault(new TopicPartition(topic, p), 0L);
    }
    task.open(tps());
  }

  /** Simulates a rebalance that takes and gives back every partition. */
  void rebalance() {
    task.close(tps());
    paused.clear();
    for (int p = 0; p < partitions; p++) {
      position[p] = committed.getOrDefault(new TopicPartition(topic, p), 0L);
    }
    task.open(tps());
  }

  /** One poll + put. */
  void pollOnce(Strategy s, Random rnd) {
    for (Map.Entry<TopicPartition, Long> e : seeks.entrySet()) {
      position[e.getKey().partition()] = e.getValue();
    }
    seeks.clear();
    List<SinkRecord> batch = s.poll(this, rnd);
    long bytes = 0;
    for (SinkRecord r : batch) {
      bytes += ((byte[]) r.value()).length;
    }
    maxBatchBytes = Math.max(maxBatchBytes, bytes);
    task.put(batch);
    maxBuffered = Math.max(maxBuffered, task.metrics().bufferedBytes);
  }

  void commit() {
    Map<TopicPartition, OffsetAndMetadata> current = new HashMap<>();
    for (TopicPartition tp : tps()) {
      current.put(tp, new OffsetAndMetadata(position[tp.partition()]));
    }
    Map<TopicPartition, OffsetAndMetadata> out = task.preCommit(current);
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : out.entrySet()) {
      committed.put(e.getKey(), e.getValue().offset());
    }
  }

  boolean deliverable(int p) {
    return !paused.contains(p) && position[p] < log.get(p).size();
  }

  /** Takes up to n records of partition p at its position. */
  List<SinkRecord> take(int p, int n) {
    List<SinkRecord> out = new ArrayList<>();
    List<SinkRecord> l = log.get(p);
    while (out.size() < n && position[p] < l.size()) {
      out.add(l.get((int) position[p]++));
    }
    return out;
  }

  long appliedSeq() {
    return task.metrics().appliedSeq;
  }

  // ------------------------------------------------------------------ SinkTaskContext

  @Override
  public Map<String, String> configs() {
    return props;
  }

  @Override
  public void offset(Map<TopicPartition, Long> offsets) {
    seeks.putAll(offsets);
  }

  @Override
  public void offset(TopicPartition tp, long offset) {
    seeks.put(tp, offset);
  }

  @Override
  public void timeout(long timeoutMs) {}

  @Override
  public Set<TopicPartition> assignment() {
    return new HashSet<>(tps());
  }

  @Override
  public void pause(TopicPartition... tps) {
    long next = task.appliedSeqNow() + 1;
    for (TopicPartition tp : tps) {
      Integer holder = partitionOfSeq.get(next);
      if (holder != null && holder == tp.partition() && !task.metrics().targetReached) {
        badPauses.add("paused " + tp + " which holds the next seq " + next);
      }
      paused.add(tp.partition());
      everPaused.add(tp.partition());
    }
  }

  @Override
  public void resume(TopicPartition... tps) {
    for (TopicPartition tp : tps) {
      paused.remove(tp.partition());
    }
  }

  @Override
  public void requestCommit() {}

  @Override
  public org.apache.kafka.common.metrics.PluginMetrics pluginMetrics() {
    return null;
  }

  @Override
  public ErrantRecordReporter errantRecordReporter() {
    if (!withReporter) {
      return null;
    }
    return new ErrantRecordReporter() {
      @Override
      public Future<Void> report(SinkRecord record, Throwable error) {
        reported.add(new Object[] {record, error});
        return CompletableFuture.completedFuture(null);
      }
    };
  }

  static Collection<Integer> all(int n) {
    List<Integer> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(i);
    }
    return l;
  }
}
