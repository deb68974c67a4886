package dev.tfs.sink;

/**
 * JMX view of one mirror, registered as {@code dev.tfs:type=sink,connector=<name>} while the task
 * runs. Lag is measured against the newest record the task has seen (not the topic's end, which the
 * task does not know without an extra admin client).
 */
public interface TreeSinkMXBean {
  /** seq of the last op applied to the mirror. */
  long getAppliedSeq();

  /** Time of the last applied op, ms since the Unix epoch (0: none). */
  long getAppliedOpTimeMs();

  /** Highest seq seen in any record so far. */
  long getNewestSeqSeen();

  /** Newest seq seen minus applied seq. */
  long getLagOps();

  /** Op time of the newest record seen minus that of the last applied op, in seconds. */
  double getLagSeconds();

  /** Ops applied per second over the last interval (about a second). */
  double getOpsPerSecond();

  /** File content bytes written per second over the last interval. */
  double getBytesPerSecond();

  /** Total ops applied since the task started. */
  long getOpsApplied();

  /** Records held while waiting for an earlier seq. */
  long getBufferedRecords();

  /** Bytes of the records held while waiting. */
  long getBufferedBytes();

  /** Partitions this task has paused (running ahead, or replay target reached). */
  int[] getPausedPartitions();

  /** True when an op was skipped (undecodable record tolerated): the mirror is not faithful. */
  boolean isDiverged();

  /** Why the mirror is diverged, or empty. */
  String getDivergedReason();

  /**
   * Names of device nodes the mirror holds no node for because {@code tfs.special.files=skip} (the
   * source's device nodes now, as far as the applied ops show; a hard-linked node counts per name).
   */
  long getSkippedSpecialFiles();

  /** True once the point-in-time target was reached and the task idles. */
  boolean isReplayTargetReached();
}
