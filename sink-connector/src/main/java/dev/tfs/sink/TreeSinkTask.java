package dev.tfs.sink;

import dev.tfs.connect.PluginVersion;
import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.SnapshotBegin;
import dev.tfs.op.schema.SnapshotEnd;
import dev.tfs.posix.PosixException;
import dev.tfs.registry.SchemaRegistryClient;
import dev.tfs.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * Applies one volume's ops to one mirror root: merges the topic's partitions by dense seq (G2),
 * applies each op exactly once in effect (G3) through a confined {@link MirrorApplier} (G5), holds
 * out-of-order records in a bounded buffer (G6), and stops loudly on a gap, an epoch change or a
 * foreign volume (G7).
 *
 * <p><b>Merge.</b> Each partition has a FIFO of records in offset order. The records of one
 * partition carry increasing seqs, chained by {@code partitionPrevSeq}; the chain is checked as
 * records arrive, so a record lost from a partition is detected when the next one arrives. The task
 * applies the head whose seq is the applied seq + 1, and drops heads at or below the applied seq
 * (duplicates from replays or shipper restarts). A partition whose head is beyond the next seq
 * cannot hold the next seq (its later records carry higher seqs), so when the buffer exceeds {@code
 * tfs.buffer.max.bytes} exactly those partitions are paused; a partition that is empty, or whose
 * head is the next seq, is never paused.
 *
 * <p><b>Position.</b> After every applied op the {@link MirrorState} records the applied seq and,
 * for the op's partition, the next offset and the last seq; {@link #open} seeks every partition to
 * its recorded offset (offset 0 for a partition the state does not know), and {@link #preCommit}
 * returns only those offsets. The committed consumer-group offsets therefore never run ahead of the
 * mirror, and the mirror's own state wins over them.
 *
 * <p>Connect calls a task from one thread; the status writer thread reads only {@link
 * SinkMetrics}'s volatile fields.
 */
public class TreeSinkTask extends SinkTask {
  private static final Logger log = LoggerFactory.getLogger(TreeSinkTask.class);

  /** Placeholder seq of an undecodable record whose seq is not yet known. */
  private static final long UNKNOWN = -1;

  /** Placeholder seq of an undecodable record that turned out not to be in the chain. */
  private static final long NOT_IN_CHAIN = -2;

  private TreeSinkConfig config;
  private String connector;
  private String topic;
  private boolean tolerateAll;
  private OpCodec codec;
  private MirrorApplier applier;
  private MirrorState state;
  private SinkMetrics metrics;
  private Long untilSeq;
  private Long untilTimeNs;
  private boolean targetReached;
  private long maxBytes;
  private long bufferedBytes;
  private long bufferedRecords;
  private long batch;
  private boolean stateDirty;
  private final Map<Integer, Part> parts = new TreeMap<>();
  private final List<Future<Void>> reports = new ArrayList<>();

  /** One buffered record (or an undecodable placeholder, op null). */
  private static final class Entry {
    final OpRecord op;
    final long offset;
    final int bytes;
    long seq;

    Entry(OpRecord op, long seq, long offset, int bytes) {
      this.op = op;
      this.seq = seq;
      this.offset = offset;
      this.bytes = bytes;
    }
  }

  /** A partition: its queue, chain position and seek bookkeeping. */
  private static final class Part {
    final TopicPartition tp;
    final MirrorState.PartitionPos pos;
    final ArrayDeque<Entry> queue = new ArrayDeque<>();
    long arrivedLast;
    Entry hole;
    boolean assigned;
    boolean paused;
    long awaitOffset = -1;
    long reseekBatch = -1;

    Part(TopicPartition tp, MirrorState.PartitionPos pos) {
      this.tp = tp;
      this.pos = pos;
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
    tolerateAll = "all".equalsIgnoreCase(props.getOrDefault("errors.tolerance", "none"));
    maxBytes = config.bufferMaxBytes();
    untilSeq = config.replayUntilSeq();
    untilTimeNs = config.replayUntilTimeNs();
    Path root = config.mirrorRoot();
    Path stateDir = config.stateDir();
    try {
      prepareRoot(root);
      Files.createDirectories(stateDir);
      Path realRoot = root.toRealPath();
      Path realState = stateDir.toRealPath();
      if (realRoot.startsWith(realState) || realState.startsWith(realRoot)) {
        throw new ConnectException(
            "tfs.mirror.root "
                + realRoot
                + " and tfs.state.dir "
                + realState
                + " overlap (after resolving symlinks); the state must live outside the mirrored"
                + " tree and vice versa");
      }
      Path stateFile = MirrorState.fileFor(stateDir, connector, root);
      state = MirrorState.open(stateFile);
      if (!state.existed()) {
        if (!isEmptyDir(root)) {
          throw new ConnectException(
              "the mirror root "
                  + root
                  + " holds files but has no state ("
                  + stateFile
                  + " is new): its content cannot be trusted to match any seq. Rebuild into an"
                  + " empty root (point tfs.mirror.root at a new empty directory), or empty this"
                  + " one");
        }
        state.mirrorRoot = root.toString();
        state.topic = topic;
        state.save();
        state.force();
      } else if (!state.topic.isEmpty() && !state.topic.equals(topic)) {
        throw new ConnectException(
            "the mirror at "
                + root
                + " was built from topic "
                + state.topic
                + ", not "
                + topic
                + "; use a new empty tfs.mirror.root for another topic");
      }
      if (config.volume() != null
          && !state.volume.isEmpty()
          && !state.volume.equals(config.volume())) {
        throw new ConnectException(
            "the mirror at "
                + root
                + " holds volume "
                + state.volume
                + " but tfs.volume is "
                + config.volume()
                + "; use a new empty tfs.mirror.root");
      }
      if (config.epoch() != null && state.epoch != 0 && state.epoch != config.epoch()) {
        throw new ConnectException(
            "the mirror at "
                + root
                + " holds journal epoch "
                + state.epoch
                + " but tfs.epoch is "
                + config.epoch()
                + "; rebuild epoch "
                + config.epoch()
                + " into a new empty tfs.mirror.root");
      }
      if (state.uncleanHostStop()) {
        // Ops after the last commit may not have reached the disk, in any order: re-applying them
        // is not safe (a rename re-applied after a later re-create would clobber), so say so.
        state.diverged = true;
        state.divergedReason =
            "the host stopped uncleanly (power loss or kernel crash) after this mirror recorded seq "
                + state.appliedSeq
                + " but had made only seq "
                + state.committedSeq
                + " durable; ops "
                + (state.committedSeq + 1)
                + ".."
                + state.appliedSeq
                + " may be missing from the mirror. Rebuild it into a new empty tfs.mirror.root to"
                + " be sure";
        log.error("{}: {}", connector, state.divergedReason);
      }
      state.cleanStop = false;
      state.save();
      if (untilSeq != null && untilSeq < state.appliedSeq) {
        throw new ConnectException(
            "tfs.replay.until.seq="
                + untilSeq
                + " is below the seq this mirror has already applied ("
                + state.appliedSeq
                + "); ops cannot be un-applied: replay into a fresh, empty tfs.mirror.root");
      }
      if (untilTimeNs != null && state.appliedSeq > 0 && state.appliedTimeNs > untilTimeNs) {
        throw new ConnectException(
            "tfs.replay.until.time is before the time of the last op this mirror applied (seq "
                + state.appliedSeq
                + "); ops cannot be un-applied: replay into a fresh, empty tfs.mirror.root");
      }
      applier = new MirrorApplier(root, config.ownerPolicy());
      String url = config.schemaRegistryUrl();
      codec = new OpCodec(url == null ? null : new SchemaRegistryClient(url));
      metrics = new SinkMetrics(connector, root.toString(), MirrorState.statusFileFor(stateFile));
      metrics.replayUntilSeq = untilSeq;
      metrics.replayUntilTimeNs = untilTimeNs;
      publish();
      metrics.start();
      if (untilSeq != null && state.appliedSeq == untilSeq) {
        reachTarget();
      }
      if (state.diverged) {
        log.warn(
            "{}: the mirror at {} is marked diverged: {}", connector, root, state.divergedReason);
      }
      log.info(
          "{}: mirroring topic {} into {} from seq {} (state {})",
          connector,
          topic,
          root,
          state.appliedSeq,
          stateFile);
    } catch (IOException e) {
      closeQuietly();
      throw new ConnectException("cannot open the mirror or its state: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  private static void prepareRoot(Path root) throws IOException {
    if (Files.isSymbolicLink(root)) {
      throw new ConnectException(
          "tfs.mirror.root " + root + " is a symlink; give the real directory");
    }
    Files.createDirectories(root);
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConnectException("tfs.mirror.root " + root + " is not a directory");
    }
    if (!Files.isWritable(root)) {
      throw new ConnectException(
          "tfs.mirror.root " + root + " is not writable by the worker's user");
    }
  }

  private static boolean isEmptyDir(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
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
      Part p = part(tp);
      dropBuffered(p);
      p.assigned = true;
      p.arrivedLast = p.pos.lastSeq;
      p.awaitOffset = p.pos.nextOffset;
      p.reseekBatch = -1;
      if (p.paused) {
        context.resume(tp);
        p.paused = false;
      }
      seek.put(tp, p.pos.nextOffset);
    }
    context.offset(seek);
    if (targetReached) {
      pauseAll();
    }
    publish();
  }

  @Override
  public void close(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      Part p = parts.get(tp.partition());
      if (p != null) {
        dropBuffered(p);
        p.assigned = false;
        p.paused = false;
      }
    }
    if (metrics != null) {
      publish();
    }
  }

  private Part part(TopicPartition tp) {
    return parts.computeIfAbsent(tp.partition(), k -> new Part(tp, state.partition(k)));
  }

  private void dropBuffered(Part p) {
    for (Entry e : p.queue) {
      bufferedBytes -= e.bytes;
      bufferedRecords--;
    }
    p.queue.clear();
    p.hole = null;
  }

  @Override
  public void put(Collection<SinkRecord> records) {
    batch++;
    for (SinkRecord r : records) {
      if (targetReached) {
        break; // paused; anything still delivered is re-read from the recorded offsets later
      }
      Part p = parts.get(r.kafkaPartition());
      if (p == null || !p.assigned || !topic.equals(r.topic())) {
        continue;
      }
      long offset = r.kafkaOffset();
      if (p.awaitOffset >= 0) {
        // Until our seek takes effect the consumer may deliver from the group's committed
        // position; drop what we already accounted for, and ask once more for what lies beyond.
        if (offset < p.awaitOffset) {
          continue;
        }
        if (offset > p.awaitOffset) {
          if (p.reseekBatch < 0) {
            context.offset(p.tp, p.awaitOffset);
            p.reseekBatch = batch;
            continue;
          }
          if (p.reseekBatch == batch) {
            continue;
          }
          // Seeked and still beyond: those offsets are gone; the chain check decides.
        }
        p.awaitOffset = -1;
      }
      if (offset < p.pos.nextOffset) {
        continue; // already applied or skipped
      }
      arrive(p, r);
    }
    drain();
    managePauses();
    if (stateDirty) {
      state.save();
      stateDirty = false;
    }
    publish();
  }

  private void arrive(Part p, SinkRecord r) {
    Object value = r.value();
    if (!(value instanceof byte[])) {
      throw new ConnectException(
          "record at "
              + where(r)
              + " has a value of type "
              + (value == null ? "null" : value.getClass().getName())
              + "; set value.converter="
              + "org.apache.kafka.connect.converters.ByteArrayConverter so op records arrive as"
              + " bytes");
    }
    byte[] bytes = (byte[]) value;
    OpRecord op;
    try {
      op = codec.decode(bytes);
    } catch (OpDecodeException e) {
      undecodable(p, r, e);
      return;
    } catch (SchemaRegistryException e) {
      if (e.retriable()) {
        throw new RetriableException(
            "schema registry unavailable while decoding " + where(r) + ": " + e.getMessage(), e);
      }
      undecodable(
          p,
          r,
          new OpDecodeException(
              OpDecodeException.Reason.UNRESOLVABLE_SCHEMA_ID, e.getMessage(), e));
      return;
    }
    Long pinned = config.epoch();
    if (pinned != null && op.getEpoch() != pinned) {
      // Another journal's history (tfs.epoch pins this mirror to one): not part of any chain.
      if (p.queue.isEmpty()) {
        account(p, r.kafkaOffset(), 0);
      } else {
        enqueue(p, new Entry(null, NOT_IN_CHAIN, r.kafkaOffset(), 0));
      }
      return;
    }
    checkIdentity(op, r);
    metrics.newestSeq = Math.max(metrics.newestSeq, op.getSeq());
    metrics.newestTimeNs = Math.max(metrics.newestTimeNs, op.getTime());
    if (p.hole != null) {
      // The undecodable record before this one was the op partitionPrevSeq names, if that seq is
      // beyond what this partition had; otherwise it was not part of the chain at all.
      if (op.getPartitionPrevSeq() > p.arrivedLast) {
        p.hole.seq = op.getPartitionPrevSeq();
        p.arrivedLast = op.getPartitionPrevSeq();
      } else {
        p.hole.seq = NOT_IN_CHAIN;
      }
      p.hole = null;
    }
    if (op.getSeq() <= p.arrivedLast) {
      // A duplicate (replay, shipper restart, redelivery).
      if (p.queue.isEmpty()) {
        account(p, r.kafkaOffset(), op.getSeq());
      } else {
        enqueue(p, new Entry(null, NOT_IN_CHAIN, r.kafkaOffset(), 0));
      }
      return;
    }
    if (op.getPartitionPrevSeq() != p.arrivedLast) {
      throw gap(p, r, op);
    }
    p.arrivedLast = op.getSeq();
    enqueue(p, new Entry(op, op.getSeq(), r.kafkaOffset(), bytes.length));
  }

  private void enqueue(Part p, Entry e) {
    p.queue.addLast(e);
    bufferedBytes += e.bytes;
    bufferedRecords++;
  }

  private void checkIdentity(OpRecord op, SinkRecord r) {
    if (op.getPartition() != r.kafkaPartition()) {
      throw stop(
          "op seq "
              + op.getSeq()
              + " at "
              + where(r)
              + " says it belongs to partition "
              + op.getPartition()
              + ": the topic was written with another partition count or partitioner than the"
              + " journal's, so the partition chains cannot prove completeness (G7). Re-create the"
              + " topic with the journal's partition count and re-ship, then rebuild this mirror"
              + " into a new empty tfs.mirror.root");
    }
    String expected = !state.volume.isEmpty() ? state.volume : config.volume();
    if (expected != null && !expected.equals(op.getVolume())) {
      throw stop(
          "op seq "
              + op.getSeq()
              + " at "
              + where(r)
              + " is of volume "
              + op.getVolume()
              + " but this mirror holds volume "
              + expected
              + " (G7): two volumes were shipped to one topic, or the connector reads the wrong"
              + " topic. Fix the topic; this mirror stays as of seq "
              + state.appliedSeq);
    }
    if (state.epoch != 0 && state.epoch != op.getEpoch()) {
      throw stop(
          "op seq "
              + op.getSeq()
              + " at "
              + where(r)
              + " is of journal epoch "
              + op.getEpoch()
              + " but this mirror applied epoch "
              + state.epoch
              + " up to seq "
              + state.appliedSeq
              + " (G7): the capture journal was created anew, so seqs restarted and this mirror"
              + " cannot continue. Rebuild: stop the connector, point tfs.mirror.root at a new empty"
              + " directory, set tfs.epoch="
              + op.getEpoch()
              + " (records of other epochs are then skipped), reset the offsets (DELETE"
              + " /connectors/"
              + connector
              + "/offsets) and resume");
    }
    if (state.epoch == 0) {
      state.epoch = op.getEpoch();
      state.volume = op.getVolume();
      stateDirty = true;
      metrics.epoch = state.epoch;
      metrics.volume = state.volume;
    }
  }

  private ConnectException gap(Part p, SinkRecord r, OpRecord op) {
    String missing =
        op.getPartitionPrevSeq() > p.arrivedLast
            ? "the op(s) of this partition after seq "
                + p.arrivedLast
                + " up to seq "
                + op.getPartitionPrevSeq()
                + " are missing"
            : "its chain does not continue from seq " + p.arrivedLast;
    return stop(
        "gap in partition "
            + p.tp
            + ": the record at offset "
            + r.kafkaOffset()
            + " has seq "
            + op.getSeq()
            + " and partitionPrevSeq "
            + op.getPartitionPrevSeq()
            + ", but the last op seen in this partition is seq "
            + p.arrivedLast
            + ", so "
            + missing
            + " (deleted by retention, or the topic was re-created) (G7). The mirror stays"
            + " consistent as of seq "
            + state.appliedSeq
            + " and cannot continue. To rebuild: stop the connector, point tfs.mirror.root at a"
            + " new empty directory, reset the offsets (DELETE /connectors/"
            + connector
            + "/offsets) and resume; if the topic no longer holds the start of the history,"
            + " re-bootstrap the capture (new epoch with a snapshot) first");
  }

  private ConnectException stop(String message) {
    log.error("{}: {}", connector, message);
    publish();
    metrics.taskState = "failed";
    metrics.failure = message;
    metrics.writeStatus();
    return new ConnectException(message);
  }

  private void undecodable(Part p, SinkRecord r, OpDecodeException e) {
    String reason = "undecodable op record at " + where(r) + ": " + e.getMessage();
    state.diverged = true;
    state.divergedReason = reason;
    state.save();
    metrics.diverged = true;
    metrics.divergedReason = reason;
    if (!tolerateAll) {
      throw stop(
          reason
              + ". The mirror is marked diverged. Set errors.tolerance=all (with a dead letter"
              + " queue topic) to skip such records, or rebuild the topic");
    }
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
    Entry placeholder = new Entry(null, UNKNOWN, r.kafkaOffset(), 0);
    enqueue(p, placeholder);
    p.hole = placeholder;
  }

  /** Applies every head that is next in seq order; drops duplicate heads. */
  private void drain() {
    while (!targetReached) {
      long next = state.appliedSeq + 1;
      Part found = null;
      for (Part p : parts.values()) {
        while (!p.queue.isEmpty()) {
          Entry h = p.queue.peekFirst();
          if (h.seq == NOT_IN_CHAIN || (h.seq > 0 && h.seq < next)) {
            p.queue.removeFirst();
            release(h);
            account(p, h.offset, Math.max(h.seq, 0));
            continue;
          }
          break;
        }
        Entry h = p.queue.peekFirst();
        if (h != null && h.seq == next) {
          found = p;
        }
      }
      if (found == null) {
        return;
      }
      Entry e = found.queue.peekFirst();
      if (e.op != null && beyondTarget(e.op)) {
        reachTarget();
        return;
      }
      found.queue.removeFirst();
      release(e);
      if (e.op == null) {
        // An undecodable record tolerated earlier: its seq is skipped, the mirror is diverged.
        state.appliedSeq = e.seq;
      } else {
        applyOne(e.op);
      }
      account(found, e.offset, e.seq);
      state.save();
      stateDirty = false;
      if (untilSeq != null && state.appliedSeq >= untilSeq) {
        reachTarget();
      }
    }
  }

  private boolean beyondTarget(OpRecord op) {
    return (untilSeq != null && op.getSeq() > untilSeq)
        || (untilTimeNs != null && op.getTime() > untilTimeNs);
  }

  private void applyOne(OpRecord op) {
    try {
      applier.apply(op);
    } catch (ApplyException e) {
      String what;
      switch (e.kind()) {
        case NO_SPACE:
          what = "disk full";
          break;
        case PERMISSION:
          what = "permission denied";
          break;
        case REFUSED:
          what = "op refused by confinement (G5)";
          break;
        case DIVERGED:
          what = "mirror diverged";
          break;
        default:
          what = "I/O error";
      }
      throw stop(
          what
              + " applying seq "
              + op.getSeq()
              + ": "
              + e.getMessage()
              + " (the mirror's state still says seq "
              + state.appliedSeq
              + ", so a restart re-applies this op)");
    }
    state.appliedSeq = op.getSeq();
    state.appliedTimeNs = op.getTime();
    Object body = op.getOp();
    if (body instanceof SnapshotBegin) {
      state.snapshot = MirrorState.Snapshot.RUNNING;
      state.snapshotBeginSeq = op.getSeq();
    } else if (body instanceof SnapshotEnd) {
      state.snapshot = MirrorState.Snapshot.DONE;
    }
    metrics.opsApplied++;
    metrics.bytesApplied += Ops.dataBytes(op);
  }

  private void release(Entry e) {
    bufferedBytes -= e.bytes;
    bufferedRecords--;
  }

  private void account(Part p, long offset, long seq) {
    p.pos.nextOffset = Math.max(p.pos.nextOffset, offset + 1);
    p.pos.lastSeq = Math.max(p.pos.lastSeq, seq);
    stateDirty = true;
  }

  private void reachTarget() {
    if (!targetReached) {
      targetReached = true;
      log.info(
          "{}: replay target reached at seq {}; pausing all partitions and idling",
          connector,
          state.appliedSeq);
    }
    for (Part p : parts.values()) {
      dropBuffered(p);
    }
    pauseAll();
  }

  private void pauseAll() {
    List<TopicPartition> tps = new ArrayList<>();
    for (Part p : parts.values()) {
      if (p.assigned && !p.paused) {
        p.paused = true;
        tps.add(p.tp);
      }
    }
    if (!tps.isEmpty() && context != null) {
      context.pause(tps.toArray(new TopicPartition[0]));
    }
  }

  /**
   * Pauses partitions that run ahead while the buffer is over its bound; resumes every paused
   * partition that could hold the next seq, and all of them once the buffer is below half.
   */
  private void managePauses() {
    if (targetReached) {
      return;
    }
    long next = state.appliedSeq + 1;
    List<TopicPartition> pause = new ArrayList<>();
    List<TopicPartition> resume = new ArrayList<>();
    for (Part p : parts.values()) {
      if (!p.assigned) {
        continue;
      }
      Entry h = p.queue.peekFirst();
      boolean ahead = h != null && h.seq > next;
      if (p.paused && (!ahead || bufferedBytes <= maxBytes / 2)) {
        p.paused = false;
        resume.add(p.tp);
      } else if (!p.paused && ahead && bufferedBytes > maxBytes) {
        p.paused = true;
        pause.add(p.tp);
      }
    }
    if (!pause.isEmpty()) {
      context.pause(pause.toArray(new TopicPartition[0]));
    }
    if (!resume.isEmpty()) {
      context.resume(resume.toArray(new TopicPartition[0]));
    }
  }

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
    if (stateDirty) {
      state.save();
      stateDirty = false;
    }
    if (config.fsyncAtCommit()) {
      try {
        applier.sync();
      } catch (PosixException e) {
        throw new ConnectException("cannot sync the mirror: " + e.getMessage(), e);
      }
      // The mirror is synced: everything applied so far is durable with this state.
      state.committedSeq = state.appliedSeq;
      state.save();
      state.force();
    }
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    for (Part p : parts.values()) {
      if (p.assigned) {
        out.put(p.tp, new OffsetAndMetadata(p.pos.nextOffset));
      }
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
          state.committedSeq = state.appliedSeq;
          state.cleanStop = true;
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
    if (metrics == null || state == null) {
      return;
    }
    metrics.appliedSeq = state.appliedSeq;
    metrics.appliedTimeNs = state.appliedTimeNs;
    metrics.volume = state.volume;
    metrics.epoch = state.epoch;
    metrics.bufferedBytes = bufferedBytes;
    metrics.bufferedRecords = bufferedRecords;
    metrics.diverged = state.diverged;
    metrics.divergedReason = state.divergedReason;
    metrics.targetReached = targetReached;
    metrics.snapshot = state.snapshot.name().toLowerCase(java.util.Locale.ROOT);
    metrics.paused =
        parts.values().stream().filter(p -> p.paused).mapToInt(p -> p.tp.partition()).toArray();
    metrics.waitingFor =
        bufferedRecords > 0 && !targetReached ? "seq " + (state.appliedSeq + 1) : "";
  }

  private static String where(SinkRecord r) {
    return "topic " + r.topic() + " partition " + r.kafkaPartition() + " offset " + r.kafkaOffset();
  }

  /** Test hook: the applied seq right now (the metrics lag behind within a put). */
  long appliedSeqNow() {
    return state == null ? -1 : state.appliedSeq;
  }

  /** Test hook: the live metrics. */
  SinkMetrics metrics() {
    return metrics;
  }
}
