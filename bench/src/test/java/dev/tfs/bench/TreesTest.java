package dev.tfs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreesTest {
  @TempDir Path dir;

  @Test
  void mixedTreeHasTheRequestedTotalAndIsDeterministic() throws Exception {
    Trees.Spec s = Trees.mixed(100, 10L << 20, 10, 7);
    assertThat(s.bytes()).isEqualTo(10L << 20);
    assertThat(s.files()).isEqualTo(100);
    Trees.write(s, dir.resolve("a"), 1);
    Trees.write(s, dir.resolve("b"), 1);
    for (int i = 0; i < s.files(); i++) {
      assertThat(Files.size(s.file(dir.resolve("a"), i))).isEqualTo(s.sizes()[i]);
      assertThat(Files.mismatch(s.file(dir.resolve("a"), i), s.file(dir.resolve("b"), i)))
          .isEqualTo(-1);
    }
  }

  @Test
  void dataIsNotTrivial() {
    byte[] a = Data.bytes(4096, 1);
    byte[] b = Data.bytes(4096, 2);
    assertThat(a).isNotEqualTo(b);
    assertThat(
            new String(a, java.nio.charset.StandardCharsets.ISO_8859_1).chars().distinct().count())
        .isGreaterThan(200);
  }
}
