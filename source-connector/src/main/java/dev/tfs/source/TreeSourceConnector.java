package dev.tfs.source;

import dev.tfs.connect.PluginVersion;
import dev.tfs.journal.JournalException;
import dev.tfs.journal.JournalMeta;
import dev.tfs.journal.JournalNotReadyException;
import dev.tfs.journal.JournalReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Connect source that ships a tfs-capture journal ({@code tfs-capture --ship=none}) to the
 * volume's op topic, so Connect's REST API deploys, pauses, restarts and monitors the network half
 * of a capture host while the mount keeps serving.
 *
 * <p><b>One task.</b> A journal is one ordered stream (dense seqs, G2) read by one reader; more
 * tasks could only race on it. {@code tasks.max} above 1 is collapsed to one task (logged).
 *
 * <p><b>Records.</b> Byte arrays with {@link org.apache.kafka.connect.data.Schema#BYTES_SCHEMA}:
 * the connector configuration must set {@code key.converter} and {@code value.converter} to {@code
 * org.apache.kafka.connect.converters.ByteArrayConverter} (the worker's defaults are invisible to a
 * connector, so it insists on seeing them), or the topic would hold JSON or Avro wrappers instead
 * of ops.
 *
 * <p><b>Exactly once.</b> {@link #exactlyOnceSupport} is {@code SUPPORTED}: on a worker with {@code
 * exactly.once.source.support=enabled}, records and their offsets are committed in one transaction,
 * so a worker killed at any instant leaves every seq exactly once in the topic for {@code
 * read_committed} consumers. Transaction boundaries are Connect's ({@code poll}, the default, or
 * {@code interval}); the connector does not define its own.
 *
 * <p><b>Offsets.</b> {@link SourceOffsets}; {@link #alterOffsets} validates them strictly, so
 * replaying from a seq through {@code PATCH /connectors/<name>/offsets} works and a malformed
 * offset is refused with what is wrong.
 *
 * <p>Configuration: {@link TreeSourceConfig}; rendered docs in {@code source-connector/README.md}.
 */
public class TreeSourceConnector extends SourceConnector {
  private static final Logger log = LoggerFactory.getLogger(TreeSourceConnector.class);
  static final String BYTE_ARRAY_CONVERTER =
      "org.apache.kafka.connect.converters.ByteArrayConverter";

  private Map<String, String> props;

  @Override
  public String version() {
    return PluginVersion.of(TreeSourceConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    new TreeSourceConfig(props);
    List<String> problems = crossCheck(props);
    if (!problems.isEmpty()) {
      throw new ConfigException("invalid configuration: " + String.join("; ", problems));
    }
    this.props = new HashMap<>(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return TreeSourceTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    if (maxTasks > 1) {
      log.info(
          "tasks.max={} collapsed to 1 task: a journal is one ordered stream of seqs with one"
              + " reader; more tasks could only race on it",
          maxTasks);
    }
    return List.of(new HashMap<>(props));
  }

  @Override
  public void stop() {
    props = null;
  }

  @Override
  public ConfigDef config() {
    return TreeSourceConfig.CONFIG_DEF;
  }

  @Override
  public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
    return ExactlyOnceSupport.SUPPORTED;
  }

  @Override
  public ConnectorTransactionBoundaries canDefineTransactionBoundaries(
      Map<String, String> connectorConfig) {
    return ConnectorTransactionBoundaries.UNSUPPORTED;
  }

  /**
   * Accepts only offsets this connector writes: partitions exactly {@code {"volume": <the
   * configured volume>, "epoch": <positive integer>}}, offsets exactly {@code {"seq": <integer >=
   * 0>}} or null (reset: the task starts from seq 1). Seqs the journal no longer holds are not
   * checked here (the journal may live on another worker's host); the task fails at start for them,
   * naming what is missing.
   *
   * @throws ConnectException saying what is wrong with which entry
   */
  @Override
  public boolean alterOffsets(
      Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
    String volume;
    try {
      volume = new TreeSourceConfig(connectorConfig).volume();
    } catch (ConfigException e) {
      throw new ConnectException("the connector configuration is invalid: " + e.getMessage(), e);
    }
    List<String> problems = new ArrayList<>();
    for (Map.Entry<Map<String, ?>, Map<String, ?>> e : offsets.entrySet()) {
      try {
        SourceOffsets.checkPartition(e.getKey(), volume);
        SourceOffsets.checkOffset(e.getValue());
      } catch (IllegalArgumentException ex) {
        problems.add(ex.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConnectException(
          "refused offsets for a tfs source connector: "
              + String.join("; ", problems)
              + ". Expected partition {\"volume\": \""
              + volume
              + "\", \"epoch\": <journal epoch>} and offset {\"seq\": <last seq shipped>} (or"
              + " null to reset)");
    }
    return true;
  }

  /** Per-key validation by the ConfigDef, then the cross-field checks of {@link #crossCheck}. */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    Config config = super.validate(connectorConfigs);
    Map<String, ConfigValue> byName = new HashMap<>();
    for (ConfigValue v : config.configValues()) {
      byName.put(v.name(), v);
    }
    boolean keyErrors = config.configValues().stream().anyMatch(v -> !v.errorMessages().isEmpty());
    if (!keyErrors) {
      for (String[] p : crossProblems(connectorConfigs)) {
        ConfigValue v = byName.get(p[0]);
        if (v == null) {
          v = new ConfigValue(p[0]);
          byName.put(p[0], v);
          config.configValues().add(v);
        }
        v.addErrorMessage(p[1]);
      }
    }
    return config;
  }

  /** The cross-field problems of a configuration as messages, empty when it is consistent. */
  static List<String> crossCheck(Map<String, String> props) {
    List<String> out = new ArrayList<>();
    for (String[] p : crossProblems(props)) {
      out.add(p[0] + ": " + p[1]);
    }
    return out;
  }

  /** (key, message) pairs. */
  static List<String[]> crossProblems(Map<String, String> props) {
    List<String[]> out = new ArrayList<>();
    TreeSourceConfig c;
    try {
      c = new TreeSourceConfig(props);
    } catch (ConfigException e) {
      out.add(new String[] {"config", e.getMessage()});
      return out;
    }
    for (String key : List.of("key.converter", "value.converter")) {
      String v = props.get(key);
      if (v == null || !v.strip().equals(BYTE_ARRAY_CONVERTER)) {
        out.add(
            new String[] {
              key,
              (v == null || v.isBlank() ? "not set" : "is " + v.strip())
                  + ": tfs ships the journal's key and value bytes unchanged; set "
                  + key
                  + "="
                  + BYTE_ARRAY_CONVERTER
                  + " in the connector configuration (the worker's default converter is not"
                  + " visible to the connector, so it must be set here)"
            });
      }
    }
    String tolerance = props.get("errors.tolerance");
    if (tolerance != null && tolerance.strip().toLowerCase(Locale.ROOT).equals("all")) {
      out.add(
          new String[] {
            "errors.tolerance",
            "'all' would skip ops that fail to reach Kafka, and mirrors would stop at the gap"
                + " (G7); use errors.tolerance=none (failures stop the task, the journal keeps"
                + " the ops)"
          });
    }
    Path dir = c.journalDir();
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      out.add(
          new String[] {
            TreeSourceConfig.JOURNAL_DIR_CONFIG, dir + " exists and is not a directory"
          });
    } else if (Files.isDirectory(dir)) {
      // The journal may live on another worker's host: only check what this one can see.
      try (JournalReader r = JournalReader.open(dir)) {
        JournalMeta meta = r.meta();
        if (!meta.volume().equals(c.volume())) {
          out.add(
              new String[] {
                TreeSourceConfig.VOLUME_CONFIG,
                "the journal in "
                    + dir
                    + " belongs to volume '"
                    + meta.volume()
                    + "', not '"
                    + c.volume()
                    + "'"
              });
        }
        String p = props.get("topic.creation.default.partitions");
        if (p != null && !p.isBlank()) {
          try {
            int n = Integer.parseInt(p.strip());
            if (n != -1 && n < meta.partitions()) {
              out.add(
                  new String[] {
                    "topic.creation.default.partitions",
                    n
                        + " is fewer than the "
                        + meta.partitions()
                        + " partitions the journal assigns ops to; set it to "
                        + meta.partitions()
                  });
            }
          } catch (NumberFormatException e) {
            // Connect's own validation reports it.
          }
        }
      } catch (JournalNotReadyException e) {
        // Not created yet: the task waits for it.
      } catch (JournalException e) {
        out.add(
            new String[] {
              TreeSourceConfig.JOURNAL_DIR_CONFIG, "cannot read the journal: " + e.getMessage()
            });
      }
    }
    return out;
  }
}
