package dev.tfs.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Objects;

/**
 * Tails a journal's ops, in seq order, for a shipper: the built-in one inside tfs-capture or the
 * TreeSourceConnector in a Connect worker on the same host. Takes no lock and needs nothing from
 * the writer but the files, so it works from another process while the writer appends.
 *
 * <pre>{@code
 * try (JournalReader r = JournalReader.open(dir)) {
 *   r.seek(r.ackedSeq() + 1);
 *   for (;;) {
 *     JournalEntry e = r.poll();          // null: nothing new yet
 *     if (e != null) send(e.partition(), e.key(), e.value());
 *     ...
 *     r.acknowledge(highestSeqKafkaAcked); // lets the writer delete segments
 *   }
 * }
 * }</pre>
 *
 * <p>Guarantees: {@link #poll()} returns OP entries only (intents and aborts are skipped), each
 * with a valid checksum and complete, never one the writer is still writing, and never one the
 * writer has not yet made as durable as its {@link Durability} policy promises (fsynced under FSYNC
 * and GROUP; the {@code synced} file tells how far): an op that reached Kafka cannot vanish from
 * the journal in a power loss and have its seq reused. Consecutive seqs without gaps ({@link
 * JournalCorruptException} on a gap or on damage); it follows segment rolls and copes with segments
 * deleted behind it (it keeps the open one readable). If the journal is recreated (a new epoch in
 * {@code journal.meta}) it throws {@link JournalEpochChangedException}.
 *
 * <p>Not thread-safe: use one reader per thread. Reads go through {@link java.io.RandomAccessFile},
 * so interrupting the reading thread (as Connect does when stopping a task) does not break it.
 */
public final class JournalReader implements AutoCloseable {
  private final Path dir;
  private final JournalMeta meta;
  private final int maxBody;

  private SegmentReader seg;
  private long pos;

  /** The seq the next OP entry must have. */
  private long expected;

  /** OPs below this seq are skipped (after a seek into the middle of a segment). */
  private long skipBelow;

  private long pendingSeek;
  private boolean closed;

  private Object metaKey;
  private FileTime metaMtime;

  /** Position and file size of the last search for valid data after a damaged entry. */
  private long scannedPos = -1;

  private long scannedSize = -1;

  /** When {@link #laterSegmentExists} last listed the directory (System.nanoTime), 0 never. */
  private long lastListing;

  /** How far the writer allows shipping ({@link SyncedMark}); re-read when an op is beyond. */
  private final SyncedMark.View mark;

  private long limit;

  /** Returned by {@link #take} for an op that is written but not yet durable. */
  private static final JournalEntry NOT_DURABLE =
      new JournalEntry(0, 0, 0, new byte[0], new byte[0], "", 0);

  private JournalReader(Path dir, JournalMeta meta, BasicFileAttributes metaAttrs) {
    this.dir = dir;
    this.meta = meta;
    this.mark = new SyncedMark.View(dir, meta.epoch());
    this.maxBody = Format.maxBody(meta.maxRecordBytes());
    this.metaKey = metaAttrs.fileKey();
    this.metaMtime = metaAttrs.lastModifiedTime();
  }

