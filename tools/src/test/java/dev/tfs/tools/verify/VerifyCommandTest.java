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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class VerifyCommandTest {
  @TempDir Path tmp;
  private Path a;
  private Path b;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void trees() throws Exception {
    a = Files.createDirectory(tmp.resolve("a"));
    b = Files.createDirectory(tmp.resolve("b"));
    for (Path root : List.of(a, b)) {
      build(root);
    }
  }

  /** The same tree, made the same way, with identical times. */
  private static void build(Path root) throws Exception {
    int r = Posix.openDirectory(root);
    try {
      Posix.mkdir(r, b("dir"), 0750);
      int f = Posix.openat(r, b("dir/file"), Flags.O_CREAT | Flags.O_WRONLY, 0640);
      byte[] data = "content\n".getBytes(StandardCharsets.UTF_8);
      Posix.pwriteFully(f, data, data.length, 0);
      Posix.pwriteFully(f, data, data.length, 1 << 20);
      Posix.close(f);
      Posix.link(r, b("dir/file"), r, b("hard"));
      Posix.symlink(b("dir/file"), r, b("ln"));
      Posix.mknod(r, b("fifo"), Flags.S_IFIFO | 0600, 0);
      byte[] latin1 = {'n', (byte) 0xe9};
      Posix.close(Posix.openat(r, latin1, Flags.O_CREAT | Flags.O_WRONLY, 0600));
      Posix.setxattr(r, b("dir/file"), b("user.k"), b("v"), 0);
      long t = 1_700_000_000_000_000_000L;
      for (String p : List.of("dir/file", "hard", "ln", "fifo", "dir", "")) {
        Posix.utimens(r, b(p), t, t);
      }
      Posix.utimens(r, latin1, t, t);
      Posix.chmod(r, b(""), 0755);
    } finally {
      Posix.close(r);
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private int run(String... args) {
    CommandLine cl = Tfs.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("verify"));
    all.addAll(List.of(args));
    return cl.execute(all.toArray(String[]::new));
  }

  @Test
  void identicalTreesExitZero() {
    assertThat(run(a.toString(), b.toString())).as(out.toString()).isZero();
    assertThat(out.toString()).startsWith("identical: 6 entries");
  }

  @Test
  void everyKindOfDifferenceIsListedAndExitsOne() throws Exception {
    int r = Posix.openDirectory(b);
    try {
      int f = Posix.openat(r, b("dir/file"), Flags.O_WRONLY, 0);
      Posix.pwriteFully(f, b("X"), 1, 3);
      Posix.close(f);
      Posix.chmod(r, b("dir"), 0700);
      Posix.unlink(r, b("ln"));
      Posix.symlink(b("elsewhere"), r, b("ln"));
      Posix.setxattr(r, b("dir/file"), b("user.k"), b("w"), 0);
      Posix.unlink(r, b("hard"));
      Posix.close(Posix.openat(r, b("hard"), Flags.O_CREAT | Flags.O_WRONLY, 0640));
      Posix.close(Posix.openat(r, b("extra"), Flags.O_CREAT | Flags.O_WRONLY, 0640));
      Posix.utimens(r, b("fifo"), Posix.OMIT, 5);
    } finally {
      Posix.close(r);
    }
    assertThat(run(a.toString(), b.toString())).isEqualTo(1);
    String s = out.toString();
    assertThat(s)
        .contains("dir/file: content differs at byte 3")
        .contains("dir: mode 0750 in source, 0700 in mirror")
        .contains("ln: symlink target dir/file in source, elsewhere in mirror")
        .contains("dir/file: xattr user.k differs")
        .contains("extra: only in mirror")
        .contains("fifo: mtime")
        .contains("hard-link group [dir/file, hard] in source is not one group in mirror");
  }

  @Test
  void optionsTurnOffTimesAndOwners() throws Exception {
    int r = Posix.openDirectory(b);
    try {
      Posix.utimens(r, b("fifo"), Posix.OMIT, 5);
      assumeTrue(Posix.geteuid() == 0);
      Posix.chown(r, b("fifo"), 4242, 4242);
    } finally {
      Posix.close(r);
    }
    assertThat(run(a.toString(), b.toString())).isEqualTo(1);
    assertThat(run("--ignore-times", "--ignore-owner", a.toString(), b.toString())).isZero();
  }

  @Test
  void nonUtf8NamesAreShownEscaped() throws Exception {
    Files.delete(b.resolve("fifo"));
    int r = Posix.openDirectory(b);
    try {
      Posix.unlink(r, new byte[] {'n', (byte) 0xe9});
    } finally {
      Posix.close(r);
    }
    assertThat(run("--ignore-root", a.toString(), b.toString())).isEqualTo(1);
    assertThat(out.toString()).contains("n\\xe9: only in source").contains("fifo: only in source");
  }

  @Test
  void usageErrorsExitTwo() {
    assertThat(run(a.toString())).isEqualTo(2);
    assertThat(run(a.toString(), tmp.resolve("missing").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("is not a directory");
  }

  @Test
  void jsonOutput() {
    assertThat(run("--json", a.toString(), b.toString())).isZero();
    assertThat(out.toString()).contains("\"identical\":true").contains("\"entries\":6");
  }

  /**
   * Device nodes in the source that the mirror lacks (tfs.special.files=skip) are their own
   * category: a difference by default, identical with --accept-skipped-devices; a device present on
   * both sides with another number is an ordinary difference.
   */
  @Test
  void deviceNodesSkippedByTheMirrorAreTheirOwnCategory() throws Exception {
    assumeTrue(Posix.geteuid() == 0, "mknod of a device needs root");
    int r = Posix.openDirectory(a);
    int m = Posix.openDirectory(b);
    try {
      Posix.mknod(r, b("null"), Flags.S_IFCHR | 0666, Posix.makedev(1, 3));
      Posix.mknod(r, b("dir/sda"), Flags.S_IFBLK | 0660, Posix.makedev(8, 0));
      Posix.mknod(r, b("zero"), Flags.S_IFCHR | 0666, Posix.makedev(1, 5));
      Posix.mknod(m, b("zero"), Flags.S_IFCHR | 0666, Posix.makedev(1, 7));
      for (int fd : new int[] {r, m}) {
        Posix.utimens(fd, b("zero"), 1, 1);
        Posix.utimens(fd, b("dir"), 1, 1);
        Posix.utimens(fd, b(""), 1, 1);
      }
    } finally {
      Posix.close(r);
      Posix.close(m);
    }
    assertThat(run(a.toString(), b.toString())).isEqualTo(1);
    assertThat(out.toString())
        .contains("zero: device number 1:5 in source, 1:7 in mirror")
        .contains("2 device node(s) skipped by the mirror's policy (tfs.special.files=skip):")
        .contains("  dir/sda\n")
        .contains("  null\n")
        .doesNotContain("only in source")
        .contains("3 difference(s)");

    TreeVerifier.Options strict = TreeVerifier.Options.all();
    TreeVerifier.Result sr = TreeVerifier.compare(a, b, strict);
    assertThat(sr.skippedDevices())
        .extracting(TreeVerifier.Difference::what)
        .containsOnly(TreeVerifier.SKIPPED_DEVICE);
    assertThat(sr.skippedDeviceCount()).isEqualTo(2);
    assertThat(sr.differences()).hasSize(1);
    assertThat(sr.differenceCount()).isEqualTo(3);
    assertThat(sr.otherDifferenceCount()).isEqualTo(1);
    TreeVerifier.Result ar =
        TreeVerifier.compare(a, b, strict.withSkippedDevicesAccepted(true).withTimes(true));
    assertThat(ar.skippedDevicesAccepted()).isTrue();
    assertThat(ar.skippedDeviceCount()).isEqualTo(2);
    assertThat(ar.differenceCount()).isEqualTo(1);

    // With the wrong device number fixed, the skipped nodes alone: accepted means identical.
    r = Posix.openDirectory(b);
    try {
      Posix.unlink(r, b("zero"));
      Posix.mknod(r, b("zero"), Flags.S_IFCHR | 0666, Posix.makedev(1, 5));
      Posix.utimens(r, b("zero"), 1, 1);
      Posix.utimens(r, b(""), 1, 1);
    } finally {
      Posix.close(r);
    }
    out.getBuffer().setLength(0);
    assertThat(run(a.toString(), b.toString())).isEqualTo(1);
    assertThat(out.toString()).contains("2 difference(s)");
    out.getBuffer().setLength(0);
    assertThat(run("--accept-skipped-devices", a.toString(), b.toString())).isZero();
    assertThat(out.toString())
        .contains(
            "2 device node(s) skipped by the mirror's policy (tfs.special.files=skip),"
                + " accepted:")
        .contains("identical: ");
    out.getBuffer().setLength(0);
    assertThat(run("--json", "--accept-skipped-devices", a.toString(), b.toString())).isZero();
    assertThat(out.toString())
        .contains("\"identical\":true")
        .contains("\"skippedDeviceCount\":2")
        .contains("\"path\":\"dir/sda\"");
  }
}
