package dev.tfs.journal;

/**
 * The journal a reader was reading has been replaced: {@code journal.meta} now names another epoch
 * (the journal was deleted and created anew) or is gone. Every seq the reader holds belongs to the
 * old epoch; the caller must reopen and decide how to continue (a mirror stops, G7).
 */
public class JournalEpochChangedException extends JournalException {
  private static final long serialVersionUID = 1L;

  private final long oldEpoch;
  private final long newEpoch;

  public JournalEpochChangedException(String message, long oldEpoch, long newEpoch) {
    super(message);
    this.oldEpoch = oldEpoch;
    this.newEpoch = newEpoch;
  }

  /** The epoch the reader was opened on. */
  public long oldEpoch() {
    return oldEpoch;
  }

  /** The epoch {@code journal.meta} names now, 0 when the meta file is missing. */
  public long newEpoch() {
    return newEpoch;
  }
}
