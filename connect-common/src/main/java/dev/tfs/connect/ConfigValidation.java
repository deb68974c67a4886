package dev.tfs.connect;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;

/**
 * Validation of a connector configuration, the same for {@code Connector.validate()} and {@code
 * Connector.start()}: first every key on its own (the {@link ConfigDef}'s types and validators),
 * then, only when all keys passed, the connector's {@link CrossFieldRules}. Each problem is an
 * error on the {@link ConfigValue} of the key at fault, which is what Connect's REST validate
 * endpoint and UIs show next to that key; a rule about a key the connector does not define (a
 * Connect key such as {@code topics} or {@code value.converter}) gets a {@link ConfigValue} of its
 * own.
 *
 * <p>Cross-field rules run only on a configuration whose keys are each valid: they read parsed
 * values, and on a broken one they would only repeat or obscure the per-key errors.
 */
public final class ConfigValidation {
  /**
   * The converter both connectors require: op records travel as the journal's bytes, unchanged (the
   * class is in connect-runtime, which plugins do not compile against).
   */
  public static final String BYTE_ARRAY_CONVERTER =
      "org.apache.kafka.connect.converters.ByteArrayConverter";

  private ConfigValidation() {}

  /**
   * One cross-field finding.
   *
   * @param key the key whose value must change (the one the error is shown on)
   * @param message what is wrong and what to set instead
   */
  public record Problem(String key, String message) {
    public Problem {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
      return key + ": " + message;
    }
  }

  /** A connector's cross-field rules, kept in its config class. */
  @FunctionalInterface
  public interface CrossFieldRules {
    /**
     * The problems of {@code props}, empty when it is consistent. Called only when every key of the
     * {@link ConfigDef} passed its own validation, so the config class parses {@code props}.
     */
    List<Problem> problems(Map<String, String> props);
  }

  /**
   * What {@code Connector.validate(props)} returns: the {@link ConfigDef}'s per-key results, and
   * when they hold no error, {@code rules}' problems attached to their keys' values.
   */
  public static Config validate(ConfigDef def, Map<String, String> props, CrossFieldRules rules) {
    Map<String, ConfigValue> byName = new LinkedHashMap<>();
    for (ConfigValue v : def.validate(props)) {
      byName.put(v.name(), v);
    }
    boolean keyErrors = byName.values().stream().anyMatch(v -> !v.errorMessages().isEmpty());
    if (!keyErrors) {
      for (Problem p : rules.problems(props)) {
        byName.computeIfAbsent(p.key(), ConfigValue::new).addErrorMessage(p.message());
      }
    }
    return new Config(new ArrayList<>(byName.values()));
  }

  /**
   * For {@code start()}: a configuration {@link #validate} finds fault with does not start.
   *
   * @throws ConfigException {@code invalid configuration: key: message; key: message ...} naming
   *     every error {@link #validate} reports, in its words
   */
  public static void ensureValid(ConfigDef def, Map<String, String> props, CrossFieldRules rules) {
    List<String> errors = errors(validate(def, props, rules));
    if (!errors.isEmpty()) {
      throw new ConfigException("invalid configuration: " + String.join("; ", errors));
    }
  }

  /**
   * Every error of {@code config} as {@code key: message}, in the order of its values (a key's
   * messages in the order they were added); empty when none.
   */
  public static List<String> errors(Config config) {
    List<String> out = new ArrayList<>();
    for (ConfigValue v : config.configValues()) {
      for (String e : v.errorMessages()) {
        out.add(v.name() + ": " + e);
      }
    }
    return out;
  }
}
