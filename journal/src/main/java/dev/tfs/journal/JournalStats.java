package dev.tfs.journal;

/**
 * A snapshot of a writer's counters, for metrics (JMX) and tests.
 *
 * @param nextSeq the seq the next committed op gets
 * @param ackedSeq highest seq acknowledged by Kafka (all lower ones too), 0 if none
 * @param unshippedOps ops appended but not yet acknowledged: {@code nextSeq - 1 - ackedSeq}
 * @param unshippedBytes bytes counted against the quota: OP entries above the acknowledged seq plus
 *     unresolved intents (OP bytes are tracked at a granularity of {@code spoolMaxBytes/4096}, so
 *     the figure may be that much too high until the next acknowledgement)
 * @param journalBytes bytes of all retained segment files
 * @param segments number of retained segment files
 * @param unresolvedIntents intents with neither commit nor abort yet
 * @param blockedWriters threads blocked on the quota right now
 * @param blockedNanos total time callers spent blocked on the quota since open
 * @param fsyncs fsync calls on segment files since open (data syncs, rolls and segment creation)
 */
public record JournalStats(
    long nextSeq,
    long ackedSeq,
    long unshippedOps,
    long unshippedBytes,
    long journalBytes,
    int segments,
    int unresolvedIntents,
    int blockedWriters,
    long blockedNanos,
    long fsyncs) {}
