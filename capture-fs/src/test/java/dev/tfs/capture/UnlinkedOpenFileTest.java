package dev.tfs.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfs.op.OpKind;
import dev.tfs.op.schema.OpRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13 item 3: fstat, fchmod, fchown, ftruncate, futimens, fsync, read and write through an fd
 * whose name was removed give on the mount what the store's own file system gives (the same script,
 * unlinked-fd.py, runs in a plain directory beside the store and in the mount).
 */
class UnlinkedOpenFileTest {
  @TempDir Path tmp;

  private static String script(Path dir, boolean keepLink) throws Exception {
    Path py = Path.of("src/test/resources/unlinked-fd.py").toAbsolutePath();
    return Shell.run(dir, "python3 " + py + " " + dir + " " + (keepLink ? 1 : 0));
  }

  private void sameAsTheDisk(boolean keepLink) throws Exception {
    Path plain = Files.createDirectories(tmp.resolve("plain"));
    String expected = script(plain, keepLink);
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      assertEquals(expected, script(f.mnt, keepLink));
      try (Stream<Path> s = Files.list(f.store)) {
        assertFalse(
            s.anyMatch(p -> p.getFileName().toString().startsWith(".fuse_hidden")),
            "a hidden name never reaches the store");
      }
      assertTrue(f.fs.brokenReason() == null, "capture still accepts changes");
    }
  }

  /**
   * What is captured stays as documented: the unlink of an open file is one UNLINK, a rename over
   * an open file one RENAME, calls through the fd are captured under the remaining link (or not at
   * all), and the journal replays to the store.
   */
  @Test
  void unlinkAndRenameOverOpenFilesAreCapturedAsBefore() throws Exception {
    List<OpRecord> ops;
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Shell.run(
          f.mnt,
          "echo one > a && echo two > b && ln b keep && echo new > c\n"
              + "exec 3<>a 4<b\n"
              + "rm a && mv c b\n"
              + "echo more >&3 && chmod 600 /proc/self/fd/4 && stat -L -c %a /dev/fd/4 >/dev/null\n"
              + "exec 3>&- 4<&-");
      try (Stream<Path> s = Files.list(f.store)) {
        assertEquals(
            List.of("b", "keep"), s.map(p -> p.getFileName().toString()).sorted().toList());
      }
      f.journal.sync();
      ops = Journals.read(f.journalDir);
    }
    List<OpKind> kinds = ops.stream().map(OpKind::of).toList();
    assertEquals(1, kinds.stream().filter(k -> k == OpKind.UNLINK).count(), kinds.toString());
    assertEquals(1, kinds.stream().filter(k -> k == OpKind.RENAME).count(), kinds.toString());
    Path replay = Files.createDirectory(tmp.resolve("replay"));
    Journals.replay(ops, replay);
    Trees.assertIdentical(tmp.resolve("store"), replay);
  }

  @Test
  void callsThroughAnFdWhoseLastNameIsGone() throws Exception {
    sameAsTheDisk(false);
  }

  @Test
  void callsThroughAnFdWhoseNameIsGoneWhileAnotherLinkRemains() throws Exception {
    sameAsTheDisk(true);
  }
}
