package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
      // Open before the renamer starts: opening by name while it flips the name would race.
      try (FileChannel ch = FileChannel.open(a, StandardOpenOption.WRITE)) {
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
        for (int i = 0; !renamer.isDone() || i < 100; i++) {
          ch.write(ByteBuffer.wrap(("record " + i + "\n").getBytes()), ch.size());
        }
        renamer.get(120, TimeUnit.SECONDS);
      }
      for (Future<?> w : writers) {
        w.get(120, TimeUnit.SECONDS);
      }
      ex.shutdown();
      Path replay = replayEqualsStore(f, "replay").mirror();
      assertThat(Files.readAllBytes(replay.resolve("shared")))
          .isEqualTo(Files.readAllBytes(f.store.resolve("shared")));
      assertThat(Files.readAllBytes(replay.resolve("moving-a")))
          .isEqualTo(Files.readAllBytes(f.store.resolve("moving-a")));
      assertThat(Files.size(f.store.resolve("moving-a"))).isGreaterThan(1000);
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
      Path replay = replayEqualsStore(f, "replay-links").mirror();
      assertThat(Files.readString(replay.resolve("elsewhere/other-dir-link")))
          .isEqualTo("AB23CD6789");
    }
  }

  /**
   * Namespace changes run in parallel across directories (path locks instead of one global lock;
   * the kernel itself serializes calls within one directory): creators in their own and in one
   * shared directory, hard links across directories, unlinks of linked names, rmdirs, and a racer
   * writing into directories and files the creators are adding and removing. A child journaled
   * before its parent, a directory's mtimes recorded out of order, or a write recorded under a name
   * already removed makes the strict replay fail or differ from the store. A stress test: it shows
   * the races are absent in this run, it cannot force each interleaving.
   */
  @Test
  void parallelNamespaceChangesInManyDirectoriesReplayToTheStore() throws Exception {
    try (CaptureFixture f = new CaptureFixture(tmp, CaptureFixture.options())) {
      int creators = 4;
      int rounds = 120;
      Path shared = Files.createDirectory(f.mnt.resolve("shared"));
      ExecutorService ex = Executors.newFixedThreadPool(creators + 1);
      java.util.concurrent.atomic.AtomicInteger running =
          new java.util.concurrent.atomic.AtomicInteger(creators);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < creators; t++) {
        int me = t;
        futures.add(
            ex.submit(
                () -> {
                  try {
                    Path d = Files.createDirectory(f.mnt.resolve("d" + me));
                    for (int i = 0; i < rounds; i++) {
                      Path sub = Files.createDirectory(d.resolve("s" + i));
                      Path file = sub.resolve("f");
                      try (FileChannel ch =
                          FileChannel.open(
                              file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap(("t" + me + " i" + i + "\n").getBytes()));
                      }
                      Files.writeString(shared.resolve("t" + me + "-" + i), "shared " + i);
                      Files.createLink(d.resolve("l" + i), file);
                      if (i % 3 == 0) {
                        Files.delete(file); // the file lives on under d/l<i>
                      }
                      if (i % 5 == 0) {
                        Files.delete(d.resolve("l" + i));
                        Files.deleteIfExists(file);
                        removeTree(sub);
                      }
                      if (i % 7 == 0) {
                        Files.delete(shared.resolve("t" + me + "-" + (i / 2)));
                      }
                    }
                  } finally {
                    running.decrementAndGet();
                  }
                  return null;
                }));
      }
      futures.add(
          ex.submit(
              () -> {
                // The racer: appends to every file it can see and creates a child in every
                // directory it can see, racing the creators' namespace changes.
                long k = 0;
                while (running.get() > 0) {
                  for (int t = 0; t < creators; t++) {
                    Path d = f.mnt.resolve("d" + t);
                    String[] names = d.toFile().list();
                    if (names == null) {
                      continue;
                    }
                    for (String n : names) {
                      Path p = d.resolve(n);
                      try {
                        if (n.startsWith("s")) {
                          Files.writeString(p.resolve("r" + (k++)), "racer");
                          appendTo(p.resolve("f"), k);
                        } else {
                          appendTo(p, k);
                        }
                      } catch (java.io.IOException gone) {
                        // removed meanwhile: the race this test is about
                      }
                    }
                  }
                }
                return null;
              }));
      for (Future<?> fu : futures) {
        fu.get(300, TimeUnit.SECONDS);
      }
      ex.shutdown();
      assertThat(replayEqualsStore(f, "replay-parallel").entries())
          .isGreaterThan(creators * rounds);
    }
  }

  /** Replays the fixture's journal into a new directory and asserts it equals the store. */
  private Replayed replayEqualsStore(CaptureFixture f, String name) throws Exception {
    f.journal.sync();
    Path replay = Files.createDirectory(tmp.resolve(name));
    Journals.replay(Journals.read(f.journalDir), replay);
    return new Replayed(replay, Trees.assertIdentical(f.store, replay).entries());
  }

  /** A replay equal to the store: its directory and how many entries it holds. */
  private record Replayed(Path mirror, long entries) {}

  private static void appendTo(Path file, long k) throws java.io.IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(("racer " + k + "\n").getBytes()), ch.size());
    }
  }

  private static void removeTree(Path dir) throws java.io.IOException {
    // The racer may still be creating children: empty the directory until rmdir succeeds.
    while (true) {
      String[] names = dir.toFile().list();
      for (String n : names == null ? new String[0] : names) {
        Files.deleteIfExists(dir.resolve(n));
      }
      try {
        Files.delete(dir);
        return;
      } catch (java.nio.file.DirectoryNotEmptyException raced) {
        // a child appeared after the listing: go round again
      }
    }
  }
}