  /**
   * Opens the journal in {@code dir} for reading. Positioned at the oldest retained op until {@link
   * #seek} says otherwise.
   *
   * @throws JournalNotReadyException when the directory or its {@code journal.meta} does not exist
   *     yet (the capture daemon has not created the journal): wait and retry
   * @throws JournalCorruptException when {@code journal.meta} is damaged
   * @throws JournalException on I/O failure
   */
  public static JournalReader open(Path dir) {
    Objects.requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      throw new JournalNotReadyException(
          "journal directory "
              + dir
              + " does not exist yet; tfs-capture creates it when it mounts the volume (check the"
              + " path if it is running)");
    }
    try {
      Path metaFile = dir.resolve(Format.META);
      BasicFileAttributes attrs = Files.readAttributes(metaFile, BasicFileAttributes.class);
      return new JournalReader(dir, JournalMeta.read(dir), attrs);
    } catch (NoSuchFileException e) {
      throw new JournalNotReadyException(
          "journal directory "
              + dir
              + " has no "
              + Format.META
              + " yet; tfs-capture writes it when it creates the journal");
    } catch (IOException e) {
      throw new JournalException("cannot read " + dir.resolve(Format.META) + ": " + e, e);
    }
  }

  /** The journal directory. */
  public Path dir() {
    return dir;
  }

  /** The journal's identity as of {@link #open}. */
  public JournalMeta meta() {
    return meta;
  }

  /**
   * Positions the reader so that the next op {@link #poll()} returns has seq {@code nextSeq}.
   *
   * <p>A seq beyond the end of the journal is allowed: ops are skipped until it appears.
   *
   * @throws IllegalArgumentException when {@code nextSeq} is below 1
   * @throws JournalException when {@code nextSeq} is below the first retained seq: the segments
   *     holding it were deleted after Kafka acknowledged them; the message says where the journal
   *     starts now
   */
  public void seek(long nextSeq) {
    checkOpen();
    if (nextSeq < 1) {
      throw new IllegalArgumentException("seq must be at least 1, got " + nextSeq);
    }
    closeSegment();
    pendingSeek = nextSeq;
    position();
  }

  /**
   * The next op, or null when none is available yet (nothing appended, or the next entry is still
   * being written). Never blocks.
   *
   * @throws JournalCorruptException on a seq gap ({@code "seq gap: expected N, found M in segment S
   *     at position P"}) or damaged bytes that are not an unfinished tail
   * @throws JournalEpochChangedException when the journal was recreated or deleted
   * @throws JournalException when the next segment was deleted before it was read (another shipper
   *     acknowledged past this reader), or on I/O failure
   */
  public JournalEntry poll() {
    checkOpen();
    try {
      if (seg == null && !position()) {
        checkMeta();
        return null;
      }
      while (true) {
        SegmentReader.Status st = seg.read(pos);
        if (st == SegmentReader.Status.ENTRY) {
          JournalEntry e = take();
          if (e == NOT_DURABLE) {
            checkMeta();
            return null;
          }
          if (e != null) {
            return e;
          }
          continue;
        }
        // End of what is readable. Final only once the writer has moved past this point: it
        // rolled to the next segment, or (for damage) wrote valid entries after it.
        Path next = dir.resolve(Format.segmentName(expected));
        // A segment without ops is never rolled (the next one would get its name).
        boolean hasOps = expected > seg.header.firstSeq;
        boolean settled = hasOps && Files.exists(next);
        if (!settled && st == SegmentReader.Status.BAD) {
          settled = validDataFollows();
        }
        if (!settled && st == SegmentReader.Status.END && laterSegmentExists()) {
          // The writer moved on to a segment after the one that should come next: the seq gap
          // is final, report it rather than wait forever.
          seg.invalidate();
          if (seg.read(pos) == SegmentReader.Status.END && !Files.exists(next)) {
            long acked = AckFile.read(dir, meta.epoch());
            if (acked >= expected) {
              throw overtaken(next, acked);
            }
            throw new JournalCorruptException(
                "seq gap: expected "
                    + expected
                    + ", but segment "
                    + next.getFileName()
                    + " is missing and the journal continues in a later segment (after segment "
                    + seg.name
                    + " at position "
                    + pos
                    + ")",
                seg.name,
                pos);
          }
          continue;
        }
        if (!settled) {
          checkMeta();
          return null;
        }
        seg.invalidate();
        st = seg.read(pos);
        if (st == SegmentReader.Status.ENTRY) {
          JournalEntry e = take();
          if (e == NOT_DURABLE) {
            checkMeta();
            return null;
          }
          if (e != null) {
            return e;
          }
          continue;
        }
        if (st == SegmentReader.Status.END && hasOps && Files.exists(next)) {
          openNext(next);
          continue;
        }
        checkMeta();
        throw new JournalCorruptException(
            "segment "
                + seg.path
                + " is damaged at position "
                + pos
                + " ("
                + seg.problem
                + "), and the journal continues after it, so this is not an unfinished write",
            seg.name,
            pos);
      }
    } catch (IOException e) {
      throw new JournalException(
          "journal I/O error reading " + (seg == null ? dir : seg.path) + ": " + e, e);
    }
  }

  /**
   * The acknowledged seq recorded in the {@code acked} file for this journal's epoch, 0 if none.
   */
  public long ackedSeq() {
    checkOpen();
    try {
      return AckFile.read(dir, meta.epoch());
    } catch (IOException e) {
      throw new JournalException("cannot read " + dir.resolve(Format.ACKED) + ": " + e, e);
    }
  }

  /**
   * Records that Kafka has acknowledged every op up to {@code seq}, atomically, in the {@code
   * acked} file; the writer picks it up, frees quota and deletes segments. Never moves backwards: a
   * seq at or below the recorded one changes nothing.
   *
   * @throws JournalEpochChangedException when the journal was recreated since this reader opened
   *     (the seq belongs to the old journal and must not be recorded for the new one)
   */
  public void acknowledge(long seq) {
    checkOpen();
    if (seq < 0) {
      throw new IllegalArgumentException("acknowledged seq must not be negative, got " + seq);
    }
    try {
      AckFile.advance(dir, meta.epoch(), seq, this::checkEpochNow);
    } catch (IOException e) {
      throw JournalWriter.ioFailure(
          dir, "record the acknowledged seq in " + dir.resolve(Format.ACKED), e);
    }
  }

  /** The lowest seq the journal still holds (older segments were deleted), 0 when it is empty. */
  public long firstRetainedSeq() {
    checkOpen();
    try {
      List<Path> files = Format.listSegments(dir);
      return files.isEmpty() ? 0 : Format.segmentFirstSeq(files.get(0).getFileName().toString());
    } catch (IOException e) {
      throw new JournalException("cannot list " + dir + ": " + e, e);
    }
  }

  /**
   * The seq of the newest op the journal is known to hold, found cheaply (one directory listing, no
   * segment read): the higher of the last seq before the newest segment (every older segment is
   * complete) and the last seq this reader passed. Ops appended to the newest segment beyond this
   * reader are not counted, so it is a lower bound, exact right after the writer rolls; 0 for an
   * empty journal. Meant for lag estimates; call it about once a second, not per op.
   *
   * @throws JournalException on I/O failure
   */
  public long newestSeq() {
    checkOpen();
    long newestFirst;
    try {
      List<Path> files = Format.listSegments(dir);
      newestFirst =
          files.isEmpty()
              ? 0
              : Format.segmentFirstSeq(files.get(files.size() - 1).getFileName().toString());
    } catch (IOException e) {
      throw new JournalException("cannot list " + dir + ": " + e, e);
    }
    return Math.max(Math.max(0, newestFirst - 1), expected - 1);
  }

  @Override
  public void close() {
    closed = true;
    closeSegment();
    try {
      mark.close();
    } catch (IOException e) {
      // read-only file: nothing was lost
    }
  }

  // ----------------------------------------------------------------

  /**
   * The entry just read, when it is an OP at or after the seek position, else null; {@link
   * #NOT_DURABLE} (and the position unchanged) for an op the writer has not yet made durable.
   */
  private JournalEntry take() {
    long at = pos;
    pos = seg.next;
    if (seg.type != Format.OP) {
      return null;
    }
    if (seg.seq != expected) {
      throw new JournalCorruptException(
          "seq gap: expected "
              + expected
              + ", found "
              + seg.seq
              + " in segment "
              + seg.name
              + " at position "
              + at,
          seg.name,
          at);
    }
    if (seg.seq >= skipBelow && seg.seq > limit) {
      try {
        limit = mark.limit();
      } catch (IOException e) {
        throw new JournalException("cannot read " + dir.resolve(SyncedMark.FILE) + ": " + e, e);
      }
      if (seg.seq > limit) {
        pos = at; // written, but not yet as durable as the writer's policy promises: later
        return NOT_DURABLE;
      }
    }
    expected++;
    if (seg.seq < skipBelow) {
      return null;
    }
    return new JournalEntry(
        seg.seq, seg.partition, seg.intentId, seg.key(), seg.value(), seg.name, at);
  }

  /** Opens the segment holding {@link #pendingSeek}; false when the journal has no segment yet. */
  private boolean position() {
    for (int attempt = 0; ; attempt++) {
      try {
        List<Path> files = Format.listSegments(dir);
        if (files.isEmpty()) {
          return false;
        }
        long first = Format.segmentFirstSeq(files.get(0).getFileName().toString());
        long want = pendingSeek;
        Path chosen = files.get(0);
        if (want > 0 && want < first) {
          throw new JournalException(
              "seq "
                  + want
                  + " is no longer in journal "
                  + dir
                  + ": the segments up to seq "
                  + (first - 1)
                  + " were deleted after Kafka acknowledged them (acked seq "
                  + AckFile.read(dir, meta.epoch())
                  + "); the journal starts at seq "
                  + first
                  + ". Resume from seq "
                  + first
                  + " or later");
        }
        for (Path p : files) {
          if (Format.segmentFirstSeq(p.getFileName().toString()) <= want) {
            chosen = p;
          }
        }
        SegmentReader r;
        try {
          r = SegmentReader.open(chosen, meta.partitions(), maxBody);
        } catch (NoSuchFileException e) {
          if (attempt < 5) {
            continue; // deleted between listing and opening: list again
          }
          throw e;
        }
        checkSegmentEpoch(r);
        seg = r;
        pos = r.headerBytes();
        expected = r.header.firstSeq;
        skipBelow = want;
        scannedPos = -1;
        return true;
      } catch (IOException e) {
        throw new JournalException("cannot open the journal segments in " + dir + ": " + e, e);
      }
    }
  }

  private void openNext(Path next) throws IOException {
    SegmentReader r;
    try {
      r = SegmentReader.open(next, meta.partitions(), maxBody);
    } catch (NoSuchFileException e) {
      checkMeta();
      throw overtaken(next, AckFile.read(dir, meta.epoch()));
    }
    checkSegmentEpoch(r);
    closeSegment();
    seg = r;
    pos = r.headerBytes();
    scannedPos = -1;
  }

  private JournalException overtaken(Path next, long acked) {
    return new JournalException(
        "segment "
            + next.getFileName()
            + " was deleted before this reader got to it: seqs this reader has not read were"
            + " acknowledged (acked seq "
            + acked
            + ") by another shipper. Seek to a retained seq (the journal starts at "
            + firstRetainedSeq()
            + ")");
  }

  private void checkSegmentEpoch(SegmentReader r) throws IOException {
    if (r.header.epoch != meta.epoch()) {
      checkMeta();
      String name = r.name;
      r.close();
      throw new JournalCorruptException(
          "segment "
              + name
              + " belongs to epoch "
              + r.header.epoch
              + ", not to this journal's epoch "
              + meta.epoch(),
          name,
          0);
    }
  }

  /**
   * Whether the directory holds a segment starting after {@link #expected}: listed at most once a
   * second, since an idle reader at the end of the journal asks on every poll.
   */
  private boolean laterSegmentExists() throws IOException {
    long now = System.nanoTime();
    if (lastListing != 0 && now - lastListing < 1_000_000_000L) {
      return false;
    }
    lastListing = now;
    List<Path> files = Format.listSegments(dir);
    return !files.isEmpty()
        && Format.segmentFirstSeq(files.get(files.size() - 1).getFileName().toString()) > expected;
  }

  /** Whether a valid entry follows the damaged one at {@link #pos} (scans once per file size). */
  private boolean validDataFollows() throws IOException {
    long size = seg.length();
    if (scannedPos == pos && scannedSize == size) {
      return false;
    }
    scannedPos = pos;
    scannedSize = size;
    return seg.validEntryAfter(pos) >= 0;
  }

  /** Throws when {@code journal.meta} names another epoch or is gone (cheap when unchanged). */
  private void checkMeta() {
    Path metaFile = dir.resolve(Format.META);
    try {
      BasicFileAttributes a = Files.readAttributes(metaFile, BasicFileAttributes.class);
      if (Objects.equals(a.fileKey(), metaKey) && a.lastModifiedTime().equals(metaMtime)) {
        return;
      }
      checkEpochNow();
      metaKey = a.fileKey();
      metaMtime = a.lastModifiedTime();
    } catch (NoSuchFileException e) {
      throw metaGone();
    } catch (IOException e) {
      throw new JournalException("cannot read " + metaFile + ": " + e, e);
    }
  }

  private void checkEpochNow() {
    JournalMeta now;
    try {
      now = JournalMeta.read(dir);
    } catch (NoSuchFileException e) {
      throw metaGone();
    } catch (IOException e) {
      throw new JournalException("cannot read " + dir.resolve(Format.META) + ": " + e, e);
    }
    if (now.epoch() != meta.epoch()) {
      throw new JournalEpochChangedException(
          "journal "
              + dir
              + " was recreated: its epoch changed from "
              + meta.epoch()
              + " to "
              + now.epoch()
              + ". Every seq read so far belongs to the old journal; reopen the reader and start"
              + " over for the new epoch (mirrors of the old one stop and must be rebuilt)",
          meta.epoch(),
          now.epoch());
    }
  }

  private JournalEpochChangedException metaGone() {
    return new JournalEpochChangedException(
        "journal "
            + dir
            + " lost its "
            + Format.META
            + ": the journal was deleted or is being recreated; reopen the reader when tfs-capture"
            + " has created it again",
        meta.epoch(),
        0);
  }

  private void checkOpen() {
    if (closed) {
      throw new JournalException("journal reader for " + dir + " is closed");
    }
  }

  private void closeSegment() {
    if (seg != null) {
      try {
        seg.close();
      } catch (IOException e) {
        // read-only file: nothing was lost
      }
      seg = null;
    }
  }
}
