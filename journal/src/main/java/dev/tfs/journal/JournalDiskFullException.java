package dev.tfs.journal;

/**
 * The file system holding the journal is full. Nothing partial stays behind: the entry that did not
 * fit was cut off, complete entries written before it stay. The op that failed may be retried once
 * space is freed (free disk space or let the shipper catch up; lower {@code spoolMaxBytes} so the
 * quota blocks writers before the disk fills).
 */
public class JournalDiskFullException extends JournalException {
  private static final long serialVersionUID = 1L;

  public JournalDiskFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
