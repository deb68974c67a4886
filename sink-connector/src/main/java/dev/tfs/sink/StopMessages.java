package dev.tfs.sink;

import dev.tfs.op.schema.OpRecord;
import java.time.Instant;
import java.util.List;

/**
 * The words of every loud stop of a mirror's task (G7): what happened, where (topic, partition,
 * offset, seq), what the mirror still is, and what to do. One place, so each failure has one name.
 */
final class StopMessages {
  private final String connector;
  private final String topic;

  StopMessages(String connector, String topic) {
    this.connector = connector;
    this.topic = topic;
  }

  /** The first words of an apply failure in the task's message and status. */
  static String label(ApplyException.Kind kind) {
    return switch (kind) {
      case NO_SPACE -> "disk full";
      case XATTR_TOO_LARGE -> "xattr value too large for the mirror's file system";
      case FILE_TOO_LARGE -> "file too large for the mirror's file system";
      case PERMISSION -> "permission denied";
      case REFUSED -> "op refused by confinement (G5)";
      case DIVERGED -> "mirror diverged";
      case IO -> "I/O error";
    };
  }

  String applyFailed(ApplyException e, long seq, long appliedSeq) {
    return label(e.kind())
        + " applying seq "
        + seq
        + ": "
        + e.getMessage()
        + " (the mirror's state still says seq "
        + appliedSeq
        + ", so a restart re-applies this op)";
  }

  String notBytes(String where, Object value) {
    return "record at "
        + where
        + " has a value of type "
        + (value == null ? "null" : value.getClass().getName())
        + "; set value.converter="
        + "org.apache.kafka.connect.converters.ByteArrayConverter so op records arrive as bytes";
  }

  String undecodable(String reason, long appliedSeq) {
    return reason
        + ". The mirror stays consistent as of seq "
        + appliedSeq
        + " and a restart resumes at this record. Set errors.tolerance=all (with a dead letter"
        + " queue topic) to skip such records, or rebuild the topic";
  }

  String wrongPartition(OpRecord op, String where) {
    return "op seq "
        + op.getSeq()
        + " at "
        + where
        + " says it belongs to partition "
        + op.getPartition()
        + ": the topic was written with another partition count or partitioner than the"
        + " journal's, so the partition chains cannot prove completeness (G7). Re-create the"
        + " topic with the journal's partition count and re-ship, then rebuild this mirror into a"
        + " new empty tfs.mirror.root";
  }

  String otherVolume(OpRecord op, String where, String expected, long appliedSeq) {
    return "op seq "
        + op.getSeq()
        + " at "
        + where
        + " is of volume "
        + op.getVolume()
        + " but this mirror holds volume "
        + expected
        + " (G7): two volumes were shipped to one topic, or the connector reads the wrong topic."
        + " Fix the topic; this mirror stays as of seq "
        + appliedSeq;
  }

  String otherEpoch(OpRecord op, String where, long mirrorEpoch, long appliedSeq) {
    return "op seq "
        + op.getSeq()
        + " at "
        + where
        + " is of journal epoch "
        + op.getEpoch()
        + " but this mirror "
        + (appliedSeq == 0
            ? "holds epoch " + mirrorEpoch + " and has applied nothing yet"
            : "applied epoch " + mirrorEpoch + " up to seq " + appliedSeq)
        + " (G7): the capture journal was created anew, so seqs restarted and this mirror cannot"
        + " continue. Rebuild: stop the connector, point tfs.mirror.root at a new empty"
        + " directory, set tfs.epoch="
        + op.getEpoch()
        + " (records of other epochs are then skipped), reset the offsets (DELETE /connectors/"
        + connector
        + "/offsets) and resume";
  }

  String gap(SeqMerge.Gap g, long appliedSeq) {
    String missing =
        g.partitionPrevSeq > g.lastInPartition
            ? "the op(s) of this partition after seq "
                + g.lastInPartition
                + " up to seq "
                + g.partitionPrevSeq
                + " are missing"
            : "its chain does not continue from seq " + g.lastInPartition;
    return "gap in partition "
        + topic
        + "-"
        + g.partition
        + ": the record at offset "
        + g.offset
        + " has seq "
        + g.seq
        + " and partitionPrevSeq "
        + g.partitionPrevSeq
        + ", but the last op seen in this partition is seq "
        + g.lastInPartition
        + ", so "
        + missing
        + " (deleted by retention, or the topic was re-created) (G7). The mirror stays"
        + " consistent as of seq "
        + appliedSeq
        + " and cannot continue. "
        + rebuildAdvice();
  }

  String unreachable(
      long seq, long timeoutMs, long sinceMs, List<SeqMerge.Newest> newest, long appliedSeq) {
    StringBuilder each = new StringBuilder();
    for (SeqMerge.Newest n : newest) {
      each.append(each.length() == 0 ? "" : "; ").append(topic).append('-').append(n.partition());
      each.append(
          n.offset() < 0
              ? ": no record since the task started"
              : ": seq " + n.seq() + " at offset " + n.offset());
    }
    return "seq "
        + seq
        + " cannot arrive: no partition that could hold it delivered a record for "
        + timeoutMs
        + " ms (tfs.gap.timeout.ms), waiting since "
        + Instant.ofEpochMilli(sinceMs)
        + "; the newest record of each partition is "
        + each
        + " (G7). The op was lost before it reached the topic, or the topic was written by"
        + " another shipper. The mirror stays consistent as of seq "
        + appliedSeq
        + ". "
        + rebuildAdvice();
  }

  private String rebuildAdvice() {
    return "To rebuild: stop the connector, point tfs.mirror.root at a new empty directory, reset"
        + " the offsets (DELETE /connectors/"
        + connector
        + "/offsets) and resume; if the topic no longer holds the start of the history,"
        + " re-bootstrap the capture (new epoch with a snapshot) first";
  }
}
