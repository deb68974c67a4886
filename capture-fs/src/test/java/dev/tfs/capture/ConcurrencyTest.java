package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent callers: the journal's seq order is the order ops took effect on the store (G2). */
class ConcurrencyTest {
  @TempDir Path tmp;

  @Test
  void overlappingWritesAndRacingRenamesReplayToTheStoresBytes() throws Exception {
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Path shared = f.mnt.resolve("shared");
      Files.write(shared, new byte[64 * 1024]);
      ExecutorService ex = Executors.newFixedThreadPool(3);
      Future<?>[] writers = new Future<?>[2];
      for (int t = 0; t < 2; t++) {
        byte value = (byte) ('A' + t);
        writers[t] =
            ex.submit(
                () -> {
                  try (FileChannel ch = FileChannel.open(shared, StandardOpenOption.WRITE)) {
                    byte[] block = new byte[8192];
                    Arrays.fill(block, value);
                    for (int i = 0; i < 400; i++) {
                      // Overlapping ranges: both threads hit the same offsets, 4 KiB apart.
                      long off = (i * 4096L + value * 1024L) % (60 * 1024);
                      ch.write(ByteBuffer.wrap(block), off);
                    }
                  }
                  return null;
                });
      }
      // A file written through an open fd while another thread renames it back and forth.
      Path a = f.mnt.resolve("moving-a");
      Path b = f.mnt.resolve("moving-b");
      Files.write(a, new byte[0]);
      Future<?> renamer =
          ex.submit(
              () -> {
                for (int i = 0; i < 300; i++) {
                  try {
                    Files.move(a, b, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(b, a, StandardCopyOption.ATOMIC_MOVE);
                  } catch (NoSuchFileException e) {
                    throw new AssertionError(e);
                  }
                }
                return null;
              });
      try (FileChannel ch = FileChannel.open(a, StandardOpenOption.WRITE)) {
        for (int i = 0; !renamer.isDone() || i < 100; i++) {
          ch.write(ByteBuffer.wrap(("record " + i + "\n").getBytes()), ch.size());
        }
      }
      renamer.get(120, TimeUnit.SECONDS);
      for (Future<?> w : writers) {
        w.get(120, TimeUnit.SECONDS);
      }
      ex.shutdown();
      f.journal.sync();
      Path replay = Files.createDirectory(tmp.resolve("replay"));
      Replayer.replay(Replayer.read(f.journalDir), replay);
      assertThat(Files.readAllBytes(replay.resolve("shared")))
          .isEqualTo(Files.readAllBytes(f.store.resolve("shared")));
      assertThat(Files.readAllBytes(replay.resolve("moving-a")))
          .isEqualTo(Files.readAllBytes(f.store.resolve("moving-a")));
      assertThat(Files.size(f.store.resolve("moving-a"))).isGreaterThan(1000);
      assertThat(
              TreeSnapshot.diff(
                  TreeSnapshot.of(f.store), TreeSnapshot.of(replay), true, Long.MAX_VALUE))
          .isEmpty();
    }
  }

  /**
   * A file open through one hard link whose name is then removed (unlink, or a rename over it)
   * still shows through its other links: writes through the open handle must be captured under a
   * remaining name, or the mirror's copy would silently differ.
   */
  @Test
  void writesThroughAnOpenFileWhoseNameWasRemovedAreCapturedUnderAnotherLink() throws Exception {
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      Path dir = Files.createDirectories(f.mnt.resolve("d/e"));
      Path a = dir.resolve("a");
      Files.writeString(a, "0123456789");
      Files.createLink(dir.resolve("same-dir-link"), a);
      Path b = Files.createDirectories(f.mnt.resolve("elsewhere")).resolve("other-dir-link");
      Files.createLink(b, a);
      try (FileChannel ch = FileChannel.open(a, StandardOpenOption.WRITE)) {
        Files.delete(a);
        ch.write(ByteBuffer.wrap("AB".getBytes()), 0);
        // Rename over the remaining link in the same directory: only the other directory's
        // link is left.
        Files.writeString(dir.resolve("replacement"), "new");
        Files.move(
            dir.resolve("replacement"),
            dir.resolve("same-dir-link"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ch.write(ByteBuffer.wrap("CD".getBytes()), 4);
      }
      assertThat(Files.readString(b)).isEqualTo("AB23CD6789");
      assertThat(f.metrics.getUncapturedWrites()).isZero();
      f.journal.sync();
      Path replay = Files.createDirectory(tmp.resolve("replay-links"));
      Replayer.replay(Replayer.read(f.journalDir), replay);
      assertThat(Files.readString(replay.resolve("elsewhere/other-dir-link")))
          .isEqualTo("AB23CD6789");
      assertThat(
              TreeSnapshot.diff(
                  TreeSnapshot.of(f.store), TreeSnapshot.of(replay), true, Long.MAX_VALUE))
          .isEmpty();
    }
  }
}
