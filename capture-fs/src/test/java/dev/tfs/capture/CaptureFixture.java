package dev.tfs.capture;

import dev.tfs.capture.fs.FuseMount;
import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalOptions;
import dev.tfs.journal.JournalWriter;
import dev.tfs.posix.Posix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A CaptureFs mounted in-process over a temp store with a real journal. */
final class CaptureFixture implements AutoCloseable {
  final Path store;
  final Path mnt;
  final Path journalDir;
  final JournalWriter journal;
  final CaptureMetrics metrics = new CaptureMetrics();
  final CaptureFs fs;
  final int rootFd;
  private final FuseMount mount;

  CaptureFixture(Path tmp, JournalOptions.Builder opts) throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    mnt = Files.createDirectories(tmp.resolve("mnt"));
    journalDir = tmp.resolve("journal");
    journal = JournalWriter.open(journalDir, opts.build());
    metrics.attach(journal);
    rootFd = Posix.openDirectory(store);
    fs = new CaptureFs(rootFd, journal, metrics);
    mount =
        FuseMount.mount(fs, mnt, "tfs-test", FuseMount.Options.defaults(), Duration.ofSeconds(10));
  }

  static JournalOptions.Builder options() {
    return JournalOptions.builder().volume("test").partitions(4).durability(Durability.NONE);
  }

  @Override
  public void close() {
    try {
      mount.close();
    } finally {
      FuseMount.unmount(mnt, true, Duration.ofSeconds(5));
      try {
        journal.close();
      } finally {
        Posix.closeQuietly(rootFd);
      }
    }
  }
}
