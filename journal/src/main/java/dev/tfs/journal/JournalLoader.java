package dev.tfs.journal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a writer's state from the segments on disk when the journal is opened, the way Kafka's
 * {@code LogLoader} does for a log: every segment is scanned in order and checked (its epoch, the
 * seq continuity from one segment to the next and within each, the partition chain state in each
 * header); a torn entry at the end of the newest segment (the writer stopped while appending it) is
 * cut off with a warning, and damage anywhere else fails the open with {@link
 * JournalCorruptException}, because cutting it would lose ops.
 *
 * <p>The result ({@link Loaded}) is what the writer continues from: the retained segments with the
 * newest open for appending (its content fsynced, so readers may ship all of it), the next seq and
 * intent id, the partition chains, the unresolved intents. Ops above the acknowledged seq are
 * counted into the {@link JournalAcks} given, for the quota.
 */
final class JournalLoader {
  private static final Logger log = LoggerFactory.getLogger(JournalLoader.class);

  /** What the writer continues from. */
  static final class Loaded {
    final ArrayDeque<Segment> segments = new ArrayDeque<>();
    final Map<Long, PendingIntent> unresolved = new LinkedHashMap<>();
    final long[] lastSeqs;
    long nextSeq;
    long nextIntentId;
    long intentBytes;

    /** The acknowledged seq the {@code acked} file holds. */
    long acked;

    Loaded(int partitions) {
      lastSeqs = new long[partitions];
    }

    /** The newest segment, open for appending. */
    Segment active() {
      return segments.peekLast();
    }
  }

  private final JournalDirectory directory;
  private final Path dir;
  private final JournalMeta meta;
  private final int maxBody;
  private final JournalAcks acks;

  JournalLoader(JournalDirectory directory, JournalMeta meta, JournalAcks acks) {
    this.directory = directory;
    this.dir = directory.path();
    this.meta = meta;
    this.maxBody = Format.maxBody(meta.maxRecordBytes());
    this.acks = acks;
  }

