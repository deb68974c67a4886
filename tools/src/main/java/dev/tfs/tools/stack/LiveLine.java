package dev.tfs.tools.stack;

/**
 * A status line rewritten in place: each update returns to the start of the line and clears what
 * the previous, possibly longer, text left behind. On a terminal that is ESC[K (erase to the end of
 * the line); elsewhere (a log, a pipe that keeps the carriage returns) the text is padded with
 * spaces to the previous length, since escape codes would show as garbage.
 */
public final class LiveLine {
  private static final String ERASE_TO_END = "\u001b[K";

  private final boolean terminal;
  private int previous;

  /**
   * @param terminal whether the output is a terminal ({@code System.console() != null})
   */
  public LiveLine(boolean terminal) {
    this.terminal = terminal;
  }

  /** What to print to replace the current line with {@code text}. */
  public String render(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 8).append('\r').append(text);
    if (terminal) {
      sb.append(ERASE_TO_END);
    } else {
      for (int i = text.length(); i < previous; i++) {
        sb.append(' ');
      }
    }
    previous = text.length();
    return sb.toString();
  }
}
