package dev.tfs.sink;

import dev.tfs.connect.ConfigValidation;
import dev.tfs.connect.PluginVersion;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Connect sink that materializes a tfs volume's op topic as a directory tree: one connector
 * per mirror root (its own consumer group), one task per connector.
 *
 * <p><b>One task.</b> A mirror is one ordered history (G2): ops must be applied in seq order by one
 * applier, and the seq merge needs every partition of the topic in one place. More tasks could only
 * split the partitions between appliers racing on the same tree, so {@code tasks.max} above 1 is
 * collapsed to one task (logged). Scale out with more mirrors, not more tasks.
 *
 * <p><b>Records.</b> Values are op records as bytes: configure {@code
 * value.converter=org.apache.kafka.connect.converters.ByteArrayConverter} (and the same for keys,
 * which are the paths and are not needed). The connector reads exactly one topic ({@code topics},
 * not {@code topics.regex}): one volume's history.
 *
 * <p>Configuration: {@link TreeSinkConfig}; rendered docs in {@code sink-connector/README.md}.
 */
public class TreeSinkConnector extends SinkConnector {
  private static final Logger log = LoggerFactory.getLogger(TreeSinkConnector.class);

  private Map<String, String> props;

  @Override
  public String version() {
    return PluginVersion.of(TreeSinkConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    ConfigValidation.ensureValid(
        TreeSinkConfig.CONFIG_DEF, props, TreeSinkConfig::crossFieldProblems);
    this.props = new HashMap<>(props);
  }

  @Override
  public Class<? extends Task> taskClass() {
    return TreeSinkTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    if (maxTasks > 1) {
      log.info(
          "tasks.max={} collapsed to 1 task: one mirror root needs one applier applying one seq"
              + " order (G2); run more connectors for more mirrors instead",
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
    return TreeSinkConfig.CONFIG_DEF;
  }

  /**
   * Per-key validation by the ConfigDef, then (when every key is valid) {@link
   * TreeSinkConfig#crossFieldProblems}, each error on the key at fault.
   */
  @Override
  public Config validate(Map<String, String> connectorConfigs) {
    return ConfigValidation.validate(
        TreeSinkConfig.CONFIG_DEF, connectorConfigs, TreeSinkConfig::crossFieldProblems);
  }

  /**
   * What {@link #validate} reports, as {@code key: message} lines (empty when the configuration is
   * valid); the task re-checks a configuration with it at its start.
   */
  static List<String> crossCheck(Map<String, String> props) {
    return ConfigValidation.errors(
        ConfigValidation.validate(
            TreeSinkConfig.CONFIG_DEF, props, TreeSinkConfig::crossFieldProblems));
  }
}
