package dev.tfs.sink;

import dev.tfs.connect.MXBeanRegistration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task's live figures, published three ways: the {@link TreeSinkMXBean} over JMX, a status file
 * ({@code <name>-<roothash>.status.json} next to the state) that {@code ./tfs status} reads, and
 * log lines on failure. The task thread sets fields; a daemon thread rewrites the status file about
 * every second and computes rates. All fields are volatile: readers see a recent, not an atomic,
 * picture.
 */
final class SinkMetrics implements TreeSinkMXBean, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SinkMetrics.class);

  private final String connector;
  private final String mirrorRoot;
  private final Path statusFile;
  private MXBeanRegistration bean;
  private Thread writer;
  private volatile boolean closed;

  volatile String volume = "";
  volatile long epoch;
  volatile long appliedSeq;
  volatile long appliedTimeNs;
  volatile long newestSeq;
  volatile long newestTimeNs;
  volatile long opsApplied;
  volatile long bytesApplied;
  volatile long bufferedRecords;
  volatile long bufferedBytes;
  volatile int[] paused = new int[0];
  volatile boolean diverged;
  volatile long skippedSpecialFiles;
  volatile String divergedReason = "";
  volatile Long replayUntilSeq;
  volatile Long replayUntilTimeNs;
  volatile boolean targetReached;
  volatile String snapshot = "none";
  volatile String waitingFor = "";

  /** Wall-clock ms since which the task waits for {@link #waitingFor} (0: not waiting). */
  volatile long waitingSinceMs;

  volatile String taskState = "running";
  volatile String failure = "";

  private volatile double opsPerSecond;
  private volatile double bytesPerSecond;
  private long lastOps;
  private long lastBytes;
  private long lastNanos = System.nanoTime();

  SinkMetrics(String connector, String mirrorRoot, Path statusFile) {
    this.connector = connector;
    this.mirrorRoot = mirrorRoot;
    this.statusFile = statusFile;
  }

  /** Registers the MXBean (replacing a stale one of the same name) and starts the status writer. */
  void start() {
    bean = MXBeanRegistration.register("sink", connector, this);
    writer = new Thread(this::writeLoop, "tfs-sink-status-" + connector);
    writer.setDaemon(true);
    writer.start();
  }

  private void writeLoop() {
    while (!closed) {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
      tick();
      writeStatus();
    }
  }

  /** Recomputes the rates from the counters. */
  synchronized void tick() {
    long now = System.nanoTime();
    double dt = (now - lastNanos) / 1e9;
    if (dt > 0.2) {
      long ops = opsApplied;
      long bytes = bytesApplied;
      opsPerSecond = (ops - lastOps) / dt;
      bytesPerSecond = (bytes - lastBytes) / dt;
      lastOps = ops;
      lastBytes = bytes;
      lastNanos = now;
    }
  }

  /** Writes the status file atomically (temp file + rename); failures are logged, not thrown. */
  synchronized void writeStatus() {
    if (statusFile == null) {
      return;
    }
    try {
      Path tmp = statusFile.resolveSibling(statusFile.getFileName() + ".tmp");
      Files.write(tmp, toJson().getBytes(StandardCharsets.UTF_8));
      Files.move(
          tmp, statusFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      log.debug("cannot write status file {}: {}", statusFile, e.toString());
    }
  }

  /** The status as one JSON object (documented in sink-connector/README.md). */
  String toJson() {
    StringBuilder sb = new StringBuilder(1024);
    sb.append("{\n");
    field(sb, "connector", connector);
    field(sb, "mirrorRoot", mirrorRoot);
    field(sb, "state", taskState);
    field(sb, "failure", failure);
    field(sb, "volume", volume);
    num(sb, "epoch", epoch);
    num(sb, "appliedSeq", appliedSeq);
    field(sb, "appliedOpTime", appliedTimeNs == 0 ? "" : iso(appliedTimeNs));
    num(sb, "newestSeqSeen", newestSeq);
    num(sb, "lagOps", getLagOps());
    sb.append("  \"lagSeconds\": ").append(String.format("%.3f", getLagSeconds())).append(",\n");
    sb.append("  \"opsPerSecond\": ").append(String.format("%.1f", opsPerSecond)).append(",\n");
    sb.append("  \"bytesPerSecond\": ").append(String.format("%.0f", bytesPerSecond)).append(",\n");
    num(sb, "opsApplied", opsApplied);
    num(sb, "bufferedRecords", bufferedRecords);
    num(sb, "bufferedBytes", bufferedBytes);
    sb.append("  \"pausedPartitions\": ").append(Arrays.toString(paused)).append(",\n");
    field(sb, "waitingFor", waitingFor);
    long since = waitingSinceMs;
    field(sb, "waitingSince", since == 0 ? "" : Instant.ofEpochMilli(since).toString());
    sb.append("  \"diverged\": ").append(diverged).append(",\n");
    field(sb, "divergedReason", divergedReason);
    num(sb, "skippedSpecialFiles", skippedSpecialFiles);
    sb.append("  \"replayUntilSeq\": ").append(replayUntilSeq).append(",\n");
    field(sb, "replayUntilTime", replayUntilTimeNs == null ? "" : iso(replayUntilTimeNs));
    sb.append("  \"replayTargetReached\": ").append(targetReached).append(",\n");
    field(sb, "snapshot", snapshot);
    sb.append("  \"updatedAt\": \"").append(Instant.now()).append("\"\n}\n");
    return sb.toString();
  }

  private static String iso(long ns) {
    return Instant.ofEpochSecond(
            Math.floorDiv(ns, 1_000_000_000L), Math.floorMod(ns, 1_000_000_000L))
        .toString();
  }

  private static void num(StringBuilder sb, String k, long v) {
    sb.append("  \"").append(k).append("\": ").append(v).append(",\n");
  }

  private static void field(StringBuilder sb, String k, String v) {
    sb.append("  \"").append(k).append("\": \"").append(escape(v)).append("\",\n");
  }

  static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    closed = true;
    if (writer != null) {
      writer.interrupt();
      try {
        writer.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    writeStatus();
    if (bean != null) {
      bean.close();
    }
  }

  // ------------------------------------------------------------------ MXBean

  @Override
  public long getAppliedSeq() {
    return appliedSeq;
  }

  @Override
  public long getAppliedOpTimeMs() {
    return appliedTimeNs / 1_000_000L;
  }

  @Override
  public long getNewestSeqSeen() {
    return newestSeq;
  }

  @Override
  public long getLagOps() {
    return Math.max(0, newestSeq - appliedSeq);
  }

  /**
   * The source time between the newest op seen and the op applied; while the task waits for a
   * missing seq, at least the time it has waited, so the lag grows while nothing is applied.
   */
  @Override
  public double getLagSeconds() {
    double lag = newestTimeNs == 0 || appliedTimeNs == 0 ? 0 : (newestTimeNs - appliedTimeNs) / 1e9;
    long since = waitingSinceMs;
    if (since != 0) {
      lag = Math.max(lag, (System.currentTimeMillis() - since) / 1e3);
    }
    return Math.max(0, lag);
  }

  @Override
  public double getOpsPerSecond() {
    return opsPerSecond;
  }

  @Override
  public double getBytesPerSecond() {
    return bytesPerSecond;
  }

  @Override
  public long getOpsApplied() {
    return opsApplied;
  }

  @Override
  public long getBufferedRecords() {
    return bufferedRecords;
  }

  @Override
  public long getBufferedBytes() {
    return bufferedBytes;
  }

  @Override
  public int[] getPausedPartitions() {
    return paused.clone();
  }

  @Override
  public boolean isDiverged() {
    return diverged;
  }

  @Override
  public String getDivergedReason() {
    return divergedReason;
  }

  @Override
  public long getSkippedSpecialFiles() {
    return skippedSpecialFiles;
  }

  @Override
  public boolean isReplayTargetReached() {
    return targetReached;
  }
}