  /**
   * Scans every segment, restores the state, cuts a torn tail and opens the last segment (creating
   * the first one of a new journal).
   *
   * @throws JournalCorruptException when the journal is damaged beyond a torn tail, or the {@code
   *     acked} file claims seqs the journal no longer has
   */
  Loaded load() throws IOException {
    Loaded st = new Loaded(meta.partitions());
    long acked = AckFile.read(dir, meta.epoch());
    List<Path> files = Format.listSegments(dir);
    long expected = -1;
    long intentIds = 1;
    for (int i = 0; i < files.size(); i++) {
      boolean newest = i == files.size() - 1;
      try (SegmentReader r = SegmentReader.open(files.get(i), meta.partitions(), maxBody)) {
        SegmentHeader h = r.header;
        if (h.epoch != meta.epoch()) {
          throw new JournalCorruptException(
              "segment "
                  + r.path
                  + " belongs to epoch "
                  + h.epoch
                  + " but "
                  + Format.META
                  + " says "
                  + meta.epoch()
                  + ": segments of two journals are mixed in one directory; move the stray"
                  + " segment away",
              r.name,
              0);
        }
        if (expected < 0) {
          expected = h.firstSeq;
          System.arraycopy(h.lastSeqs, 0, st.lastSeqs, 0, st.lastSeqs.length);
        } else if (h.firstSeq != expected) {
          throw new JournalCorruptException(
              "seq gap: expected "
                  + expected
                  + ", found segment "
                  + r.name
                  + " starting at "
                  + h.firstSeq
                  + " (position 0); a segment is missing",
              r.name,
              0);
        } else if (!Arrays.equals(h.lastSeqs, st.lastSeqs)) {
          throw new JournalCorruptException(
              "segment "
                  + r.name
                  + " header's partition chain state differs from the ops before it",
              r.name,
              0);
        }
        intentIds = Math.max(intentIds, h.nextIntentId);
        Segment seg = new Segment(r.path, h.firstSeq);
        long pos = r.headerBytes();
        while (true) {
          SegmentReader.Status status = r.read(pos);
          if (status == SegmentReader.Status.END) {
            break;
          }
          if (status != SegmentReader.Status.ENTRY) {
            cutTornTail(r, pos, newest);
            break;
          }
          switch (r.type) {
            case Format.OP:
              if (r.seq != expected) {
                throw new JournalCorruptException(
                    "seq gap: expected "
                        + expected
                        + ", found "
                        + r.seq
                        + " in segment "
                        + r.name
                        + " at position "
                        + pos,
                    r.name,
                    pos);
              }
              st.lastSeqs[r.partition] = r.seq;
              seg.lastSeq = r.seq;
              expected++;
              if (r.seq > acked) {
                acks.opAppended(r.seq, r.entryBytes);
              }
              if (r.intentId != 0) {
                resolve(st, r.intentId);
              }
              break;
            case Format.INTENT:
              IntentRecord rec;
              try {
                rec = r.intent();
              } catch (IllegalArgumentException e) {
                throw new JournalCorruptException(
                    "intent "
                        + r.intentId
                        + " in segment "
                        + r.name
                        + " at position "
                        + pos
                        + " does not decode: "
                        + e.getMessage(),
                    r.name,
                    pos);
              }
              st.unresolved.put(r.intentId, new PendingIntent(r.intentId, rec, seg, r.entryBytes));
              seg.pins++;
              st.intentBytes += r.entryBytes;
              intentIds = Math.max(intentIds, r.intentId + 1);
              break;
            default: // ABORT: SegmentReader returns no other entry type
              resolve(st, r.intentId);
              break;
          }
          pos = r.next;
        }
        seg.bytes = pos;
        st.segments.addLast(seg);
      }
    }
    if (st.segments.isEmpty()) {
      if (acked > 0) {
        throw new JournalCorruptException(
            "journal "
                + dir
                + " has no segments, but "
                + Format.ACKED
                + " says seq "
                + acked
                + " was shipped: the segments were removed. Move the directory away to start a new"
                + " journal (new epoch)",
            Format.ACKED,
            -1);
      }
      expected = 1;
      st.segments.addLast(
          directory.createSegment(
              new SegmentHeader(meta.epoch(), 1, 1, new long[st.lastSeqs.length])));
    }
    st.nextSeq = expected;
    st.nextIntentId = intentIds;
    if (acked > st.nextSeq - 1) {
      throw new JournalCorruptException(
          Format.ACKED
              + " in "
              + dir
              + " says seq "
              + acked
              + " reached Kafka, but the journal ends at seq "
              + (st.nextSeq - 1)
              + ": it lost its tail (a power loss under durability GROUP or NONE?). New ops would"
              + " reuse seqs Kafka already holds. Move the directory away to start a new journal"
              + " (new epoch); mirrors stop and must be rebuilt",
          Format.ACKED,
          -1);
    }
    st.acked = acked;
    acks.restored(acked);
    Segment last = st.active();
    last.raf = new RandomAccessFile(last.path.toFile(), "rw");
    if (last.raf.length() != last.bytes) {
      last.raf.close();
      throw new JournalException(
          "segment " + last.path + " changed while the journal was being opened");
    }
    last.raf.seek(last.bytes);
    last.raf.getFD().sync(); // what recovery kept is durable now: readers may ship all of it
    return st;
  }

  /**
   * The entry at {@code pos} is damaged: cut it off when it is a torn write (the newest segment's
   * last entry, nothing valid after it), else fail.
   */
  private void cutTornTail(SegmentReader r, long pos, boolean newest) throws IOException {
    String problem = r.problem;
    if (!newest) {
      throw new JournalCorruptException(
          "segment "
              + r.path
              + " is damaged at position "
              + pos
              + " ("
              + problem
              + ") and is not the newest segment, so this is not a torn write",
          r.name,
          pos);
    }
    long after = r.validEntryAfter(pos);
    if (after >= 0) {
      throw new JournalCorruptException(
          "segment "
              + r.path
              + " is damaged at position "
              + pos
              + " ("
              + problem
              + "), and valid entries follow at position "
              + after
              + ", so this is not a torn write; ops would be lost by cutting it."
              + " Restore the journal from a backup, or copy the segment away and cut it"
              + " at "
              + pos
              + " by hand if losing those ops is acceptable",
          r.name,
          pos);
    }
    long size = r.length();
    log.warn(
        "journal {}: cutting a torn entry off segment {} at position {} ({} bytes: {});"
            + " the writer stopped while appending it",
        dir,
        r.name,
        pos,
        size - pos,
        problem);
    try (RandomAccessFile rw = new RandomAccessFile(r.path.toFile(), "rw")) {
      rw.setLength(pos);
      rw.getFD().sync();
    }
  }

  private static void resolve(Loaded st, long intentId) {
    PendingIntent p = st.unresolved.remove(intentId);
    if (p != null) {
      p.segment.pins--;
      st.intentBytes -= p.bytes;
    }
  }
}
