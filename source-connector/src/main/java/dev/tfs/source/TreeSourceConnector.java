package dev.tfs.source;

import dev.tfs.connect.ConfigValidation;
import dev.tfs.connect.PluginVersion;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
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

  private Map<String, String> props;

  @Override
  public String version() {
    return PluginVersion.of(TreeSourceConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    ConfigValidation.ensureValid(
        TreeSourceConfig.CONFIG_DEF, props, TreeSourceConfig::crossFieldProblems);
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

  /**
   * Per-key validation by the ConfigDef, then (when every key is valid) {@link
   * TreeSourceConfig#crossFieldProblems}, each error on the key at fault.
   */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    return ConfigValidation.validate(
        TreeSourceConfig.CONFIG_DEF, connectorConfigs, TreeSourceConfig::crossFieldProblems);
  }
}
