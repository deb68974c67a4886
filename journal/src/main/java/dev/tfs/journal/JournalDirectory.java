package dev.tfs.journal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A journal directory held by its one writer: the {@code lock} file (one writer per directory,
 * across processes and within this JVM), the journal's identity ({@code journal.meta}, checked
 * against the options or created with a new epoch), the epochs it has had ({@code
 * journal.epochs-seen}), leftover temp files, and the durable creation of segment files.
 *
 * <p>Files other than these (segments' content, {@code acked}, {@code synced}) belong to the
 * writer's other parts. Not thread-safe: the writer calls it while opening and under its lock.
 */
final class JournalDirectory implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournalDirectory.class);

  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private final AtomicLong fsyncs = new AtomicLong();

  private JournalDirectory(Path dir, FileChannel lockChannel, FileLock fileLock) {
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.fileLock = fileLock;
  }

  /**
   * Creates the directory when needed and takes its lock, writing this process's pid into it.
   *
   * @throws JournalLockedException when another writer (process or object) holds it
   * @throws IOException on I/O failure (nothing is held then)
   */
  static JournalDirectory lock(Path dir) throws IOException {
    Files.createDirectories(dir);
    FileChannel ch =
        FileChannel.open(
            dir.resolve(Format.LOCK),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    try {
      FileLock fl;
      try {
        fl = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        fl = null; // held by this JVM
      }
      if (fl == null) {
        String holder;
        try {
          holder = Files.readString(dir.resolve(Format.LOCK), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          holder = "";
        }
        holder = holder.isEmpty() ? "unknown" : holder;
        throw new JournalLockedException(
            "journal "
                + dir
                + " is already open for writing by process "
                + holder
                + " (see "
                + dir.resolve(Format.LOCK)
                + "); only one tfs-capture may write a journal: stop that process or use another"
                + " journal directory",
            holder);
      }
      ch.truncate(0);
      ch.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
      ch.force(true);
      JournalDirectory d = new JournalDirectory(dir, ch, fl);
      ch = null;
      return d;
    } finally {
      if (ch != null) {
        try {
          ch.close(); // also releases the lock
        } catch (IOException e) {
          log.debug("closing {} failed", dir.resolve(Format.LOCK), e);
        }
      }
    }
  }

  /** The directory. */
  Path path() {
    return dir;
  }

  /** fsyncs done creating segments (counted in the writer's stats). */
  long fsyncs() {
    return fsyncs.get();
  }

  /**
   * The journal's identity: read from {@code journal.meta} and checked against {@code opts}, or,
   * for a new journal, created with a new epoch.
   *
   * @throws JournalCorruptException when segments exist without a {@code journal.meta}
   * @throws JournalException when the journal was created with another volume, partition count or
   *     record bound (the message says what differs)
   */
  JournalMeta loadOrCreateMeta(JournalOptions opts) throws IOException {
    JournalMeta m;
    try {
      m = JournalMeta.read(dir);
    } catch (NoSuchFileException e) {
      List<Path> segs = Format.listSegments(dir);
      if (!segs.isEmpty()) {
        throw new JournalCorruptException(
            dir
                + " holds "
                + segs.size()
                + " journal segments but no "
                + Format.META
                + ": restore it from a backup, or move the directory away to start a new journal"
                + " (new epoch)",
            Format.META,
            -1);
      }
      return createMeta(opts);
    }
    List<String> diffs = new ArrayList<>();
    if (!m.volume().equals(opts.volume())) {
      diffs.add("volume '" + m.volume() + "' (options say '" + opts.volume() + "')");
    }
    if (m.partitions() != opts.partitions()) {
      diffs.add(m.partitions() + " partitions (options say " + opts.partitions() + ")");
    }
    if (m.maxRecordBytes() != opts.maxRecordBytes()) {
      diffs.add(
          "maxRecordBytes " + m.maxRecordBytes() + " (options say " + opts.maxRecordBytes() + ")");
    }
    if (!diffs.isEmpty()) {
      throw new JournalException(
          "journal "
              + dir
              + " (epoch "
              + m.epoch()
              + ") was created with "
              + String.join(", ", diffs)
              + ". These are fixed for the life of a journal: every op's partition and partition"
              + " chain depend on them. Configure the journal's values, or let the shipper drain"
              + " the journal, stop tfs-capture and move the directory away to start a new journal"
              + " (a new epoch: mirrors stop and must be rebuilt)");
    }
    return m;
  }

  /**
   * A new journal: the epoch is the current time in ms, but strictly greater than every epoch in
   * {@code journal.epochs-seen} (which gets the new one appended first), so a journal recreated in
   * the same directory gets a new epoch even if the clock stepped back.
   */
  private JournalMeta createMeta(JournalOptions opts) throws IOException {
    Path seenFile = dir.resolve(Format.EPOCHS_SEEN);
    String seen = "";
    long maxSeen = 0;
    if (Files.exists(seenFile)) {
      seen = Files.readString(seenFile, StandardCharsets.UTF_8);
      for (String line : seen.split("\n", -1)) {
        try {
          if (!line.isBlank() && !line.startsWith("#")) {
            maxSeen = Math.max(maxSeen, Long.parseLong(line.strip()));
          }
        } catch (NumberFormatException e) {
          log.warn("{}: ignoring unreadable line '{}'", seenFile, line);
        }
      }
    }
    long epoch = Math.max(System.currentTimeMillis(), maxSeen + 1);
    if (!seen.isEmpty() && !seen.endsWith("\n")) {
      seen += "\n";
    }
    Format.writeAtomically(seenFile, (seen + epoch + "\n").getBytes(StandardCharsets.UTF_8));
    JournalMeta m =
        new JournalMeta(
            Format.VERSION, opts.volume(), epoch, opts.partitions(), opts.maxRecordBytes());
    Format.writeAtomically(dir.resolve(Format.META), m.toBytes());
    log.info("journal {}: created for volume {} with epoch {}", dir, m.volume(), epoch);
    return m;
  }

  /**
   * Removes temp files (name {@code <file>.tmp-<pid>[-<random>]}) left by processes that died while
   * replacing a file; those of live processes (a reader acknowledging right now) stay.
   */
  void deleteLeftoverTempFiles() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.tmp-*")) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        String pid = n.substring(n.lastIndexOf(".tmp-") + 5);
        int dash = pid.indexOf('-');
        pid = dash < 0 ? pid : pid.substring(0, dash);
        boolean alive;
        try {
          long id = Long.parseLong(pid);
          alive =
              id != ProcessHandle.current().pid()
                  && ProcessHandle.of(id).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
          continue; // not ours
        }
        if (!alive) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /**
   * Creates a segment file holding only its header, durably (temp file, fsync, rename, fsync of the
   * directory): after a crash it either exists complete or not at all.
   */
  Segment createSegment(SegmentHeader h) throws IOException {
    String name = Format.segmentName(h.firstSeq);
    Path file = dir.resolve(name);
    Path tmp = dir.resolve(name + ".tmp-" + ProcessHandle.current().pid());
    try {
      try (RandomAccessFile raf = new RandomAccessFile(tmp.toFile(), "rw")) {
        raf.setLength(0);
        raf.write(h.encode());
        raf.getFD().sync();
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Format.fsyncDir(dir);
      fsyncs.incrementAndGet();
    } finally {
      Files.deleteIfExists(tmp);
    }
    Segment s = new Segment(file, h.firstSeq);
    s.bytes = h.size();
    return s;
  }

  /** Releases the lock file. */
  @Override
  public void close() {
    try {
      fileLock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.debug("releasing {} failed", dir.resolve(Format.LOCK), e);
    }
  }
}
