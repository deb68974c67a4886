package dev.tfs.capture;

import java.util.Map;

/**
 * JMX view of one capture daemon, registered as {@code dev.tfs:type=capture,volume=<volume>}.
 * Counters are since the daemon started; journal figures are read live from the journal.
 */
public interface CaptureMXBean {
  /** Ops captured (committed to the journal) by kind label, e.g. {@code write}. */
  Map<String, Long> getOpsCapturedByKind();

  /** All ops captured. */
  long getOpsCaptured();

  /** File content bytes captured in write ops. */
  long getBytesCaptured();

  /** Writes applied to the store but not captured (through a handle whose name was unlinked). */
  long getUncapturedWrites();

  /** Bytes of all retained journal segments. */
  long getJournalBytes();

  /** Ops in the journal not yet acknowledged by Kafka. */
  long getUnshippedOps();

  /** Bytes counted against the spool quota. */
  long getUnshippedBytes();

  /** Highest seq acknowledged by Kafka (all lower ones too). */
  long getShippedSeq();

  /** The seq the next op will get. */
  long getNextSeq();

  /** Failed deliveries and connection failures of the shipper. */
  long getShipErrors();

  /** The shipper's state: DISABLED, CONNECTING, SHIPPING, BACKING_OFF, REFUSED, STOPPED. */
  String getShipperState();

  /** Total ms callers spent blocked on the spool quota (back-pressure). */
  long getBackPressureMillis();

  /** Callers blocked on the spool quota right now. */
  int getBlockedWriters();

  /** Application fsyncs that forced the journal to disk. */
  long getFsyncs();

  /** fsyncs of journal segment files. */
  long getJournalFsyncs();

  /** Total ns spent in journal.intent (includes quota waits). */
  long getIntentNanos();

  /** Why capture stopped accepting changes, or empty while it works. */
  String getBrokenReason();
}
