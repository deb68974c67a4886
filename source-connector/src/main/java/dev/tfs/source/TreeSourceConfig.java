package dev.tfs.source;

import dev.tfs.connect.ConfigValidation;
import dev.tfs.connect.ConfigValidation.Problem;
import dev.tfs.journal.JournalException;
import dev.tfs.journal.JournalMeta;
import dev.tfs.journal.JournalNotReadyException;
import dev.tfs.journal.JournalReader;
import dev.tfs.op.Volumes;
import dev.tfs.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

/**
 * Configuration of {@link TreeSourceConnector}. Every key has a group, an order, a width, a display
 * name and documentation; {@code dev.tfs.connect.ConfigMarkdown} renders them into {@code
 * source-connector/README.md} (a test fails when the README is stale). Each key's own rules are its
 * validator; the rules between keys, Connect's own keys and the journal on disk are {@link
 * #crossFieldProblems}, which the connector's {@code validate()} and {@code start()} apply through
 * {@link ConfigValidation}.
 */
public final class TreeSourceConfig extends AbstractConfig {
  public static final String GROUP_JOURNAL = "Journal";
  public static final String GROUP_KAFKA = "Kafka";
  public static final String GROUP_PACING = "Batching and pacing";

  public static final String JOURNAL_DIR_CONFIG = "tfs.journal.dir";
  public static final String JOURNAL_DIR_DOC =
      "Absolute path of the tfs-capture journal directory to ship (the directory holding"
          + " journal.meta and the seg-*.log segments; tfs-capture --journal). The worker must run"
          + " on the capture host. The directory may not exist yet: the task waits for tfs-capture"
          + " to create the journal and starts shipping when it appears. The connector only reads"
          + " segments; it writes nothing but the journal's acknowledged position (the 'acked'"
          + " file), which lets tfs-capture delete shipped segments.";
  public static final String JOURNAL_DIR_DISPLAY = "Journal directory";

  public static final String VOLUME_CONFIG = "tfs.volume";
  public static final String VOLUME_DOC =
      "Name of the captured volume (tfs-capture --volume). Must equal the volume recorded in the"
          + " journal's journal.meta: a journal of another volume stops the task with a clear"
          + " error rather than mixing two histories in one topic.";
  public static final String VOLUME_DISPLAY = "Volume";

  public static final String TOPIC_CONFIG = "tfs.topic";
  public static final String TOPIC_DOC =
      "Topic the ops are written to. Default: tfs.<volume>.ops, the same topic tfs-capture's"
          + " built-in shipper uses. The topic must have at least as many partitions as the"
          + " journal numbers ops for (journal.meta 'partitions'): every op goes to the partition"
          + " the journal assigned it. Create it beforehand, or let Connect create it with"
          + " topic.creation.default.partitions set to that count.";
  public static final String TOPIC_DISPLAY = "Topic";

  public static final String SCHEMA_REGISTRY_URL_CONFIG = "tfs.schema.registry.url";
  public static final String SCHEMA_REGISTRY_URL_DOC =
      "Confluent-API schema registry URL(s), comma-separated, optionally with user:secret@. When"
          + " set, the task registers the op schema under <topic>-value once and writes values"
          + " in Confluent framing (00 + schema id + the unchanged Avro body), exactly as the"
          + " built-in shipper does with a registry. Unset: values are the journal's Avro"
          + " single-object encoding, byte for byte.";
  public static final String SCHEMA_REGISTRY_URL_DISPLAY = "Schema registry URL";

  public static final String BATCH_MAX_RECORDS_CONFIG = "tfs.batch.max.records";
  public static final int BATCH_MAX_RECORDS_DEFAULT = 1000;
  public static final String BATCH_MAX_RECORDS_DOC =
      "Most records one poll() hands to Connect. With exactly-once support and the default"
          + " transaction.boundary=poll, this is also the most records per Kafka transaction.";
  public static final String BATCH_MAX_RECORDS_DISPLAY = "Batch size (records)";

  public static final String BATCH_MAX_BYTES_CONFIG = "tfs.batch.max.bytes";
  public static final long BATCH_MAX_BYTES_DEFAULT = 8L * 1024 * 1024;
  public static final String BATCH_MAX_BYTES_DOC =
      "Bound on the key and value bytes of one poll() batch: a batch ends with the record that"
          + " reaches it (a batch always holds at least one record). Bounds the task's memory"
          + " per poll.";
  public static final String BATCH_MAX_BYTES_DISPLAY = "Batch size (bytes)";

  public static final String POLL_INTERVAL_CONFIG = "tfs.poll.interval.ms";
  public static final long POLL_INTERVAL_DEFAULT = 50;
  public static final String POLL_INTERVAL_DOC =
      "How long poll() waits before looking again when the journal has nothing new (or does not"
          + " exist yet). The latency an idle journal adds to a new op, at most.";
  public static final String POLL_INTERVAL_DISPLAY = "Idle poll interval (ms)";

