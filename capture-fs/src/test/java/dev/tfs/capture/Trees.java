package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.tools.verify.TreeVerifier;
import dev.tfs.tools.verify.TreeVerifier.Difference;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Tree assertions through {@link TreeVerifier}, the one tree comparer (G4). */
final class Trees {
  private static final Pattern MTIME =
      Pattern.compile("mtime (-?\\d+) in source, (-?\\d+) in mirror");

  private Trees() {}

  /**
   * G4 without the roots' own attributes: a replay's root is made by the test, not by ops, and its
   * mode depends on the JVM's umask, which the in-JVM daemon sets to 0 (PassthroughFs).
   */
  private static TreeVerifier.Options g4() {
    return TreeVerifier.Options.all().withRootAttributes(false);
  }

  /**
   * Asserts that {@code mirror} equals {@code source} in everything G4 compares, times included;
   * returns the comparison (its {@code entries()} counts the entries compared).
   */
  static TreeVerifier.Result assertIdentical(Path source, Path mirror) throws Exception {
    TreeVerifier.Result r = TreeVerifier.compare(source, mirror, g4());
    assertThat(r.differences()).as("differences between %s and %s", source, mirror).isEmpty();
    assertThat(r.identical()).isTrue();
    return r;
  }

  /**
   * Asserts that two trees made by two runs of one workload are equal in everything G4 compares,
   * leaving out {@code excluded}, with mtimes compared where they were set explicitly (touch -d, cp
   * -a, tar x): where either side's mtime lies before {@code explicitBefore} (ns). Times taken from
   * the clock differ between two runs.
   */
  static TreeVerifier.Result assertSameWorkload(
      Path a, Path b, long explicitBefore, String... excluded) throws Exception {
    // Every difference listed, so none hides behind the clock-time ones filtered out below.
    TreeVerifier.Result r =
        new TreeVerifier(g4().withExcluded(excluded), Integer.MAX_VALUE).run(a, b);
    List<Difference> real =
        r.differences().stream().filter(d -> !clockTimesOnly(d, explicitBefore)).toList();
    assertThat(real).as("differences between %s and %s", a, b).isEmpty();
    return r;
  }

  /** An mtime difference where both times came from the clock during the run. */
  private static boolean clockTimesOnly(Difference d, long explicitBefore) {
    Matcher m = MTIME.matcher(d.what());
    return m.matches()
        && Long.parseLong(m.group(1)) >= explicitBefore
        && Long.parseLong(m.group(2)) >= explicitBefore;
  }
}
