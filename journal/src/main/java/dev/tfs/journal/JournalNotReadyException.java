package dev.tfs.journal;

/**
 * The journal directory or its {@code journal.meta} does not exist yet: the capture daemon has not
 * created the journal. Readers wait and retry; this is not a failure of the reader.
 */
public class JournalNotReadyException extends JournalException {
  private static final long serialVersionUID = 1L;

  public JournalNotReadyException(String message) {
    super(message);
  }
}
