package dev.tfs.tools.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.tools.Tfs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Trees that broke the recursive verifier: very deep, very wide; and the internal-error code. */
class VerifyScaleTest {
  private static final int DEPTH = 5_003;
  private static final int WIDTH = 100_000;
  private static final int SIBLING_DEPTH = 300;

  @TempDir Path tmp;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    CommandLine cl = Tfs.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("verify"));
    all.addAll(List.of(args));
    return cl.execute(all.toArray(String[]::new));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** DEPTH nested directories "d", with a file "f" holding {@code content} at the bottom. */
  private static void deep(Path root, String content) throws Exception {
    int fd = Posix.openDirectory(root);
    for (int i = 0; i < DEPTH; i++) {
      if (i == SIBLING_DEPTH) {
        // A file after the subdirectory: deep frames give their fds back while their subtree is
        // walked, so comparing this one needs the directory reopened from an ancestor.
        file(fd, "z", content);
      }
      Posix.mkdir(fd, b("d"), 0755);
      int next = Posix.openat(fd, b("d"), Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
      Posix.close(fd);
      fd = next;
    }
    file(fd, "f", content);
    Posix.close(fd);
  }

  private static void file(int dir, String name, String content) throws Exception {
    int f = Posix.openat(dir, b(name), Flags.O_CREAT | Flags.O_WRONLY, 0644);
    byte[] data = b(content);
    Posix.pwriteFully(f, data, data.length, 0);
    Posix.close(f);
    Posix.utimens(dir, b(name), 1_000_000_000L, 1_000_000_000L);
  }

  /**
   * Removes a tree made by {@link #deep} with O(depth) short-path calls: walking it (as JUnit's
   * TempDir cleanup does, resolving every level's real path) is quadratic in the depth.
   */
  private static void undeep(Path root) throws Exception {
    int r = Posix.openDirectory(root);
    try {
      while (Posix.statOrNull(r, b("d"), false) != null) {
        if (Posix.statOrNull(r, b("d/z"), false) != null) {
          Posix.unlink(r, b("d/z"));
        }
        if (Posix.statOrNull(r, b("d/d"), false) != null) {
          Posix.rename(r, b("d/d"), r, b("t"), 0);
          Posix.rmdir(r, b("d"));
          Posix.rename(r, b("t"), r, b("d"), 0);
        } else {
          Posix.unlink(r, b("d/f"));
          Posix.rmdir(r, b("d"));
        }
      }
    } finally {
      Posix.close(r);
    }
  }

  @Test
  void aTree5003DirectoriesDeepIsComparedAndADifferenceAtTheBottomExitsOne() throws Exception {
    Path a = Files.createDirectory(tmp.resolve("a"));
    Path b = Files.createDirectory(tmp.resolve("b"));
    Path c = Files.createDirectory(tmp.resolve("c"));
    try {
      deepTrees(a, b, c);
    } finally {
      for (Path p : List.of(a, b, c)) {
        undeep(p);
      }
    }
  }

  private void deepTrees(Path a, Path b, Path c) throws Exception {
    deep(a, "same");
    deep(b, "same");
    // Directory mtimes differ (made at different instants): this test is about the walk.
    assertThat(run("--ignore-times", "--ignore-root", a.toString(), b.toString()))
        .as(out + " " + err)
        .isZero();
    assertThat(out.toString()).startsWith("identical: " + (DEPTH + 2) + " entries, 8 bytes");

    deep(c, "diff");
    assertThat(run("--ignore-times", "--ignore-root", a.toString(), c.toString()))
        .as(err.toString())
        .isEqualTo(Tfs.DIFFERENT);
    assertThat(out.toString())
        .contains("d/d/d/")
        .contains("/d/f: content differs at byte 0")
        .contains("d/".repeat(SIBLING_DEPTH) + "z: content differs at byte 0")
        .contains("2 difference(s)");
  }

  @Test
  void aDirectoryOf100000EntriesIsComparedAndDifferencesExitOne() throws Exception {
    Path a = Files.createDirectory(tmp.resolve("a"));
    Path b = Files.createDirectory(tmp.resolve("b"));
    try {
      wide(a, b);
    } finally {
      unwide(a);
      unwide(b);
    }
  }

  private void wide(Path a, Path b) throws Exception {
    // Symlinks: one call each to make, so the suite stays fast; a few files for the content path.
    for (Path root : List.of(a, b)) {
      int r = Posix.openDirectory(root);
      try {
        for (int i = 0; i < WIDTH; i++) {
          byte[] name = b("entry-" + i);
          if (i % 1000 == 0) {
            int f = Posix.openat(r, name, Flags.O_CREAT | Flags.O_WRONLY, 0644);
            byte[] data = b(Integer.toString(i));
            Posix.pwriteFully(f, data, data.length, 0);
            Posix.close(f);
          } else {
            Posix.symlink(b("target-" + i), r, name);
          }
        }
      } finally {
        Posix.close(r);
      }
    }
    // Entries were made at different instants: this test is about the size of the listing.
    assertThat(run("--ignore-times", "--ignore-root", a.toString(), b.toString()))
        .as(out + " " + err)
        .isZero();
    assertThat(out.toString()).startsWith("identical: " + WIDTH + " entries");

    int r = Posix.openDirectory(b);
    try {
      Posix.unlink(r, b("entry-4242"));
      Posix.unlink(r, b("entry-99000"));
      int f = Posix.openat(r, b("entry-99000"), Flags.O_CREAT | Flags.O_WRONLY, 0644);
      Posix.pwriteFully(f, b("X9000"), 5, 0); // same size, other content
      Posix.close(f);
    } finally {
      Posix.close(r);
    }
    assertThat(run("--ignore-times", "--ignore-root", a.toString(), b.toString()))
        .isEqualTo(Tfs.DIFFERENT);
    assertThat(out.toString())
        .contains("entry-4242: only in source")
        .contains("entry-99000: content differs at byte 0")
        .contains("2 difference(s)");
  }

  /** Empties a flat directory with one unlink a name (cheaper than TempDir's walk). */
  private static void unwide(Path root) throws Exception {
    int r = Posix.openDirectory(root);
    try {
      for (var e : Posix.list(r)) {
        Posix.unlink(r, e.name());
      }
    } finally {
      Posix.close(r);
    }
  }

  @Test
  void aComparisonThatCannotFinishExitsThreeNotOne() {
    // sysfs write-only attributes (bind, unbind, rescan): open for reading fails even for root.
    Path pci = Path.of("/sys/bus/pci");
    assumeTrue(Files.exists(pci.resolve("rescan")), "needs sysfs with /sys/bus/pci/rescan");
    assertThat(run(pci.toString(), pci.toString())).isEqualTo(Tfs.ENVIRONMENT);
    assertThat(err.toString()).contains("tfs verify: cannot compare");
    assertThat(out.toString()).doesNotContain("difference");
  }
}