  public static final String ACK_INTERVAL_CONFIG = "tfs.ack.interval.ms";
  public static final long ACK_INTERVAL_DEFAULT = 1000;
  public static final String ACK_INTERVAL_DOC =
      "How often, at most, the task records in the journal's 'acked' file the highest seq that"
          + " Kafka holds and Connect has committed the offset of (each time it reads the"
          + " committed offset back from Connect's offset store). tfs-capture deletes segments"
          + " and frees spool quota up to that seq. Lower values trim the journal sooner at the"
          + " cost of more offset-store reads.";
  public static final String ACK_INTERVAL_DISPLAY = "Acknowledgement interval (ms)";

  /** The one definition of the connector's own keys. */
  public static final ConfigDef CONFIG_DEF = define();

  private static ConfigDef define() {
    ConfigDef d = new ConfigDef();
    int o = 0;
    d.define(
        JOURNAL_DIR_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        new AbsolutePath(),
        Importance.HIGH,
        JOURNAL_DIR_DOC,
        GROUP_JOURNAL,
        ++o,
        Width.LONG,
        JOURNAL_DIR_DISPLAY);
    d.define(
        VOLUME_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        new VolumeName(),
        Importance.HIGH,
        VOLUME_DOC,
        GROUP_JOURNAL,
        ++o,
        Width.MEDIUM,
        VOLUME_DISPLAY);
    o = 0;
    d.define(
        TOPIC_CONFIG,
        ConfigDef.Type.STRING,
        null,
        new TopicName(),
        Importance.HIGH,
        TOPIC_DOC,
        GROUP_KAFKA,
        ++o,
        Width.LONG,
        TOPIC_DISPLAY);
    d.define(
        SCHEMA_REGISTRY_URL_CONFIG,
        ConfigDef.Type.STRING,
        null,
        new RegistryUrl(),
        Importance.LOW,
        SCHEMA_REGISTRY_URL_DOC,
        GROUP_KAFKA,
        ++o,
        Width.LONG,
        SCHEMA_REGISTRY_URL_DISPLAY);
    o = 0;
    d.define(
        BATCH_MAX_RECORDS_CONFIG,
        ConfigDef.Type.INT,
        BATCH_MAX_RECORDS_DEFAULT,
        ConfigDef.Range.between(1, 100_000),
        Importance.LOW,
        BATCH_MAX_RECORDS_DOC,
        GROUP_PACING,
        ++o,
        Width.SHORT,
        BATCH_MAX_RECORDS_DISPLAY);
    d.define(
        BATCH_MAX_BYTES_CONFIG,
        ConfigDef.Type.LONG,
        BATCH_MAX_BYTES_DEFAULT,
        ConfigDef.Range.between(1024L, 1L << 30),
        Importance.LOW,
        BATCH_MAX_BYTES_DOC,
        GROUP_PACING,
        ++o,
        Width.SHORT,
        BATCH_MAX_BYTES_DISPLAY);
    d.define(
        POLL_INTERVAL_CONFIG,
        ConfigDef.Type.LONG,
        POLL_INTERVAL_DEFAULT,
        ConfigDef.Range.between(1L, 60_000L),
        Importance.LOW,
        POLL_INTERVAL_DOC,
        GROUP_PACING,
        ++o,
        Width.SHORT,
        POLL_INTERVAL_DISPLAY);
    d.define(
        ACK_INTERVAL_CONFIG,
        ConfigDef.Type.LONG,
        ACK_INTERVAL_DEFAULT,
        ConfigDef.Range.between(0L, 3_600_000L),
        Importance.LOW,
        ACK_INTERVAL_DOC,
        GROUP_PACING,
        ++o,
        Width.SHORT,
        ACK_INTERVAL_DISPLAY);
    return d;
  }

  public TreeSourceConfig(Map<?, ?> props) {
    super(CONFIG_DEF, props);
  }

  public Path journalDir() {
    return Path.of(getString(JOURNAL_DIR_CONFIG)).normalize();
  }

  public String volume() {
    return getString(VOLUME_CONFIG);
  }

  /** The configured topic, or {@link Volumes#defaultTopic} (the built-in shipper's topic). */
  public String topic() {
    String t = getString(TOPIC_CONFIG);
    return t == null || t.isBlank() ? Volumes.defaultTopic(volume()) : t.strip();
  }

  /** The registry URL(s), or null. */
  public String schemaRegistryUrl() {
    String u = getString(SCHEMA_REGISTRY_URL_CONFIG);
    return u == null || u.isBlank() ? null : u.strip();
  }

  public int batchMaxRecords() {
    return getInt(BATCH_MAX_RECORDS_CONFIG);
  }

  public long batchMaxBytes() {
    return getLong(BATCH_MAX_BYTES_CONFIG);
  }

  public long pollIntervalMs() {
    return getLong(POLL_INTERVAL_CONFIG);
  }

  public long ackIntervalMs() {
    return getLong(ACK_INTERVAL_CONFIG);
  }

  // ------------------------------------------------------------------ cross-field rules

