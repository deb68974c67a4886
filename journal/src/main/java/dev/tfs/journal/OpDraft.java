package dev.tfs.journal;

import dev.tfs.op.OpKind;
import java.util.Objects;

/**
 * What a writer knows of an op before the journal numbers it: the path, when it took effect, the
 * body (one branch of the op union) and the times the op left behind. The journal adds the fields
 * only it can know ({@code volume}, {@code epoch}, {@code seq}, {@code partition}, {@code
 * partitionPrevSeq}) when it appends the op, so no writer ever builds a record with made-up values.
 *
 * @param path raw path bytes relative to the volume root (not copied: do not modify)
 * @param timeNanos when the op took effect, ns since the Unix epoch
 * @param body the op body, an instance of one {@link OpKind#bodyClass()}
 * @param mtime the object's mtime after the op (ns), or null when the op did not change it
 * @param parentMtime the parent directory's mtime after a namespace change (ns), or null
 */
// Handed once from the capture to the journal, never compared or hashed: the array is fine.
@SuppressWarnings("ArrayRecordComponent")
public record OpDraft(byte[] path, long timeNanos, Object body, Long mtime, Long parentMtime) {
  public OpDraft {
    Objects.requireNonNull(path, "path");
    OpKind.of(Objects.requireNonNull(body, "body"));
  }

  /** The kind of the body. */
  public OpKind kind() {
    return OpKind.of(body);
  }
}
