package dev.tfs.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.connect.ConfigValidation.Problem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class ConfigValidationTest {
  private static final ConfigDef DEF =
      new ConfigDef()
          .define(
              "low",
              Type.INT,
              1,
              ConfigDef.Range.atLeast(0),
              Importance.HIGH,
              "The lower bound.",
              "G",
              1,
              Width.SHORT,
              "Low")
          .define(
              "high",
              Type.INT,
              10,
              ConfigDef.Range.atLeast(0),
              Importance.HIGH,
              "The upper bound.",
              "G",
              2,
              Width.SHORT,
              "High");

  /** low <= high (on "high"), and Connect's "topics" must be set (a key outside the def). */
  private final List<Map<String, String>> seen = new ArrayList<>();

  private final ConfigValidation.CrossFieldRules rules =
      props -> {
        seen.add(props);
        List<Problem> out = new ArrayList<>();
        int low = Integer.parseInt(props.getOrDefault("low", "1"));
        int high = Integer.parseInt(props.getOrDefault("high", "10"));
        if (low > high) {
          out.add(new Problem("high", "must be at least low (" + low + "); raise it"));
          out.add(new Problem("high", "second finding on the same key"));
        }
        if (props.get("topics") == null) {
          out.add(new Problem("topics", "set exactly one topic"));
        }
        return out;
      };

  static Map<String, String> props(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static Map<String, List<String>> errorsByKey(Config c) {
    Map<String, List<String>> out = new HashMap<>();
    for (ConfigValue v : c.configValues()) {
      if (!v.errorMessages().isEmpty()) {
        out.put(v.name(), v.errorMessages());
      }
    }
    return out;
  }

  @Test
  void aConsistentConfigurationHasNoErrorsAndEveryKeyHasItsValue() {
    Map<String, String> p = props("low", "2", "high", "3", "topics", "t");
    Config c = ConfigValidation.validate(DEF, p, rules);
    assertThat(ConfigValidation.errors(c)).isEmpty();
    assertThat(c.configValues())
        .extracting(ConfigValue::name)
        .containsExactlyInAnyOrder("low", "high");
    assertThat(seen).containsExactly(p);
    ConfigValidation.ensureValid(DEF, p, rules);
  }

  @Test
  void crossFieldProblemsLandOnTheValueOfTheirKey() {
    Config c = ConfigValidation.validate(DEF, props("low", "5", "high", "3"), rules);
    Map<String, List<String>> e = errorsByKey(c);
    assertThat(e).containsOnlyKeys("high", "topics");
    assertThat(e.get("high"))
        .containsExactly("must be at least low (5); raise it", "second finding on the same key");
    assertThat(e.get("topics")).containsExactly("set exactly one topic");
    // One value per key: the def's keys keep theirs, a key outside the def gets one at the end.
    assertThat(c.configValues())
        .extracting(ConfigValue::name)
        .containsExactlyInAnyOrder("low", "high", "topics")
        .last()
        .isEqualTo("topics");
    assertThat(ConfigValidation.errors(c))
        .containsExactly(
            "high: must be at least low (5); raise it",
            "high: second finding on the same key",
            "topics: set exactly one topic");
  }

  @Test
  void perKeyErrorsAloneAreReportedAndTheRulesDoNotRun() {
    Config c = ConfigValidation.validate(DEF, props("low", "-1", "high", "x"), rules);
    Map<String, List<String>> e = errorsByKey(c);
    assertThat(e).containsOnlyKeys("low", "high");
    assertThat(e.get("low").toString()).contains("at least 0");
    assertThat(seen).isEmpty();
  }

  @Test
  void startRefusesWhatValidateReportsInTheSameWords() {
    assertThatThrownBy(
            () -> ConfigValidation.ensureValid(DEF, props("low", "5", "high", "3"), rules))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "invalid configuration: high: must be at least low (5); raise it; high: second"
                + " finding on the same key; topics: set exactly one topic");
    assertThatThrownBy(() -> ConfigValidation.ensureValid(DEF, props("low", "-1"), rules))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("invalid configuration: low: ")
        .hasMessageContaining("at least 0");
    assertThat(seen).hasSize(1);
  }

  @Test
  void aProblemNamesItsKeyAndMessage() {
    assertThat(new Problem("k", "m")).hasToString("k: m");
    assertThatThrownBy(() -> new Problem(null, "m")).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new Problem("k", null)).isInstanceOf(NullPointerException.class);
  }
}
