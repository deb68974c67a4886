package dev.tfs.sink;

import dev.tfs.connect.PluginVersion;
import dev.tfs.posix.Posix;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
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
  static final String BYTE_ARRAY_CONVERTER =
      "org.apache.kafka.connect.converters.ByteArrayConverter";

  private Map<String, String> props;

  @Override
  public String version() {
    return PluginVersion.of(TreeSinkConnector.class);
  }

  @Override
  public void start(Map<String, String> props) {
    new TreeSinkConfig(props);
    List<String> problems = crossCheck(props);
    if (!problems.isEmpty()) {
      throw new ConfigException("invalid configuration: " + String.join("; ", problems));
    }
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
    TreeSinkConfig c;
    try {
      c = new TreeSinkConfig(props);
    } catch (ConfigException e) {
      out.add(new String[] {"config", e.getMessage()});
      return out;
    }
    Path root = c.mirrorRoot();
    Path state = c.stateDir();
    if (TreeSinkConfig.within(root, state) || TreeSinkConfig.within(state, root)) {
      out.add(
          new String[] {
            TreeSinkConfig.STATE_DIR_CONFIG,
            "tfs.state.dir "
                + state
                + " and tfs.mirror.root "
                + root
                + " overlap; the applied position must live outside the mirrored tree and the"
                + " mirror must not contain it"
          });
    }
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      out.add(
          new String[] {
            TreeSinkConfig.MIRROR_ROOT_CONFIG,
            root + " exists and is not a directory (or is a symlink)"
          });
    } else if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(root)) {
      out.add(
          new String[] {
            TreeSinkConfig.MIRROR_ROOT_CONFIG, root + " is not writable by the worker's user"
          });
    }
    if (c.replayUntilSeq() != null && c.replayUntilTimeNs() != null) {
      out.add(
          new String[] {
            TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG,
            "set tfs.replay.until.seq or tfs.replay.until.time, not both"
          });
    }
    if (c.ownerPolicy() == MirrorApplier.OwnerPolicy.PRESERVE && Posix.geteuid() != 0) {
      out.add(
          new String[] {
            TreeSinkConfig.OWNER_POLICY_CONFIG,
            "preserve needs the worker to run as root (it runs as uid "
                + Posix.geteuid()
                + "); use auto or ignore"
          });
    }
    String topics = props.get("topics");
    String regex = props.get("topics.regex");
    if (regex != null && !regex.isBlank()) {
      out.add(
          new String[] {
            "topics.regex",
            "a mirror reads exactly one volume's topic: set topics=tfs.<volume>.ops, not"
                + " topics.regex"
          });
    } else if (topics == null || topics.isBlank() || topics.contains(",")) {
      out.add(
          new String[] {
            "topics", "set exactly one topic (tfs.<volume>.ops): one mirror mirrors one volume"
          });
    }
    String vc = props.get("value.converter");
    if (vc != null && !vc.isBlank() && !vc.strip().equals(BYTE_ARRAY_CONVERTER)) {
      out.add(
          new String[] {
            "value.converter",
            "op records are decoded by tfs from raw bytes: set value.converter="
                + BYTE_ARRAY_CONVERTER
          });
    }
    return out;
  }
}
