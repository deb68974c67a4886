package dev.tfs.source;

/**
 * JMX view of the journal a {@link TreeSourceTask} ships, registered as {@code
 * dev.tfs:type=source,connector=<name>} (the name quoted) while the task runs.
 *
 * <p>Positions, all seqs of the journal's current epoch:
 *
 * <pre>
 *   acknowledged  <=  committed  <=  emitted  <=  journal head
 *   (acked file)      (in Kafka)     (handed to Connect)
 * </pre>
 */
public interface TreeSourceMXBean {
  /** {@code waiting for journal}, {@code running}, {@code stopped} or {@code failed: <why>}. */
  String getState();

  String getVolume();

  /** The journal's epoch (its identity; 0 until the journal was opened). */
  long getEpoch();

  String getJournalDir();

  String getTopic();

  /** seq of the last op handed to Connect. */
  long getEmittedSeq();

  /** Highest seq such that it and every lower one were written to Kafka (commitRecord). */
  long getCommittedSeq();

  /** Highest seq recorded in the journal's acked file by this task: the journal may trim to it. */
  long getAcknowledgedSeq();

  /** Emitted minus acknowledged: ops the journal must still keep for this task. */
  long getUnacknowledgedOps();

  /**
   * Ops in the journal not yet emitted: 0 when the last poll reached the end of the journal;
   * otherwise at least 1, estimated from the newest segment's first seq (a lower bound).
   */
  long getJournalLagOps();

  /** True when the last poll reached the end of the journal. */
  boolean isCaughtUp();

  /** Records handed to Connect since the task started. */
  long getRecordsEmitted();

  /** Key and value bytes handed to Connect since the task started. */
  long getBytesEmitted();

  /** Non-empty batches returned by poll() since the task started. */
  long getPollBatches();

  /** Offset commits Connect reported through {@code commit()} since the task started. */
  long getCommits();

  /** Times the acked file was advanced since the task started. */
  long getAcknowledgements();

  /** Failures (task-stopping and transient ones, such as an offset read-back that failed). */
  long getErrors();

  /** The last error's message, or empty. */
  String getLastError();
}
