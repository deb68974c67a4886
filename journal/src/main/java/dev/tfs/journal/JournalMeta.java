package dev.tfs.journal;

import dev.tfs.op.Volumes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The identity of a journal, stored in {@code journal.meta} when the journal is created and never
 * changed afterwards.
 *
 * <p>File format: UTF-8 text, one {@code key=value} per line in this order: {@code format}, {@code
 * volume}, {@code epoch}, {@code partitions}, {@code maxRecordBytes}, then {@code crc32c=<8 hex
 * digits>}, the CRC32C of every byte before that line. Lines starting with {@code #} are comments
 * (covered by the CRC too). A file that does not parse or whose CRC does not match is refused with
 * a {@link JournalCorruptException}.
 *
 * @param formatVersion on-disk format version (1)
 * @param volume the volume name; ops carry it and go to topic {@code tfs.<volume>.ops}
 * @param epoch creation time of the journal in ms since the Unix epoch; every op carries it, and it
 *     is strictly greater than every epoch listed in {@code journal.epochs-seen}
 * @param partitions topic partition count the ops' partitions were computed for
 * @param maxRecordBytes largest record value an op of this journal may encode to
 */
public record JournalMeta(
    int formatVersion, String volume, long epoch, int partitions, int maxRecordBytes) {

  public JournalMeta {
    Volumes.validate(volume);
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch must be positive, got " + epoch);
    }
    if (partitions < 1 || partitions > JournalOptions.MAX_PARTITIONS) {
      throw new IllegalArgumentException("partitions out of range: " + partitions);
    }
    if (maxRecordBytes < 1 || maxRecordBytes > Format.MAX_RECORD_BYTES) {
      throw new IllegalArgumentException("maxRecordBytes out of range: " + maxRecordBytes);
    }
  }

  /**
   * Reads and validates {@code dir/journal.meta}.
   *
   * @throws NoSuchFileException when the file does not exist
   * @throws JournalCorruptException when it does not parse or its checksum fails
   * @throws JournalException when it was written by a newer format version
   */
  public static JournalMeta read(Path dir) throws IOException {
    Path file = dir.resolve(Format.META);
    return parse(Files.readAllBytes(file), file);
  }

  static JournalMeta parse(byte[] bytes, Path file) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    int crcLine = text.lastIndexOf("\ncrc32c=");
    if (crcLine < 0) {
      throw corrupt(file, "has no crc32c line");
    }
    int covered = crcLine + 1;
    String crcText = text.substring(covered + "crc32c=".length()).strip();
    long expected;
    try {
      expected = Long.parseLong(crcText, 16);
    } catch (NumberFormatException e) {
      throw corrupt(file, "has an unreadable crc32c '" + crcText + "'");
    }
    byte[] head = text.substring(0, covered).getBytes(StandardCharsets.UTF_8);
    int actual = Format.crc(head, 0, head.length);
    if ((actual & 0xffffffffL) != expected) {
      throw corrupt(
          file, String.format("fails its checksum (stored %08x, computed %08x)", expected, actual));
    }
    Map<String, String> kv = new LinkedHashMap<>();
    for (String line : text.substring(0, covered).split("\n", -1)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw corrupt(file, "has a malformed line '" + line + "'");
      }
      kv.put(line.substring(0, eq), line.substring(eq + 1));
    }
    try {
      int format = Integer.parseInt(required(kv, "format", file));
      if (format > Format.VERSION) {
        throw new JournalException(
            file
                + " has format version "
                + format
                + "; this tfs reads version "
                + Format.VERSION
                + " only: upgrade tfs");
      }
      return new JournalMeta(
          format,
          required(kv, "volume", file),
          Long.parseLong(required(kv, "epoch", file)),
          Integer.parseInt(required(kv, "partitions", file)),
          Integer.parseInt(required(kv, "maxRecordBytes", file)));
    } catch (IllegalArgumentException e) {
      throw corrupt(file, "has an invalid value: " + e.getMessage());
    }
  }

  /** The file's bytes, as {@link #read} accepts them. */
  byte[] toBytes() {
    String body =
        "# tfs journal identity: written once when the journal was created; do not edit\n"
            + "# (checksummed). To start a new journal, stop tfs-capture and move this directory\n"
            + "# away; the new journal gets a new epoch and mirrors notice.\n"
            + "format="
            + formatVersion
            + "\nvolume="
            + volume
            + "\nepoch="
            + epoch
            + "\npartitions="
            + partitions
            + "\nmaxRecordBytes="
            + maxRecordBytes
            + "\n";
    byte[] head = body.getBytes(StandardCharsets.UTF_8);
    return (body + String.format("crc32c=%08x\n", Format.crc(head, 0, head.length)))
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String required(Map<String, String> kv, String key, Path file) {
    String v = kv.get(key);
    if (v == null) {
      throw corrupt(file, "lacks '" + key + "'");
    }
    return v;
  }

  private static JournalCorruptException corrupt(Path file, String what) {
    return new JournalCorruptException(
        file
            + " "
            + what
            + ". It is written once and never edited; restore it from a backup, or stop"
            + " tfs-capture and move the journal directory away to start a new journal (new"
            + " epoch)",
        Format.META,
        -1);
  }
}
