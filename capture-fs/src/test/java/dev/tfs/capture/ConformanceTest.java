package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The oracle test (issue 13 item 4): every case of {@code conformance/cases.py} runs on a plain
 * directory and through a real tfs-capture mount, both on the same ext4, and must give the same
 * result: each step's return value or errno and, after each step, the type, mode, nlink, uid, gid,
 * size (rdev) of every name the case touches and which of its atime/mtime/ctime moved.
 *
 * <p>The plain directory is the oracle. A mismatch fails the test unless {@code
 * conformance/known-mismatches.txt} lists the case with its reason; a listed case that matches
 * fails it too, so every fix must shrink the list. {@code conformance/runner.py} runs as root and
 * takes uid/gid 65534 for the cases marked unprivileged. The report of one run is written to {@code
 * target/conformance/report.txt}.
 */
class ConformanceTest {
  private static final int MIN_CASES = 150;

  @TempDir Path tmp;

  @Test
  void mountBehavesLikeThePlainDirectoryBelowIt() throws Exception {
    // The unprivileged uid must reach the case directories under both trees.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path plain = Files.createDirectory(tmp.resolve("plain"));
    Path runner = resource("conformance/runner.py");
    Map<String, String> expected;
    Map<String, String> actual;
    try (CaptureFixture fx = new CaptureFixture(tmp.resolve("fx"), CaptureFixture.options())) {
      Files.setPosixFilePermissions(fx.store, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(
          tmp.resolve("fx"), PosixFilePermissions.fromString("rwxr-xr-x"));
      expected = run(runner, plain);
      actual = run(runner, fx.mnt);
    }
    assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    assertThat(expected).hasSizeGreaterThanOrEqualTo(MIN_CASES);

    Map<String, String> known = knownMismatches(resource("conformance/known-mismatches.txt"));
    assertThat(expected.keySet())
        .as("known mismatches name existing cases")
        .containsAll(known.keySet());

    List<String> mismatched = new ArrayList<>();
    StringBuilder report = new StringBuilder();
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String id = e.getKey();
      String got = actual.get(id);
      if (!Objects.equals(e.getValue(), got)) {
        mismatched.add(id);
        report.append(id).append('\n');
        report.append("  ext4:  ").append(e.getValue()).append('\n');
        report.append("  mount: ").append(got).append('\n');
      }
    }
    report.insert(
        0,
        String.format(
            "%d cases, %d match, %d mismatch%n",
            expected.size(), expected.size() - mismatched.size(), mismatched.size()));
    Path out = Path.of("target", "conformance");
    Files.createDirectories(out);
    Files.writeString(out.resolve("report.txt"), report.toString(), StandardCharsets.UTF_8);

    TreeSet<String> unexpected = new TreeSet<>(mismatched);
    unexpected.removeAll(known.keySet());
    TreeSet<String> nowMatching = new TreeSet<>(known.keySet());
    mismatched.forEach(nowMatching::remove);
    assertThat(unexpected)
        .as(
            "cases where the mount differs from ext4 (see target/conformance/report.txt):%n%s",
            report)
        .isEmpty();
    assertThat(nowMatching)
        .as("cases listed in known-mismatches.txt that now match: remove them from the list")
        .isEmpty();
  }

  /** Runs the case runner on {@code dir}; returns case id → result, in table order. */
  private static Map<String, String> run(Path runner, Path dir)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("conformance", ".out");
    Path err = Files.createTempFile("conformance", ".err");
    try {
      Process p =
          new ProcessBuilder("python3", runner.toString(), dir.toString())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("case runner did not finish within 120 s on " + dir);
      }
      assertThat(p.exitValue())
          .as("case runner on %s failed: %s", dir, Files.readString(err))
          .isZero();
      Map<String, String> results = new LinkedHashMap<>();
      for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        if (line.isEmpty()) {
          continue;
        }
        int tab = line.indexOf('\t');
        assertThat(tab).as("runner line: %s", line).isPositive();
        assertThat(results.put(line.substring(0, tab), line.substring(tab + 1)))
            .as("duplicate case %s", line.substring(0, tab))
            .isNull();
      }
      return results;
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /**
   * "case-id reason…" lines; blank lines and '#' comments are skipped. Every entry has a reason.
   */
  private static Map<String, String> knownMismatches(Path file) throws IOException {
    Map<String, String> known = new LinkedHashMap<>();
    for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+", 2);
      assertThat(f).as("known mismatch without a reason: %s", line).hasSize(2);
      assertThat(known.put(f[0], f[1])).as("listed twice: %s", f[0]).isNull();
    }
    return known;
  }

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(
        Objects.requireNonNull(ConformanceTest.class.getClassLoader().getResource(name), name)
            .toURI());
  }
}
