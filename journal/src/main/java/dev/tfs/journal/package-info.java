/**
 * The capture journal: the local, durable, append-only "disk buffer" between a tfs volume's file
 * system and Kafka.
 *
 * <p>One writer process (tfs-capture) appends through {@link dev.tfs.journal.JournalWriter};
 * shippers tail it through {@link dev.tfs.journal.JournalReader} — the built-in one in the same
 * process, or the TreeSourceConnector in a Connect worker on the same host — and record what Kafka
 * acknowledged, which lets the writer delete old segments and unblock writers waiting on the quota.
 * {@link dev.tfs.journal.JournalDump} prints a journal.
 *
 * <h2>Files in a journal directory</h2>
 *
 * <ul>
 *   <li>{@code journal.meta}: volume, epoch, partitions, maxRecordBytes, format version; written
 *       once (temp file, fsync, rename, directory fsync), checksummed ({@link
 *       dev.tfs.journal.JournalMeta}).
 *   <li>{@code journal.epochs-seen}: every epoch a journal in this directory ever had, one per
 *       line; a new journal's epoch is greater than all of them.
 *   <li>{@code seg-<first seq, 20 digits>.log}: segments, rolled at {@code segmentBytes}; a header
 *       (first seq, per-partition last seq, next intent id, CRC32C) then entries (length, CRC32C,
 *       type OP / INTENT / ABORT). The exact layout is documented in {@code Format}.
 *   <li>{@code acked}: epoch and highest seq acknowledged by Kafka, checksummed, replaced
 *       atomically; {@code acked.lock} serializes its writers.
 *   <li>{@code lock}: held with {@code FileChannel.tryLock} by the writer; holds its pid.
 * </ul>
 *
 * <h2>Compatibility</h2>
 *
 * An OP entry's value is exactly {@code OpCodec.encode} of the op (Avro single-object encoding),
 * its key the op path and its partition Kafka's default partition for that key, so whichever
 * shipper sends it, the Kafka record is the same.
 */
package dev.tfs.journal;
