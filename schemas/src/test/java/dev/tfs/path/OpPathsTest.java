package dev.tfs.path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OpPathsTest {
  private static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xe9};

  static Stream<Arguments> table() {
    return Stream.of(
        // path, valid?, the rule named when not
        Arguments.of(utf8(""), true, null),
        Arguments.of(utf8("a"), true, null),
        Arguments.of(utf8("a/b/c.txt"), true, null),
        Arguments.of(utf8("..a/b..c/...d"), true, null),
        Arguments.of(utf8(".hidden/.x"), true, null),
        Arguments.of(utf8("sp ace/\u00e9t\u00e9/\u65e5\u672c"), true, null),
        Arguments.of(LATIN1, true, null),
        Arguments.of(concat(utf8("dir/"), LATIN1, utf8("/x")), true, null),
        Arguments.of(new byte[] {(byte) 0xff, (byte) 0xfe}, true, null),
        Arguments.of(utf8("back\\slash"), true, null),
        Arguments.of(utf8("../x"), false, "'..' segment"),
        Arguments.of(utf8(".."), false, "'..' segment"),
        Arguments.of(utf8("."), false, "'.' segment"),
        Arguments.of(utf8("/etc/passwd"), false, "absolute"),
        Arguments.of(utf8("/"), false, "absolute"),
        Arguments.of(utf8("a/../../b"), false, "'..' segment"),
        Arguments.of(utf8("a/.."), false, "'..' segment"),
        Arguments.of(utf8("a//b"), false, "empty segment"),
        Arguments.of(utf8("a/./b"), false, "'.' segment"),
        Arguments.of(utf8("a/b/"), false, "ends with '/'"),
        Arguments.of(new byte[] {0}, false, "NUL"),
        Arguments.of(utf8("a\0b"), false, "NUL"),
        Arguments.of(utf8("a/b\0/../etc"), false, "NUL"),
        Arguments.of(repeat('x', 5000), false, "longer than 4095"),
        Arguments.of(repeat('x', 256), false, "longer than 255"),
        Arguments.of(repeat('x', 255), true, null),
        Arguments.of(joinSegments(16, 250), true, null),
        Arguments.of(joinSegments(17, 250), false, "longer than 4095"));
  }

  @ParameterizedTest
  @MethodSource("table")
  void verdicts(byte[] path, boolean valid, String rule) {
    assertThat(OpPaths.isValid(path)).isEqualTo(valid);
    if (valid) {
      assertThat(OpPaths.validate(path)).isSameAs(path);
    } else {
      assertThatThrownBy(() -> OpPaths.validate(path))
          .isInstanceOf(OpPathException.class)
          .hasMessageContaining(rule);
    }
  }

  @Test
  void missingPathIsInvalid() {
    assertThat(OpPaths.problem(null)).contains("missing");
  }

  @Test
  void nonUtf8NamesSplitAndJoinByteExactly() {
    byte[] path = concat(utf8("d/"), LATIN1);
    assertThat(OpPaths.isUtf8(path)).isFalse();
    assertThat(OpPaths.segments(path))
        .satisfiesExactly(
            s -> assertThat(s).isEqualTo(utf8("d")), s -> assertThat(s).isEqualTo(LATIN1));
    assertThat(OpPaths.name(path)).isEqualTo(LATIN1);
    assertThat(OpPaths.parent(path)).isEqualTo(utf8("d"));
    assertThat(OpPaths.child(utf8("d"), LATIN1)).isEqualTo(path);
    assertThat(OpPaths.display(path)).isEqualTo("d/caf\\xe9");
    assertThat(OpPaths.display(utf8("d/caf\u00e9"))).isEqualTo("d/caf\u00e9");
  }

  @Test
  void parentsAndNames() {
    assertThat(OpPaths.parent(utf8("a"))).isEmpty();
    assertThat(OpPaths.parent(utf8("a/b/c"))).isEqualTo(utf8("a/b"));
    assertThat(OpPaths.segments(OpPaths.ROOT)).isEmpty();
    assertThatThrownBy(() -> OpPaths.parent(OpPaths.ROOT)).isInstanceOf(OpPathException.class);
    assertThatThrownBy(() -> OpPaths.child(utf8("a"), utf8("..")))
        .isInstanceOf(OpPathException.class);
    assertThat(OpPaths.display(OpPaths.ROOT)).isEqualTo("(root)");
  }

  @Test
  void descendants() {
    assertThat(OpPaths.isSelfOrDescendant(utf8("a"), utf8("a/b"))).isTrue();
    assertThat(OpPaths.isSelfOrDescendant(utf8("a"), utf8("a"))).isTrue();
    assertThat(OpPaths.isSelfOrDescendant(utf8("a"), utf8("ab"))).isFalse();
    assertThat(OpPaths.isSelfOrDescendant(utf8(""), utf8("x"))).isTrue();
  }

  @Test
  void displayEscapesControlBytesAndBackslash() {
    assertThat(OpPaths.escape(utf8("a\nb\\c"))).isEqualTo("a\\x0ab\\x5cc");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] repeat(char c, int n) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) c);
    return b;
  }

  private static byte[] joinSegments(int count, int length) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < count; i++) {
      if (i > 0) {
        sb.append('/');
      }
      sb.append("y".repeat(length));
    }
    return utf8(sb.toString());
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
