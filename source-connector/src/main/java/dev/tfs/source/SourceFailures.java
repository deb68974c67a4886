package dev.tfs.source;

import dev.tfs.journal.JournalCorruptException;
import dev.tfs.journal.JournalEpochChangedException;
import dev.tfs.journal.JournalException;
import dev.tfs.journal.JournalMeta;
import java.nio.file.Path;
import org.apache.kafka.connect.errors.ConnectException;

/** The source task's fatal failures, each saying what happened, where, and what to do. */
final class SourceFailures {
  private SourceFailures() {}

  /**
   * The journal no longer holds the seqs from {@code start} (the committed offset + 1) to {@code
   * first - 1}: what happened and the two ways out (G7: nothing is skipped silently).
   */
  static ConnectException missing(
      Path dir,
      String connector,
      String topic,
      JournalMeta meta,
      Long committed,
      long start,
      long first,
      long acked) {
    String partition = "{\"volume\": \"" + meta.volume() + "\", \"epoch\": " + meta.epoch() + "}";
    return new ConnectException(
        "journal "
            + dir
            + " (volume "
            + meta.volume()
            + ", epoch "
            + meta.epoch()
            + ") no longer holds seqs "
            + start
            + ".."
            + (first - 1)
            + ": the segments holding them were deleted after they were acknowledged (acked seq "
            + acked
            + "), and the journal now starts at seq "
            + first
            + ". "
            + (committed == null
                ? "This connector has no committed offset for " + partition + ", so it starts at"
                : "This connector's committed offset is seq " + committed + ", so it continues at")
            + " seq "
            + start
            + ". Ops "
            + start
            + ".."
            + (first - 1)
            + " cannot be shipped from the journal (G7: nothing is skipped silently). If they are"
            + " already in topic "
            + topic
            + " (shipped by tfs-capture's own shipper, or by this connector before its offsets"
            + " were reset), stop the connector, PATCH /connectors/"
            + connector
            + "/offsets with {\"offsets\": [{\"partition\": "
            + partition
            + ", \"offset\": {\"seq\": "
            + (first - 1)
            + "}}]} and resume it. Otherwise they are lost for mirrors that do not have them yet:"
            + " rebuild those mirrors from a fresh snapshot. Older ops replay from Kafka (sink"
            + " offsets), never from the journal.");
  }

  /**
   * A journal failure as the task's failure, saying where (segment, position), what was shipped and
   * what to do.
   *
   * @param shipped a sentence on what was shipped, or empty before the journal was opened
   */
  static ConnectException of(JournalException e, Path dir, String shipped) {
    if (e instanceof JournalEpochChangedException ec) {
      return new ConnectException(
          "journal "
              + dir
              + " was recreated while this task shipped it: its epoch changed from "
              + ec.oldEpoch()
              + " to "
              + (ec.newEpoch() == 0 ? "none (journal.meta is gone)" : ec.newEpoch())
              + "."
              + shipped
              + " A new epoch is a new history (seqs from 1) and a new source partition"
              + " {volume, epoch}; restart the task to ship it once tfs-capture has created it."
              + " Mirrors built from the old epoch stop at the new one and must be rebuilt (G7). ("
              + e.getMessage()
              + ")",
          e);
    }
    if (e instanceof JournalCorruptException c) {
      boolean gap = e.getMessage() != null && e.getMessage().startsWith("seq gap");
      return new ConnectException(
          (gap ? "seq gap in journal " : "journal ")
              + dir
              + (gap ? "" : " is damaged")
              + " at segment "
              + c.segment()
              + " position "
              + c.position()
              + ": "
              + e.getMessage()
              + "."
              + shipped
              + " The journal is never repaired automatically (that could drop ops silently):"
              + " inspect it with 'tfs-capture journal dump "
              + dir
              + "', restore it, or stop tfs-capture and move it away to start a new journal (a"
              + " new epoch: mirrors must then be rebuilt)",
          e);
    }
    return new ConnectException("journal " + dir + ": " + e.getMessage() + "." + shipped, e);
  }
}
