package dev.tfs.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.Stat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 2: after an op through one name of a hard-linked file, every other name shows the
 * new attributes at once and access checks use the new mode, as on ext4.
 *
 * <p>Each case first stats every name through the mount (so the kernel holds their attributes),
 * changes the file through one name, and then compares what the other name shows through the mount
 * with what the store shows for it: with cached attributes (the old 10 s attr_timeout) the mount
 * shows the values from before the op.
 */
class HardLinkCoherenceTest {
  @TempDir Path tmp;
  private CaptureFixture f;

  @BeforeEach
  void mount() throws Exception {
    // The unprivileged uid of the access case must be able to reach the mount.
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    f = new CaptureFixture(tmp, CaptureFixture.options());
  }

  @AfterEach
  void unmount() {
    f.close();
  }

  private static Stat stat(Path p) throws Exception {
    return Posix.stat(Flags.AT_FDCWD, p.toString().getBytes(StandardCharsets.ISO_8859_1), false);
  }

  /** Stats each name through the mount: the kernel now caches what it was told. */
  private void prime(String... names) throws Exception {
    for (String n : names) {
      stat(f.mnt.resolve(n));
    }
  }

  /** The attributes that matter, as the mount shows {@code name} and as the store has it. */
  private void assertCoherent(String name) throws Exception {
    Stat m = stat(f.mnt.resolve(name));
    Stat s = stat(f.store.resolve(name));
    assertEquals(Integer.toOctalString(s.mode()), Integer.toOctalString(m.mode()), "mode");
    assertEquals(s.nlink(), m.nlink(), "nlink");
    assertEquals(s.uid(), m.uid(), "uid");
    assertEquals(s.gid(), m.gid(), "gid");
    assertEquals(s.size(), m.size(), "size");
    assertEquals(s.mtimeNs(), m.mtimeNs(), "mtime");
    assertEquals(s.ctimeNs(), m.ctimeNs(), "ctime");
    assertEquals(s.ino(), m.ino(), "ino");
  }

  private void sh(String script) throws Exception {
    Shell.run(f.mnt, script);
  }

  @Test
  void linkShowsTheNewLinkCountThroughTheOldName() throws Exception {
    sh("touch a");
    prime("a");
    sh("ln a b");
    assertEquals(2, stat(f.mnt.resolve("a")).nlink());
    assertCoherent("a");
  }

  @Test
  void chmodThroughOneNameIsSeenAndEnforcedThroughTheOther() throws Exception {
    sh("echo secret > a && chmod 644 a && ln a b");
    prime("a", "b");
    // Readable by anyone before, through both names; access(2), not a read: a read would make
    // the kernel drop the cached attributes anyway (atime), hiding the defect.
    assertEquals(0, asNobody("test -r a"));
    sh("chmod 600 b");
    // Checked before anything stats a as root: the kernel decides with what it has for a.
    assertNotEquals(0, asNobody("test -r a"), "a revoked permission must be enforced at once");
    assertNotEquals(0, asNobody("cat a"), "a revoked permission must be enforced at once");
    assertNotEquals(0, asNobody("cat b"));
    assertEquals(0600, stat(f.mnt.resolve("a")).mode() & 07777);
    assertCoherent("a");
  }

  /** Runs {@code cmd} in the mount as uid/gid 65534 without groups; returns its exit code. */
  private int asNobody(String cmd) throws Exception {
    Process p =
        new ProcessBuilder(
                List.of(
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "bash",
                    "-c",
                    cmd))
            .directory(f.mnt.toFile())
            .redirectErrorStream(true)
            .start();
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), cmd);
    return p.exitValue();
  }

  @Test
  void chownThroughOneNameIsSeenThroughTheOther() throws Exception {
    sh("touch a && ln a b");
    prime("a", "b");
    sh("chown 1234:5678 b");
    assertEquals(1234, stat(f.mnt.resolve("a")).uid());
    assertCoherent("a");
  }

  @Test
  void utimensThroughOneNameIsSeenThroughTheOther() throws Exception {
    sh("touch a && ln a b");
    prime("a", "b");
    sh("touch -m -d @1000000000 b");
    assertEquals(1_000_000_000L * 1_000_000_000L, stat(f.mnt.resolve("a")).mtimeNs());
    assertCoherent("a");
  }

  @Test
  void truncateThroughOneNameIsSeenThroughTheOther() throws Exception {
    sh("echo hello > a && ln a b");
    prime("a", "b");
    sh("truncate -s 2 b");
    assertEquals(2, stat(f.mnt.resolve("a")).size());
    assertCoherent("a");
  }

  @Test
  void writeThroughOneNameIsSeenThroughTheOther() throws Exception {
    sh("echo hello > a && ln a b");
    prime("a", "b");
    sh("echo more >> b");
    assertEquals(11, stat(f.mnt.resolve("a")).size());
    assertEquals("hello\nmore\n", Files.readString(f.mnt.resolve("a")));
    assertCoherent("a");
  }

  @Test
  void unlinkOfOneNameShowsTheRemainingNameItsLinkCountAndCtime() throws Exception {
    sh("touch a && ln a b");
    prime("a", "b");
    Stat before = stat(f.store.resolve("a"));
    sh("rm b");
    assertEquals(1, stat(f.mnt.resolve("a")).nlink());
    // ctime: the store's, which the unlink moved (compared exactly, no matter the clock's tick).
    assertCoherent("a");
    assertEquals(before.ino(), stat(f.mnt.resolve("a")).ino());
  }

  @Test
  void renameOverALinkedFileShowsTheOtherNameItsLinkCount() throws Exception {
    sh("touch x && ln x y && echo new > z");
    prime("x", "y", "z");
    sh("mv z x");
    assertEquals(1, stat(f.mnt.resolve("y")).nlink());
    assertCoherent("y");
    assertCoherent("x");
  }
}
