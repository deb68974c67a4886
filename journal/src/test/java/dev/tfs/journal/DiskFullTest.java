package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.readAll;
import static dev.tfs.journal.TestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Write;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full file system: a 256 KiB tmpfs. Needs root (mount); skipped elsewhere, since a full
 * disk cannot be produced without one or a fake.
 */
class DiskFullTest {
  @TempDir Path tmp;
  private Path mnt;
  private boolean mounted;

  @BeforeEach
  void mountTinyFileSystem() throws Exception {
    mnt = tmp.resolve("mnt");
    Files.createDirectories(mnt);
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt.toString())
            .redirectErrorStream(true)
            .start();
    mounted = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    assumeTrue(mounted, "cannot mount a tmpfs here (not root?): disk-full test skipped");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      Process p = new ProcessBuilder("umount", mnt.toString()).inheritIO().start();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        // still busy (an open file of a failed test): detach it so the temp dir can go
        new ProcessBuilder("umount", "-l", mnt.toString())
            .inheritIO()
            .start()
            .waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aFullDiskIsReportedAndTheJournalStaysConsistent() throws Exception {
    Path dir = mnt.resolve("journal");
    Path filler = mnt.resolve("filler");
    Files.write(filler, new byte[64 * 1024]);
    JournalOptions opts = options().segmentBytes(64 * 1024).build();
    byte[] data = new byte[7000];
    int committed = 0;
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      JournalDiskFullException full = null;
      while (full == null) {
        try {
          long id = w.intent(IntentRecord.write(bytes("f"), committed, data.length));
          data[0] = (byte) committed;
          w.commit(id, write("f", committed, data));
          committed++;
        } catch (JournalDiskFullException e) {
          full = e;
        }
        assertThat(committed).as("the disk never filled").isLessThan(1000);
      }
      assertThat(full)
          .hasMessageContaining("journal disk is full")
          .hasMessageContaining(dir.toString());
      // Consistent now: exactly the committed ops, nothing half-written in between.
      assertThat(w.stats().nextSeq()).isEqualTo(committed + 1);
      assertThat(readAll(dir)).hasSize(committed);
      long onDisk = 0;
      for (Path p : TestSupport.segments(dir)) {
        onDisk += Files.size(p);
      }
      assertThat(onDisk).as("the partial entry was cut off").isEqualTo(w.stats().journalBytes());
      // The shipper frees space (here: the filler goes); the op that failed can be retried.
      Files.delete(filler);
      for (Intent in : w.unresolvedIntents()) {
        w.abort(in.id());
      }
      long id =
          w.intent(IntentRecord.of(OpKind.TRUNCATE == null ? null : OpKind.UNLINK, bytes("f")));
      w.commit(id, TestSupport.unlink("f"));
    }
    // And after a restart nothing is torn: every op decodes, seqs are dense.
    try (JournalWriter w = JournalWriter.open(dir, opts)) {
      assertThat(w.stats().nextSeq()).isEqualTo(committed + 2);
    }
    List<JournalEntry> all = readAll(dir);
    assertThat(all).hasSize(committed + 1);
    for (int i = 0; i < committed; i++) {
      Write wr = (Write) decode(all.get(i)).getOp();
      assertThat(wr.getOffset()).isEqualTo(i);
      assertThat(wr.getData().get(0)).isEqualTo((byte) i);
    }
  }
}
