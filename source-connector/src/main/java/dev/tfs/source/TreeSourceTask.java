package dev.tfs.source;

import dev.tfs.connect.PluginVersion;
import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalException;
import dev.tfs.journal.JournalMeta;
import dev.tfs.journal.JournalNotReadyException;
import dev.tfs.journal.JournalReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tails one capture journal in seq order and hands every op to Connect as a record: topic as
 * configured, Kafka partition = the partition the journal assigned the op, key = the op's path
 * bytes, value = the journal's value bytes (re-framed for a schema registry when one is
 * configured). That is exactly what tfs-capture's built-in shipper sends, so the topic is the same
 * whichever of the two ships it.
 *
 * <p><b>Source partition and offset.</b> {@code {"volume", "epoch"}} and {@code {"seq"}} (see
 * {@link SourceOffsets}). On its first poll the task opens the journal, reads the committed offset
 * of the journal's (volume, epoch) and continues at {@code seq + 1} (seq 1 when there is none). If
 * the journal no longer holds that seq, the task fails and says which seqs are missing and what to
 * do (G7): it never skips ahead silently.
 *
 * <p><b>Waiting, not failing.</b> A journal directory that does not exist yet, a journal without
 * ops, or an op still being written make {@code poll()} wait {@code tfs.poll.interval.ms} and
 * return null. A damaged entry, a seq gap, a journal of another volume or a journal recreated under
 * the task (new epoch) fail the task with the journal's file, segment and position and what to do.
 *
 * <p><b>Acknowledgement: the journal is only trimmed to what Kafka has.</b> The task writes a seq
 * to the journal's {@code acked} file ({@link JournalReader#acknowledge}), which lets tfs-capture
 * delete segments, only when all three hold:
 *
 * <ol>
 *   <li>Connect reported it and every lower seq through {@link #commitRecord} (a contiguous
 *       watermark, {@link dev.tfs.journal.AckWatermark}; the bookkeeping is {@link SourceAcks});
 *   <li>Connect's offset store holds a committed offset at or above it: the task reads the offset
 *       back ({@code offsetStorageReader()}) after Connect called {@link #commit()}, at most every
 *       {@code tfs.ack.interval.ms};
 *   <li>the task read it from the journal itself in this run (so an offset moved past the journal's
 *       end through the REST API can never make the acked file claim seqs the journal does not
 *       have, which tfs-capture would refuse at its next start).
 * </ol>
 *
 * What this relies on, verified in the Connect 4.3.1 runtime ({@code WorkerSourceTask}, {@code
 * ExactlyOnceWorkerSourceTask}, {@code AbstractWorkerSourceTask}):
 *
 * <ul>
 *   <li>Without exactly-once support, {@code commitRecord} is called from the producer callback
 *       once Kafka acknowledged the record (worker producers use {@code acks=all}), <em>before</em>
 *       the record is marked committable for the offset commit, and {@code commit()} only after an
 *       offset flush succeeded (or found nothing to flush). Acknowledging on {@code commitRecord}
 *       alone would therefore let the journal be trimmed above the committed offset: a worker
 *       killed before its next offset flush would restart below the journal's first seq and fail
 *       for ops Kafka actually has. Condition 2 closes that window.
 *   <li>With exactly-once support ({@code exactly.once.source.support=enabled}), {@code
 *       commitRecord} is called only after {@code producer.commitTransaction()} returned, for the
 *       records of that transaction, whose offsets were written in the same transaction; then
 *       {@code commit()}. Records of an aborted transaction are never reported.
 *   <li>{@code commitRecord} with null metadata means the record was dropped (a transformation
 *       filtered it, or {@code errors.tolerance=all} skipped a failed send); it counts as done, so
 *       the journal does not fill up behind it, and is logged: mirrors will stop at the gap.
 *   <li>{@code stop()} is called after the final offset commit, while the offset reader is still
 *       open; the task acknowledges once more there.
 * </ul>
 *
 * <p><b>Threads.</b> Connect calls {@code poll()} on the task thread, {@code commitRecord} on
 * producer callback threads (or the task thread), {@code commit()} on the offset committer thread
 * (or the task thread) and {@code stop()} on the task thread in current runtimes (on another one in
 * older ones). The journal reader is used under one lock and the acked file is written from the
 * polling thread only; the idle wait happens outside the lock and ends early on {@code stop()}.
 */
public class TreeSourceTask extends SourceTask {
  private static final Logger log = LoggerFactory.getLogger(TreeSourceTask.class);

  /** How often a progress line is logged at INFO while ops flow. */
  private static final long PROGRESS_LOG_NANOS = TimeUnit.SECONDS.toNanos(60);

  private static final long LAG_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private String connector;
  private Path dir;
  private String volume;
  private String topic;
  private int maxRecords;
  private long maxBytes;
  private long pollIntervalMs;
  private long ackIntervalNanos;
  private String registryUrl;
  private ValueFramer framer;

  private final Object lock = new Object();
  private JournalReader reader;
  private Map<String, Object> sourcePartition;
  private long epoch;

  /** The seq the next op read from the journal must have. */
  private long nextSeq;

  /** The highest seq read from the journal in this run, 0 when none. */
  private long lastReadSeq;

  /** The committed seq, re-read to acknowledge it after a restart (0: none). */
  private long tailSeq;

  /** A journal failure met after some ops of a batch: thrown by the next poll. */
  private ConnectException pendingFailure;

  /** What may be written to the acked file; null until start(). */
  private volatile SourceAcks acks;

  private long lastLagCheckNanos;
  private long lastProgressNanos;
  private long lastProgressSeq;
  private boolean waitingLogged;
  private volatile boolean stopped;
  private final CountDownLatch stopLatch = new CountDownLatch(1);
  private volatile SourceMetrics metrics;

  @Override
  public String version() {
    return PluginVersion.of(TreeSourceTask.class);
  }

  @Override
  public void start(Map<String, String> props) {
    TreeSourceConfig config = new TreeSourceConfig(props);
    connector = props.getOrDefault("name", "tfs-source");
    dir = config.journalDir();
    volume = config.volume();
    topic = config.topic();
    maxRecords = config.batchMaxRecords();
    maxBytes = config.batchMaxBytes();
    pollIntervalMs = config.pollIntervalMs();
    ackIntervalNanos = TimeUnit.MILLISECONDS.toNanos(config.ackIntervalMs());
    registryUrl = config.schemaRegistryUrl();
    framer = new ValueFramer(connector, topic, registryUrl);
    metrics = new SourceMetrics(connector, dir.toString(), volume, topic);
    metrics.state = "waiting for journal";
    metrics.register();
    acks = new SourceAcks(connector, dir, ackIntervalNanos, metrics);
    lastProgressNanos = System.nanoTime();
    log.info(
        "{}: shipping journal {} (volume {}) to topic {}{}",
        connector,
        dir,
        volume,
        topic,
        registryUrl == null ? "" : " in Confluent framing (schema registry)");
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    List<SourceRecord> batch;
    synchronized (lock) {
      if (stopped) {
        return null;
      }
      try {
        batch = pollLocked();
      } catch (RetriableException e) {
        metrics.error(e.getMessage());
        throw e;
      } catch (RuntimeException e) {
        metrics.error(e.getMessage());
        metrics.state = "failed: " + e.getMessage();
        log.error("{}: {}", connector, e.getMessage());
        closeReader();
        throw e;
      }
    }
    if (batch == null) {
      stopLatch.await(pollIntervalMs, TimeUnit.MILLISECONDS);
    }
    return batch;
  }

  // Metrics fields have one writer (this thread); volatile is for the JMX readers.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private List<SourceRecord> pollLocked() {
    if (pendingFailure != null) {
      throw pendingFailure;
    }
    if (reader == null && !open()) {
      return null;
    }
    acks.maybeAcknowledge(
        reader,
        lastReadSeq,
        () -> SourceOffsets.checkOffset(context.offsetStorageReader().offset(sourcePartition)),
        this::journalFailure);
    framer.ensureSchemaId();
    List<SourceRecord> out = null;
    long bytes = 0;
    boolean end = false;
    while (out == null || (out.size() < maxRecords && bytes < maxBytes)) {
      JournalEntry e;
      byte[] value;
      try {
        e = next();
        if (e == null) {
          end = true;
          break;
        }
        if (tailSeq != 0 && e.seq() == tailSeq) {
          tailSeq = 0;
          lastReadSeq = e.seq();
          acks.acknowledgeCommittedTail(reader, e.seq(), this::journalFailure);
          continue;
        }
        if (e.seq() != nextSeq) {
          throw new ConnectException(
              "seq gap in journal "
                  + dir
                  + ": expected seq "
                  + nextSeq
                  + ", read seq "
                  + e.seq()
                  + " in segment "
                  + e.segment()
                  + " at position "
                  + e.position()
                  + ". Ops up to seq "
                  + (nextSeq - 1)
                  + " were shipped; nothing after them is, since mirrors would diverge (G7)");
        }
        value = framer.frame(e);
      } catch (ConnectException ex) {
        if (out == null || ex instanceof RetriableException) {
          throw ex;
        }
        // Ship the good ops read before the failure; fail on the next poll.
        pendingFailure = ex;
        break;
      }
      if (out == null) {
        out = new ArrayList<>(Math.min(maxRecords, 1024));
      }
      out.add(
          new SourceRecord(
              sourcePartition,
              SourceOffsets.offset(e.seq()),
              topic,
              e.partition(),
              Schema.BYTES_SCHEMA,
              e.key(),
              Schema.BYTES_SCHEMA,
              value));
      bytes += e.key().length + value.length;
      lastReadSeq = e.seq();
      nextSeq = e.seq() + 1;
    }
    metrics.caughtUp = end;
    updateLag(end);
    if (out == null) {
      return null;
    }
    metrics.emittedSeq = lastReadSeq;
    metrics.recordsEmitted += out.size();
    metrics.bytesEmitted += bytes;
    metrics.pollBatches++;
    maybeLogProgress();
    return out;
  }

  /** The next op from the journal, null when none is there yet; journal failures made loud. */
  private JournalEntry next() {
    try {
      return reader.poll();
    } catch (JournalException e) {
      throw journalFailure(e);
    }
  }

  /** Opens the journal and positions it after the committed offset; false when it is not there. */
  private boolean open() {
    JournalReader r;
    try {
      r = JournalReader.open(dir);
    } catch (JournalNotReadyException e) {
      if (!waitingLogged) {
        log.info("{}: waiting for the journal: {}", connector, e.getMessage());
        waitingLogged = true;
      }
      metrics.state = "waiting for journal";
      return false;
    } catch (JournalException e) {
      throw new ConnectException("cannot open journal " + dir + ": " + e.getMessage(), e);
    }
    try {
      JournalMeta meta = r.meta();
      if (!meta.volume().equals(volume)) {
        throw new ConnectException(
            "journal "
                + dir
                + " belongs to volume '"
                + meta.volume()
                + "', but this connector ships volume '"
                + volume
                + "' (tfs.volume). Point tfs.journal.dir at the journal of volume '"
                + volume
                + "' or correct tfs.volume; one topic must never mix two volumes' histories");
      }
      Map<String, Object> partition = SourceOffsets.partition(volume, meta.epoch());
      Long committed = committedSeq(partition);
      long start = committed == null ? 1 : committed + 1;
      long first = r.firstRetainedSeq();
      long acked = r.ackedSeq();
      if (first > start) {
        throw SourceFailures.missing(dir, connector, topic, meta, committed, start, first, acked);
      }
      // The committed seq itself is read once more (not emitted) when it is still in the journal
      // and not yet acknowledged: the run that committed it may have stopped before recording it
      // (Connect closes the offset reader before stop()), and reading it proves the journal has
      // it, so the acked file can never claim a seq the journal lacks.
      tailSeq =
          committed != null && committed >= 1 && committed >= first && committed > acked
              ? committed
              : 0;
      r.seek(tailSeq != 0 ? tailSeq : start);
      reader = r;
      epoch = meta.epoch();
      sourcePartition = partition;
      nextSeq = start;
      lastReadSeq = 0;
      acks.reset(start, acked);
      metrics.epoch = epoch;
      metrics.emittedSeq = start - 1;
      metrics.committedSeq = start - 1;
      metrics.acknowledgedSeq = acked;
      metrics.state = "running";
      lastProgressSeq = start - 1;
      log.info(
          "{}: journal {} open: volume {}, epoch {}, {} partitions; committed offset {}, shipping"
              + " from seq {}; the journal holds seqs from {} (acknowledged up to {})",
          connector,
          dir,
          volume,
          epoch,
          meta.partitions(),
          committed == null ? "none" : "seq " + committed,
          start,
          first == 0 ? "(none yet)" : first,
          acked);
      return true;
    } catch (JournalException e) {
      r.close();
      throw journalFailure(e);
    } catch (RuntimeException e) {
      r.close();
      throw e;
    }
  }

  private Long committedSeq(Map<String, Object> partition) {
    Map<String, Object> offset = context.offsetStorageReader().offset(partition);
    try {
      return SourceOffsets.checkOffset(offset);
    } catch (IllegalArgumentException e) {
      throw new ConnectException(
          "the committed offset of source partition "
              + partition
              + " is invalid: "
              + e.getMessage()
              + ". Stop the connector and set it with PATCH /connectors/"
              + connector
              + "/offsets (offset {\"seq\": <last seq shipped>})");
    }
  }

  private ConnectException journalFailure(JournalException e) {
    String shipped =
        sourcePartition == null
            ? ""
            : " Ops up to seq " + (nextSeq - 1) + " of epoch " + epoch + " were shipped.";
    return SourceFailures.of(e, dir, shipped);
  }

  private void updateLag(boolean end) {
    if (end) {
      metrics.journalLagOps = 0;
      return;
    }
    long now = System.nanoTime();
    if (now - lastLagCheckNanos < LAG_CHECK_NANOS) {
      return;
    }
    lastLagCheckNanos = now;
    long newest = 0;
    try {
      newest = reader.newestSeq();
    } catch (JournalException e) {
      log.debug("lag estimate: {}", e.toString());
    }
    metrics.journalLagOps = Math.max(1, newest - lastReadSeq);
  }

  private void maybeLogProgress() {
    long now = System.nanoTime();
    if (now - lastProgressNanos < PROGRESS_LOG_NANOS) {
      return;
    }
    log.info(
        "{}: emitted up to seq {} (+{} in {} s), in Kafka up to seq {}, acknowledged up to seq {},"
            + " journal lag {} ops",
        connector,
        lastReadSeq,
        lastReadSeq - lastProgressSeq,
        TimeUnit.NANOSECONDS.toSeconds(now - lastProgressNanos),
        acks.contiguous(),
        acks.acknowledged(),
        metrics.journalLagOps);
    lastProgressNanos = now;
    lastProgressSeq = lastReadSeq;
  }

  /**
   * Connect reports a record written to Kafka (with exactly-once support: in a committed
   * transaction). Null metadata: the record was dropped by a transformation or error tolerance.
   */
  @Override
  public void commitRecord(SourceRecord record, RecordMetadata metadata) {
    Object s = record.sourceOffset() == null ? null : record.sourceOffset().get(SourceOffsets.SEQ);
    if (!(s instanceof Long seq)) {
      return;
    }
    SourceAcks a = acks;
    if (a == null) {
      return;
    }
    metrics.committedSeq = a.done(seq, metadata == null);
  }

  /** Connect committed offsets (with exactly-once support: a transaction). */
  @Override
  public void commit() {
    SourceAcks a = acks;
    SourceMetrics m = metrics;
    if (a != null && m != null) {
      m.commits = a.committed();
    }
  }

  @Override
  public void stop() {
    stopped = true;
    stopLatch.countDown();
    synchronized (lock) {
      closeReader();
      if (metrics != null) {
        if (!metrics.state.startsWith("failed")) {
          metrics.state = "stopped";
        }
        metrics.close();
      }
    }
    log.info(
        "{}: stopped; emitted up to seq {}, acknowledged up to seq {}",
        connector,
        lastReadSeq,
        acks == null ? 0 : acks.acknowledged());
  }

  private void closeReader() {
    if (reader != null) {
      reader.close();
      reader = null;
    }
  }

  // ------------------------------------------------------------------ for tests

  long acknowledgedSeq() {
    return acks.acknowledged();
  }

  SourceMetrics metrics() {
    return metrics;
  }
}
