package dev.tfs.journal;

/**
 * The journal's bytes are damaged in a way that is not a torn tail: a checksum failure followed by
 * valid entries, damage in a segment that is not the newest, a gap in the seq numbers, an invalid
 * segment header or meta file. Nothing is repaired automatically because repairing would silently
 * drop ops; the message names the file and byte position.
 */
public class JournalCorruptException extends JournalException {
  private static final long serialVersionUID = 1L;

  private final String segment;
  private final long position;

  public JournalCorruptException(String message, String segment, long position) {
    super(message);
    this.segment = segment;
    this.position = position;
  }

  /** File name of the damaged segment (or other journal file), null when not about one file. */
  public String segment() {
    return segment;
  }

  /** Byte position of the damage within {@link #segment()}, -1 when unknown. */
  public long position() {
    return position;
  }
}
