package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.tools.verify.TreeVerifier;
import java.nio.file.Path;

/** G4 comparisons for the sink tests, through the one tree comparer, {@link TreeVerifier}. */
final class Trees {
  private Trees() {}

  /** Everything G4 promises (times and owners included), with or without the roots' attributes. */
  static TreeVerifier.Options g4(boolean rootAttributes) {
    return TreeVerifier.Options.all().withRootAttributes(rootAttributes);
  }

  /** The comparison of {@code expected} (the source) with {@code actual} (the mirror). */
  static TreeVerifier.Result compare(Path expected, Path actual, boolean rootAttributes)
      throws Exception {
    return TreeVerifier.compare(expected, actual, g4(rootAttributes));
  }

  /** Asserts the trees are identical; the differences are the assertion's message. */
  static void assertSame(Path expected, Path actual, boolean rootAttributes) throws Exception {
    TreeVerifier.Result r = compare(expected, actual, rootAttributes);
    assertThat(r.differences()).as("tree differences " + expected + " vs " + actual).isEmpty();
    assertThat(r.identical()).isTrue();
  }

  /**
   * A copy of {@code tree} as it is now ({@code cp -a}: content, modes, owners, times, xattrs,
   * symlinks and hard links), to compare the tree later with its own past.
   */
  static Path snapshot(Path tree, Path copy) throws Exception {
    Process p =
        new ProcessBuilder("cp", "-a", "--no-target-directory", tree.toString(), copy.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("cp -a: " + out).isZero();
    return copy;
  }
}
