package dev.tfs.capture;

import dev.tfs.journal.JournalEntry;
import dev.tfs.journal.JournalReader;
import dev.tfs.op.OpCodec;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.sink.MirrorApplier;
import dev.tfs.sink.SkippedNodes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A journal's ops, and their replay onto a directory by the sink's real applier. */
final class Journals {
  private Journals() {}

  /** Every op in the journal at {@code dir}, decoded, in seq order (checks that seqs are dense). */
  static List<OpRecord> read(Path dir) throws Exception {
    List<OpRecord> out = new ArrayList<>();
    OpCodec codec = new OpCodec();
    try (JournalReader r = JournalReader.open(dir)) {
      r.seek(1);
      long expect = 1;
      for (JournalEntry e = r.poll(); e != null; e = r.poll()) {
        if (e.seq() != expect) {
          throw new AssertionError("seq " + e.seq() + " where " + expect + " was expected");
        }
        expect++;
        out.add(codec.decode(e.value()));
      }
    }
    return out;
  }

  /**
   * Applies {@code ops} in order to the empty directory {@code target} with {@link MirrorApplier}
   * (owners always set, as the tests run as root), times included.
   */
  static void replay(List<OpRecord> ops, Path target) throws Exception {
    replay(ops, target, MirrorApplier.SpecialFiles.SKIP);
  }

  /**
   * As {@link #replay(List, Path)} with the device-node policy {@code special}; returns how many
   * device nodes were skipped.
   */
  static int replay(List<OpRecord> ops, Path target, MirrorApplier.SpecialFiles special)
      throws Exception {
    try (MirrorApplier a =
        new MirrorApplier(
            target, MirrorApplier.OwnerPolicy.PRESERVE, special, SkippedNodes.inMemory())) {
      for (OpRecord op : ops) {
        a.apply(op);
      }
      return a.skippedSpecialFiles();
    }
  }
}
