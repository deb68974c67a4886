package dev.tfs.journal;

/**
 * The fixed-size header at the start of every segment file (layout in {@link Format}). It carries
 * what the segments before it would otherwise be needed for, so old segments can be deleted: the
 * first seq, the last seq of every partition (for {@code partitionPrevSeq} chains) and the next
 * intent id.
 */
final class SegmentHeader {
  final long epoch;
  final long firstSeq;
  final long nextIntentId;
  final long[] lastSeqs;

  SegmentHeader(long epoch, long firstSeq, long nextIntentId, long[] lastSeqs) {
    this.epoch = epoch;
    this.firstSeq = firstSeq;
    this.nextIntentId = nextIntentId;
    this.lastSeqs = lastSeqs;
  }

  int size() {
    return Format.headerBytes(lastSeqs.length);
  }

  byte[] encode() {
    byte[] b = new byte[size()];
    Format.putInt(b, 0, Format.MAGIC);
    Format.putInt(b, 4, Format.VERSION);
    Format.putLong(b, 8, epoch);
    Format.putLong(b, 16, firstSeq);
    Format.putLong(b, 24, nextIntentId);
    Format.putInt(b, 32, lastSeqs.length);
    for (int i = 0; i < lastSeqs.length; i++) {
      Format.putLong(b, 36 + 8 * i, lastSeqs[i]);
    }
    Format.putInt(b, b.length - 4, Format.crc(b, 0, b.length - 4));
    return b;
  }

  /**
   * Parses a header of a journal with {@code partitions} partitions from {@code b[0..n)}.
   *
   * @return the problem as text when the bytes are not a valid header, else null (the header is in
   *     {@code out[0]})
   */
  static String decode(byte[] b, int n, int partitions, SegmentHeader[] out) {
    int size = Format.headerBytes(partitions);
    if (n < 8) {
      return "file is " + n + " bytes, shorter than a segment header";
    }
    if (Format.getInt(b, 0) != Format.MAGIC) {
      return String.format("bad magic %08x (not a tfs journal segment)", Format.getInt(b, 0));
    }
    int version = Format.getInt(b, 4);
    if (version != Format.VERSION) {
      return "segment format version " + version + " is not " + Format.VERSION;
    }
    if (n < size) {
      return "file is " + n + " bytes, shorter than its " + size + "-byte header";
    }
    int stored = Format.getInt(b, size - 4);
    int actual = Format.crc(b, 0, size - 4);
    if (stored != actual) {
      return String.format("header CRC mismatch (stored %08x, computed %08x)", stored, actual);
    }
    int p = Format.getInt(b, 32);
    if (p != partitions) {
      return "header says " + p + " partitions, journal.meta says " + partitions;
    }
    long[] last = new long[p];
    for (int i = 0; i < p; i++) {
      last[i] = Format.getLong(b, 36 + 8 * i);
    }
    long firstSeq = Format.getLong(b, 16);
    if (firstSeq < 1) {
      return "header first seq " + firstSeq + " is not positive";
    }
    out[0] = new SegmentHeader(Format.getLong(b, 8), firstSeq, Format.getLong(b, 24), last);
    return null;
  }
}
