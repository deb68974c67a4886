package dev.tfs.journal;

/**
 * An intent recorded and not yet committed or aborted: what it describes, the segment that holds
 * its entry (kept while the intent is pending) and the entry's size (counted against the quota).
 */
final class PendingIntent {
  final long id;
  final IntentRecord record;
  final Segment segment;
  final int bytes;

  PendingIntent(long id, IntentRecord record, Segment segment, int bytes) {
    this.id = id;
    this.record = record;
    this.segment = segment;
    this.bytes = bytes;
  }
}
