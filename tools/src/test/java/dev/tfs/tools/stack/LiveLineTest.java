package dev.tfs.tools.stack;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LiveLineTest {
  /** What a terminal shows after printing {@code s}: \r returns, ESC[K erases to the end. */
  private static String screen(String s) {
    StringBuilder line = new StringBuilder();
    int col = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\r') {
        col = 0;
      } else if (c == '\u001b' && s.startsWith("\u001b[K", i)) {
        line.setLength(col);
        i += 2;
      } else {
        if (col < line.length()) {
          line.setCharAt(col, c);
        } else {
          line.append(c);
        }
        col++;
      }
    }
    return line.toString();
  }

  @Test
  void aShorterLineOnATerminalLeavesNothingOfTheLongerOneBehind() {
    LiveLine l = new LiveLine(true);
    String shown =
        screen(
            l.render("mirror-a: seq 12, catching up (3 differences)")
                + l.render("mirror-a: seq 12, in sync (10 entries)"));
    assertThat(shown).isEqualTo("mirror-a: seq 12, in sync (10 entries)");
  }

  @Test
  void withoutATerminalTheLineIsPaddedToThePreviousLengthWithoutEscapes() {
    LiveLine l = new LiveLine(false);
    String first = l.render("a longer status line");
    String second = l.render("short");
    assertThat(first).isEqualTo("\ra longer status line");
    assertThat(second).isEqualTo("\rshort" + " ".repeat("a longer status line".length() - 5));
    assertThat(screen(first + second).strip()).isEqualTo("short");
    assertThat(l.render("x")).isEqualTo("\rx    "); // padded to "short", not the longest
  }
}
