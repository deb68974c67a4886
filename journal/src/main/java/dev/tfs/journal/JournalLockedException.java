package dev.tfs.journal;

/** Another writer holds the journal's {@code lock} file: only one capture daemon per journal. */
public class JournalLockedException extends JournalException {
  private static final long serialVersionUID = 1L;

  private final String holder;

  public JournalLockedException(String message, String holder) {
    super(message);
    this.holder = holder;
  }

  /** What the holder wrote into the lock file (its pid), or "unknown". */
  public String holder() {
    return holder;
  }
}
