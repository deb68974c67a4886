package dev.tfs.journal;

/**
 * When the writer forces appended entries to stable storage. Every policy writes an entry to the
 * segment file (a {@code write(2)} into the page cache) before the append call returns, so an entry
 * survives a crash of the capture process under every policy; the policies differ in what survives
 * a crash of the machine (power loss, kernel panic).
 */
public enum Durability {
  /**
   * fsync before {@code intent}, {@code commit} and {@code abort} return. Concurrent callers share
   * one fsync (the first to arrive syncs for everyone written so far). Survives power loss; costs
   * one fsync per append under low concurrency.
   */
  FSYNC,
  /**
   * A background thread fsyncs what was written every {@code groupCommitMillis}. A power loss loses
   * at most that window. The default.
   *
   * <p>Under FSYNC and GROUP, readers ship an op only once it is fsynced (the writer publishes how
   * far in the {@code synced} file), so an op never reaches Kafka and then vanishes from the
   * journal; under GROUP that adds up to {@code groupCommitMillis} of shipping latency.
   */
  GROUP,
  /**
   * Never fsync on the append path: only on {@link JournalWriter#sync()}, at segment rolls (a
   * segment is complete on disk before the next one exists, so a power loss cannot leave a seq gap
   * between segments) and at close. The operating system writes back when it likes. Readers ship
   * ops as soon as they are written: after a power loss the journal may lack ops that Kafka has
   * (the writer refuses to reopen when the {@code acked} file shows it).
   */
  NONE
}
