package dev.tfs.journal;

/**
 * A journal operation failed: I/O trouble, a journal that does not match the options it is opened
 * with, a closed writer, a sequence number that is no longer retained. The message says what is
 * wrong, where (directory, segment, position) and what to do.
 *
 * <p>Unchecked on purpose: the capture daemon calls the journal from FUSE threads that can only
 * turn any failure into an errno, and the connector turns it into a task failure; neither can do
 * anything finer with a checked exception. Subclasses mark the cases callers do treat differently.
 */
public class JournalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JournalException(String message) {
    super(message);
  }

  public JournalException(String message, Throwable cause) {
    super(message, cause);
  }
}
