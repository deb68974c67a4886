package dev.tfs.journal;

import java.io.RandomAccessFile;
import java.nio.file.Path;

/**
 * A retained segment file as the writer tracks it (Kafka's {@code LogSegment}, reduced to what the
 * writer needs): its first seq, its last OP seq, its length, how many unresolved intents it holds
 * and, for the active segment only, the open file. Mutable; guarded by the writer's append lock.
 */
final class Segment {
  final Path path;
  final String name;
  final long firstSeq;

  /** Highest OP seq in the segment, firstSeq - 1 while it has none. */
  long lastSeq;

  long bytes;

  /** Unresolved intents recorded in this segment: it is kept while any remain. */
  int pins;

  /** The open file of the active segment; null for every other one. */
  RandomAccessFile raf;

  Segment(Path path, long firstSeq) {
    this.path = path;
    this.name = path.getFileName().toString();
    this.firstSeq = firstSeq;
    this.lastSeq = firstSeq - 1;
  }

  /** True while the segment holds no op (it must not be rolled: the next would get its name). */
  boolean holdsNoOp() {
    return lastSeq < firstSeq;
  }
}
