package dev.tfs.source;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task's live figures as a {@link TreeSourceMXBean}. The task sets the fields (from its poll
 * thread, and {@code committedSeq} from Connect's callback threads); JMX readers see recent values,
 * not an atomic picture.
 */
final class SourceMetrics implements TreeSourceMXBean, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SourceMetrics.class);

  private final String connector;
  private final String journalDir;
  private final String volume;
  private final String topic;
  private ObjectName objectName;

  volatile String state = "starting";
  volatile long epoch;
  volatile long emittedSeq;
  volatile long committedSeq;
  volatile long acknowledgedSeq;
  volatile long journalLagOps;
  volatile boolean caughtUp;
  volatile long recordsEmitted;
  volatile long bytesEmitted;
  volatile long pollBatches;
  volatile long acknowledgements;
  volatile long commits;
  volatile long errors;
  volatile String lastError = "";

  SourceMetrics(String connector, String journalDir, String volume, String topic) {
    this.connector = connector;
    this.journalDir = journalDir;
    this.volume = volume;
    this.topic = topic;
  }

  /** The bean's name for a connector. */
  static ObjectName name(String connector) throws Exception {
    return new ObjectName("dev.tfs:type=source,connector=" + ObjectName.quote(connector));
  }

  /** Registers the MXBean, replacing a stale one of the same name (a task restarted in place). */
  void register() {
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      objectName = name(connector);
      if (server.isRegistered(objectName)) {
        server.unregisterMBean(objectName);
      }
      server.registerMBean(this, objectName);
    } catch (Exception e) {
      log.warn("cannot register JMX bean for connector {}: {}", connector, e.toString());
      objectName = null;
    }
  }

  synchronized void error(String message) {
    errors++;
    lastError = message == null ? "" : message;
  }

  @Override
  public void close() {
    if (objectName != null) {
      try {
        ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
      } catch (Exception e) {
        log.debug("unregister {}: {}", objectName, e.toString());
      }
      objectName = null;
    }
  }

  @Override
  public String getState() {
    return state;
  }

  @Override
  public String getVolume() {
    return volume;
  }

  @Override
  public long getEpoch() {
    return epoch;
  }

  @Override
  public String getJournalDir() {
    return journalDir;
  }

  @Override
  public String getTopic() {
    return topic;
  }

  @Override
  public long getEmittedSeq() {
    return emittedSeq;
  }

  @Override
  public long getCommittedSeq() {
    return committedSeq;
  }

  @Override
  public long getAcknowledgedSeq() {
    return acknowledgedSeq;
  }

  @Override
  public long getUnacknowledgedOps() {
    return Math.max(0, emittedSeq - acknowledgedSeq);
  }

  @Override
  public long getJournalLagOps() {
    return journalLagOps;
  }

  @Override
  public boolean isCaughtUp() {
    return caughtUp;
  }

  @Override
  public long getRecordsEmitted() {
    return recordsEmitted;
  }

  @Override
  public long getBytesEmitted() {
    return bytesEmitted;
  }

  @Override
  public long getPollBatches() {
    return pollBatches;
  }

  @Override
  public long getCommits() {
    return commits;
  }

  @Override
  public long getAcknowledgements() {
    return acknowledgements;
  }

  @Override
  public long getErrors() {
    return errors;
  }

  @Override
  public String getLastError() {
    return lastError;
  }
}
