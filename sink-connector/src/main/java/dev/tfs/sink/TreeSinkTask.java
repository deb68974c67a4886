package dev.tfs.sink;

import dev.tfs.connect.PluginVersion;
import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.posix.PosixException;
import dev.tfs.registry.SchemaRegistryClient;
import dev.tfs.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Connect adapter of one mirror: Connect's {@code put/preCommit/open/close} delegate to the
 * parts that do the work. {@link MirrorAdmission} decides whether the mirror may be used at all;
 * {@link SeqMerge} merges the topic's partitions by dense seq (G2), holds out-of-order records in a
 * bounded buffer (G6) and detects gaps and unreachable seqs (G7); {@link MirrorApplier} applies
 * each op confined beneath the root (G5); {@link MirrorState} records the applied seq and
 * per-partition offsets after every op (G3); {@link SinkMetrics} publishes the figures; {@link
 * StopMessages} words every stop. This class turns the merge's decisions into {@code
 * SinkTaskContext} calls and every failure into a loud stop.
 *
 * <p><b>Position.</b> {@link #open} seeks every partition to its recorded offset (offset 0 for a
 * partition the state does not know), and {@link #preCommit} returns only those offsets: what is
 * durable with the mirror. The committed consumer-group offsets therefore never run ahead of the
 * mirror, and the mirror's own state wins over them.
 *
 * <p>Connect calls a task from one thread; the status writer thread reads only {@link
 * SinkMetrics}'s volatile fields.
 */
public class TreeSinkTask extends SinkTask {
  private static final Logger log = LoggerFactory.getLogger(TreeSinkTask.class);

  private TreeSinkConfig config;
  private String connector;
  private String topic;
  private boolean tolerateAll;
  private OpCodec codec;
  private MirrorApplier applier;
  private MirrorState state;
  private SeqMerge merge;
  private SinkMetrics metrics;
  private StopMessages stops;
  private Long untilSeq;
  private Long untilTimeNs;
  private boolean targetReached;
  private boolean stateDirty;
  private final List<Future<Void>> reports = new ArrayList<>();

  /**
   * A record the task cannot take; thrown while a batch is read, so the ops before it are applied
   * and recorded first. The message is built afterwards, when it can name the applied seq.
   */
  private static final class Refusal extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Supplier<String> message;

    Refusal(Supplier<String> message) {
      super(null, null, false, false);
      this.message = message;
    }
  }

  @Override
  public String version() {
    return PluginVersion.of(TreeSinkTask.class);
  }

  @Override
  public void start(Map<String, String> props) {
    config = new TreeSinkConfig(props);
    connector = props.getOrDefault("name", "tfs-sink");
    List<String> problems = TreeSinkConnector.crossCheck(props);
    if (!problems.isEmpty()) {
      throw new ConnectException("invalid configuration: " + String.join("; ", problems));
    }
    topic = props.get("topics").strip();
    stops = new StopMessages(connector, topic);
    tolerateAll = "all".equalsIgnoreCase(props.getOrDefault("errors.tolerance", "none"));
    untilSeq = config.replayUntilSeq();
    untilTimeNs = config.replayUntilTimeNs();
    Path root = config.mirrorRoot();
    try {
      state = MirrorAdmission.admit(config, connector, topic);
      merge =
          new SeqMerge(
              state.appliedSeq(), config.bufferMaxBytes(), config.gapTimeoutMs(), state::partition);
      SkippedNodes skipped =
          SkippedNodes.open(MirrorState.skippedFileFor(state.file()), !state.existed());
      applier = new MirrorApplier(root, config.ownerPolicy(), config.specialFiles(), skipped);
      String url = config.schemaRegistryUrl();
      codec = new OpCodec(url == null ? null : new SchemaRegistryClient(url));
      metrics =
          new SinkMetrics(connector, root.toString(), MirrorState.statusFileFor(state.file()));
      metrics.replayUntilSeq = untilSeq;
      metrics.replayUntilTimeNs = untilTimeNs;
      publish();
      metrics.start();
      if (untilSeq != null && state.appliedSeq() == untilSeq) {
        reachTarget();
      }
      if (state.diverged()) {
        log.warn(
            "{}: the mirror at {} is marked diverged: {}", connector, root, state.divergedReason());
      }
      log.info(
          "{}: mirroring topic {} into {} from seq {} (state {}; device nodes: {}, {} skipped so"
              + " far)",
          connector,
          topic,
          root,
          state.appliedSeq(),
          state.file(),
          config.specialFiles().name().toLowerCase(Locale.ROOT),
          applier.skippedSpecialFiles());
    } catch (IOException e) {
      closeQuietly();
      throw new ConnectException("cannot open the mirror or its state: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  @Override
  public void open(Collection<TopicPartition> partitions) {
    Map<TopicPartition, Long> seek = new HashMap<>();
    for (TopicPartition tp : partitions) {
      if (!tp.topic().equals(topic)) {
        throw new ConnectException(
            "assigned " + tp + " but this connector mirrors topic " + topic + " only");
      }
      if (merge.isPaused(tp.partition())) {
        context.resume(tp);
      }
      seek.put(tp, merge.open(tp.partition()));
    }
    context.offset(seek);
    if (targetReached) {
      pause(merge.pauseAll());
    }
    publish();
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      merge.close(tp.partition());
    }
    if (metrics != null) {
      publish();
    }
  }

  /**
   * Hands the batch to the merge and applies what is next in seq order. A record that cannot be
   * taken (undecodable without tolerance, a gap, another volume or epoch) stops the task, but only
   * after the ops before it were applied and recorded, so a restart resumes exactly at it. While
   * the next seq is missing the wait is timed; a seq no partition can deliver stops the task.
   */
  @Override
  public void put(Collection<SinkRecord> records) {
    merge.beginBatch();
    long now = System.currentTimeMillis();
    try {
      for (SinkRecord r : records) {
        if (targetReached) {
          break; // paused; anything still delivered is re-read from the recorded offsets later
        }
        if (!topic.equals(r.topic())) {
          continue;
        }
        int partition = r.kafkaPartition();
        switch (merge.admit(partition, r.kafkaOffset())) {
          case TAKE -> arrive(r, now);
          case RESEEK -> context.offset(tp(partition), merge.seekOffset(partition));
          case DROP -> {}
        }
      }
    } catch (Refusal e) {
      drain(); // the good prefix first (G3: recorded, so the restart resumes at the bad record)
      saveIfDirty();
      throw stop(e.message.get());
    }
    drain();
    managePauses();
    saveIfDirty();
    checkWait(now);
    publish();
  }

  private void arrive(SinkRecord r, long now) {
    Object value = r.value();
    if (!(value instanceof byte[] bytes)) {
      throw new Refusal(() -> stops.notBytes(where(r), value));
    }
    OpRecord op;
    try {
      op = codec.decode(bytes);
    } catch (OpDecodeException e) {
      undecodable(r, e, now);
      return;
    } catch (SchemaRegistryException e) {
      if (e.retriable()) {
        throw new RetriableException(
            "schema registry unavailable while decoding " + where(r) + ": " + e.getMessage(), e);
      }
      undecodable(
          r,
          new OpDecodeException(OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID, e.getMessage(), e),
          now);
      return;
    }
    Long pinned = config.epoch();
    if (pinned != null && op.getEpoch() != pinned) {
      // Another journal's history (tfs.epoch pins this mirror to one): not part of any chain.
      merge.arriveOutsideChain(r.kafkaPartition(), r.kafkaOffset(), now);
      return;
    }
    checkIdentity(op, r);
    metrics.newestSeq = Math.max(metrics.newestSeq, op.getSeq());
    metrics.newestTimeNs = Math.max(metrics.newestTimeNs, op.getTime());
    try {
      merge.arrive(r.kafkaPartition(), r.kafkaOffset(), op, bytes.length, now);
    } catch (SeqMerge.Gap g) {
      throw new Refusal(() -> stops.gap(g, state.appliedSeq()));
    }
  }

  private void checkIdentity(OpRecord op, SinkRecord r) {
    if (op.getPartition() != r.kafkaPartition()) {
      throw new Refusal(() -> stops.wrongPartition(op, where(r)));
    }
    String expected = !state.volume().isEmpty() ? state.volume() : config.volume();
    if (expected != null && !expected.equals(op.getVolume())) {
      throw new Refusal(() -> stops.otherVolume(op, where(r), expected, state.appliedSeq()));
    }
    if (state.epoch() != 0 && state.epoch() != op.getEpoch()) {
      long mirrorEpoch = state.epoch();
      throw new Refusal(() -> stops.otherEpoch(op, where(r), mirrorEpoch, state.appliedSeq()));
    }
    if (state.epoch() == 0) {
      state.pinIdentity(op.getVolume(), op.getEpoch());
      stateDirty = true;
      metrics.epoch = state.epoch();
      metrics.volume = state.volume();
    }
  }

  /**
   * Times the wait for the next seq; stops when no partition that could still deliver it sent a
   * record for {@code tfs.gap.timeout.ms} (see {@link SeqMerge}).
   */
  private void checkWait(long now) {
    if (targetReached || merge.updateWait(now) < 0 || !merge.unreachable(now)) {
      return;
    }
    throw stop(
        stops.unreachable(
            merge.waitingFor(),
            config.gapTimeoutMs(),
            merge.waitingSinceMs(),
            merge.newest(),
            state.appliedSeq()));
  }

  private ConnectException stop(String message) {
    log.error("{}: {}", connector, message);
    publish();
    metrics.taskState = "failed";
    metrics.failure = message;
    metrics.writeStatus();
    return new ConnectException(message);
  }

  private void undecodable(SinkRecord r, OpDecodeException e, long now) {
    String reason = "undecodable op record at " + where(r) + ": " + e.getMessage();
    if (!tolerateAll) {
      // Nothing is skipped: the mirror is not diverged, it stops before the record.
      throw new Refusal(() -> stops.undecodable(reason, state.appliedSeq()));
    }
    state.markDiverged(reason);
    state.save();
    metrics.diverged = true;
    metrics.divergedReason = reason;
    ErrantRecordReporter reporter = null;
    try {
      reporter = context.errantRecordReporter();
    } catch (NoSuchMethodError | NoClassDefFoundError ignored) {
      // Workers before Kafka 2.6 have no reporter.
    }
    if (reporter != null) {
      reports.add(reporter.report(r, new DataException(reason, e)));
    }
    log.error(
        "{}: {}; skipped (errors.tolerance=all); the mirror is now diverged", connector, reason);
    merge.arriveUndecodable(r.kafkaPartition(), r.kafkaOffset(), now);
  }

  /** Applies every record that is next in seq order. */
  private void drain() {
    while (!targetReached) {
      SeqMerge.Entry e = merge.next();
      if (e == null) {
        return;
      }
      OpRecord op = e.op();
      if (op != null && beyondTarget(op)) {
        reachTarget();
        return;
      }
      if (op == null) {
        // An undecodable record tolerated earlier: its seq is skipped, the mirror is diverged.
        state.recordSkipped(e.seq());
      } else {
        applyOne(op);
      }
      merge.done(e);
      state.save();
      stateDirty = false;
      if (untilSeq != null && state.appliedSeq() >= untilSeq) {
        reachTarget();
      }
    }
  }

  private boolean beyondTarget(OpRecord op) {
    return (untilSeq != null && op.getSeq() > untilSeq)
        || (untilTimeNs != null && op.getTime() > untilTimeNs);
  }

  // Metrics fields have one writer (this thread); volatile is for the JMX readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void applyOne(OpRecord op) {
    try {
      applier.apply(op);
    } catch (ApplyException e) {
      throw stop(stops.applyFailed(e, op.getSeq(), state.appliedSeq()));
    }
    state.recordApplied(op.getSeq(), op.getTime());
    switch (OpKind.of(op)) {
      case SNAPSHOT_BEGIN -> state.snapshotBegan(op.getSeq());
      case SNAPSHOT_END -> state.snapshotEnded();
      case CREATE,
          MKDIR,
          MKNOD,
          WRITE,
          TRUNCATE,
          FALLOCATE,
          UNLINK,
          RMDIR,
          RENAME,
          LINK,
          SYMLINK,
          SETATTR,
          SETXATTR,
          REMOVEXATTR -> {}
    }
    metrics.opsApplied++;
    metrics.bytesApplied += Ops.dataBytes(op);
  }

  private void reachTarget() {
    if (!targetReached) {
      targetReached = true;
      log.info(
          "{}: replay target reached at seq {}; pausing all partitions and idling",
          connector,
          state.appliedSeq());
    }
    merge.dropAll();
    pause(merge.pauseAll());
  }

  private void managePauses() {
    if (targetReached) {
      return;
    }
    SeqMerge.Pauses d = merge.pauses();
    pause(d.pause());
    if (!d.resume().isEmpty()) {
      context.resume(tps(d.resume()));
    }
  }

  private void pause(List<Integer> partitions) {
    if (!partitions.isEmpty() && context != null) {
      context.pause(tps(partitions));
    }
  }

  private TopicPartition tp(int partition) {
    return new TopicPartition(topic, partition);
  }

  private TopicPartition[] tps(List<Integer> partitions) {
    return partitions.stream().map(this::tp).toArray(TopicPartition[]::new);
  }

  private void saveIfDirty() {
    if (stateDirty) {
      state.save();
      stateDirty = false;
    }
  }

  /**
   * Returns only what is durable with the mirror (as the Confluent S3 sink returns only what it
   * uploaded): each assigned partition's next offset as the mirror state records it, after the
   * state (and, with {@code tfs.fsync=commit}, the mirror) was made durable.
   */
  @Override
  public Map<TopicPartition, OffsetAndMetadata> preCommit(
      Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    for (Future<Void> f : reports) {
      try {
        f.get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new ConnectException("reporting an undecodable record to the DLQ failed", e);
      }
    }
    reports.clear();
    saveIfDirty();
    if (config.fsyncAtCommit()) {
      try {
        applier.sync();
      } catch (PosixException e) {
        throw new ConnectException("cannot sync the mirror: " + e.getMessage(), e);
      }
      // The mirror is synced: everything applied so far is durable with this state.
      state.committed();
      state.save();
      state.force();
    }
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (Map.Entry<Integer, Long> e : merge.committable().entrySet()) {
      out.put(tp(e.getKey()), new OffsetAndMetadata(e.getValue()));
    }
    publish();
    metrics.writeStatus();
    return out;
  }

  @Override
  public void flush(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
    // preCommit does the work; Connect calls flush only through the default preCommit.
  }

  @Override
  public void stop() {
    if (metrics != null && !"failed".equals(metrics.taskState)) {
      metrics.taskState = "stopped";
    }
    closeQuietly();
  }

  private void closeQuietly() {
    if (state != null) {
      try {
        if (applier != null && !"failed".equals(metrics == null ? "" : metrics.taskState)) {
          // An orderly stop: make mirror and state durable together, so a later boot trusts them.
          applier.sync();
          state.committed();
          state.cleanStop(true);
        }
        state.save();
        state.force();
        state.close();
      } catch (IOException | RuntimeException e) {
        log.warn("{}: closing state: {}", connector, e.toString());
        try {
          state.close();
        } catch (IOException ignored) {
          // already reported
        }
      }
      state = null;
    }
    if (applier != null) {
      applier.close();
      applier = null;
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  private void publish() {
    if (metrics == null || state == null || "failed".equals(metrics.taskState)) {
      return; // after a stop the figures stay as they were when it stopped (close drops buffers)
    }
    metrics.appliedSeq = state.appliedSeq();
    metrics.appliedTimeNs = state.appliedTimeNs();
    metrics.volume = state.volume();
    metrics.epoch = state.epoch();
    metrics.bufferedBytes = merge.bufferedBytes();
    metrics.bufferedRecords = merge.bufferedRecords();
    metrics.diverged = state.diverged();
    metrics.skippedSpecialFiles = applier.skippedSpecialFiles();
    metrics.divergedReason = state.divergedReason();
    metrics.targetReached = targetReached;
    metrics.snapshot = state.snapshot().name().toLowerCase(Locale.ROOT);
    metrics.paused = merge.paused();
    boolean waiting = merge.bufferedRecords() > 0 && !targetReached;
    metrics.waitingFor = waiting ? "seq " + (state.appliedSeq() + 1) : "";
    metrics.waitingSinceMs = waiting && merge.waitingFor() > 0 ? merge.waitingSinceMs() : 0;
  }

  private static String where(SinkRecord r) {
    return "topic " + r.topic() + " partition " + r.kafkaPartition() + " offset " + r.kafkaOffset();
  }

  /** Test hook: the applied seq right now (the metrics lag behind within a put). */
  long appliedSeqNow() {
    return state == null ? -1 : state.appliedSeq();
  }

  /** Test hook: the live metrics. */
  SinkMetrics metrics() {
    return metrics;
  }
}
