package dev.tfs.source;

import dev.tfs.connect.MXBeanRegistration;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * The task's live figures as a {@link TreeSourceMXBean}. The task sets the fields (from its poll
 * thread, and {@code committedSeq} from Connect's callback threads); JMX readers see recent values,
 * not an atomic picture.
 */
final class SourceMetrics implements TreeSourceMXBean, AutoCloseable {
  private static final String TYPE = "source";

  private final String connector;
  private final String journalDir;
  private final String volume;
  private final String topic;
  private MXBeanRegistration bean;

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
  static ObjectName name(String connector) throws MalformedObjectNameException {
    return MXBeanRegistration.name(TYPE, connector);
  }

  /** Registers the MXBean, replacing a stale one of the same name (a task restarted in place). */
  void register() {
    bean = MXBeanRegistration.register(TYPE, connector, this);
  }

  synchronized void error(String message) {
    errors++;
    lastError = message == null ? "" : message;
  }

  @Override
  public void close() {
    if (bean != null) {
      bean.close();
      bean = null;
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