  /**
   * The rules between keys, each problem on the key to change: both converters the byte-array one,
   * no {@code errors.tolerance=all}, and, for a journal this worker can see, the journal's volume
   * and enough partitions for {@code topic.creation.default.partitions}. A journal that does not
   * exist yet passes (the task waits for it); one on another worker's host cannot be checked.
   *
   * @param props a configuration whose every key passed its own validation
   */
  public static List<Problem> crossFieldProblems(Map<String, String> props) {
    List<Problem> out = new ArrayList<>();
    TreeSourceConfig c = new TreeSourceConfig(props);
    for (String key : List.of("key.converter", "value.converter")) {
      String v = props.get(key);
      if (v == null || !v.strip().equals(ConfigValidation.BYTE_ARRAY_CONVERTER)) {
        out.add(
            new Problem(
                key,
                (v == null || v.isBlank() ? "not set" : "is " + v.strip())
                    + ": tfs ships the journal's key and value bytes unchanged; set "
                    + key
                    + "="
                    + ConfigValidation.BYTE_ARRAY_CONVERTER
                    + " in the connector configuration (the worker's default converter is not"
                    + " visible to the connector, so it must be set here)"));
      }
    }
    String tolerance = props.get("errors.tolerance");
    if (tolerance != null && tolerance.strip().toLowerCase(Locale.ROOT).equals("all")) {
      out.add(
          new Problem(
              "errors.tolerance",
              "'all' would skip ops that fail to reach Kafka, and mirrors would stop at the gap"
                  + " (G7); use errors.tolerance=none (failures stop the task, the journal keeps"
                  + " the ops)"));
    }
    Path dir = c.journalDir();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      out.add(new Problem(JOURNAL_DIR_CONFIG, dir + " exists and is not a directory"));
    } else if (Files.isDirectory(dir)) {
      // The journal may live on another worker's host: only check what this one can see.
      try (JournalReader r = JournalReader.open(dir)) {
        journalProblems(r.meta(), c, props, out);
      } catch (JournalNotReadyException e) {
        // Not created yet: the task waits for it.
      } catch (JournalException e) {
        out.add(new Problem(JOURNAL_DIR_CONFIG, "cannot read the journal: " + e.getMessage()));
      }
    }
    return out;
  }

  /** The rules between the configuration and the journal's meta. */
  private static void journalProblems(
      JournalMeta meta, TreeSourceConfig c, Map<String, String> props, List<Problem> out) {
    if (!meta.volume().equals(c.volume())) {
      out.add(
          new Problem(
              VOLUME_CONFIG,
              "the journal in "
                  + c.journalDir()
                  + " belongs to volume '"
                  + meta.volume()
                  + "', not '"
                  + c.volume()
                  + "'"));
    }
    String p = props.get("topic.creation.default.partitions");
    if (p != null && !p.isBlank()) {
      try {
        int n = Integer.parseInt(p.strip());
        if (n != -1 && n < meta.partitions()) {
          out.add(
              new Problem(
                  "topic.creation.default.partitions",
                  n
                      + " is fewer than the "
                      + meta.partitions()
                      + " partitions the journal assigns ops to; set it to "
                      + meta.partitions()));
        }
      } catch (NumberFormatException e) {
        // Connect's own validation reports it.
      }
    }
  }

  // ------------------------------------------------------------------ validators

  static final class AbsolutePath implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null) {
        return;
      }
      String s = value.toString();
      if (s.indexOf('\0') >= 0) {
        throw new ConfigException(name, value, "must not contain NUL");
      }
      if (s.isBlank() || !Path.of(s).isAbsolute()) {
        throw new ConfigException(name, value, "must be an absolute path");
      }
    }

    @Override
    public String toString() {
      return "an absolute path";
    }
  }

  static final class VolumeName implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value != null && !Volumes.isValid(value.toString())) {
        throw new ConfigException(
            name, value, "a volume name is 1 to 200 characters from A-Z a-z 0-9 . _ -");
      }
    }

    @Override
    public String toString() {
      return "a volume name ([A-Za-z0-9._-]{1,200})";
    }
  }

  /** Kafka's topic name rules: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
  static final class TopicName implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null || value.toString().isBlank()) {
        return;
      }
      String t = value.toString().strip();
      if (t.length() > 249 || t.equals(".") || t.equals("..") || !t.matches("[a-zA-Z0-9._-]+")) {
        throw new ConfigException(
            name, value, "a topic name is 1 to 249 characters from a-z A-Z 0-9 . _ -");
      }
    }

    @Override
    public String toString() {
      return "a topic name ([a-zA-Z0-9._-]{1,249}); default tfs.<volume>.ops";
    }
  }

  static final class RegistryUrl implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null || value.toString().isBlank()) {
        return;
      }
      try {
        new SchemaRegistryClient(value.toString().strip());
      } catch (IllegalArgumentException e) {
        // The URL may carry credentials: never echo it.
        throw new ConfigException(name, "(hidden)", e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "http(s) URLs, comma-separated";
    }
  }
}
