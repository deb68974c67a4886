package dev.tfs.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.junit.jupiter.api.Test;

class ConfigMarkdownTest {
  private static final ConfigDef DEF =
      new ConfigDef()
          .define(
              "b.key",
              Type.INT,
              7,
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "B doc.",
              "G1",
              2,
              Width.SHORT,
              "B")
          .define(
              "a.key",
              Type.STRING,
              ConfigDef.NO_DEFAULT_VALUE,
              Importance.HIGH,
              "A doc.",
              "G1",
              1,
              Width.LONG,
              "A")
          .define("c.key", Type.LONG, null, Importance.MEDIUM, "C doc.", "G2", 1, Width.SHORT, "C");

  @Test
  void rendersGroupsInOrderWithDefaultsAndValidators() {
    String md = ConfigMarkdown.render(DEF);
    assertThat(md.indexOf("`a.key`")).isLessThan(md.indexOf("`b.key`"));
    assertThat(md.indexOf("### G1")).isLessThan(md.indexOf("### G2"));
    assertThat(md)
        .contains("* Default: (required)")
        .contains("* Default: `7`")
        .contains("* Default: (unset)")
        .contains("* Valid values: [1,...]")
        .contains("* Importance: high");
  }

  @Test
  void splicesBetweenTheMarkersAndRefusesAReadmeWithout() {
    String readme = "intro\n" + ConfigMarkdown.BEGIN + "\nold\n" + ConfigMarkdown.END + "\ntail\n";
    String fresh = ConfigMarkdown.splice(readme, DEF);
    assertThat(fresh).startsWith("intro\n").endsWith(ConfigMarkdown.END + "\ntail\n");
    assertThat(fresh).doesNotContain("\nold\n").contains("`c.key`");
    assertThat(ConfigMarkdown.splice(fresh, DEF)).isEqualTo(fresh);
    assertThatThrownBy(() -> ConfigMarkdown.splice("no markers", DEF))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void incompleteKeysNamesWhatEachKeyLacks() {
    ConfigDef bare =
        new ConfigDef()
            .define(
                "complete",
                Type.STRING,
                null,
                Importance.LOW,
                "x".repeat(41),
                "G",
                2,
                Width.SHORT,
                "Complete")
            .define("bare.key", Type.STRING, null, Importance.LOW, "Short doc.")
            .define(
                "short.doc",
                Type.STRING,
                null,
                Importance.LOW,
                "x".repeat(40),
                "G",
                1,
                Width.SHORT,
                "Short doc");
    assertThat(ConfigMarkdown.incompleteKeys(bare))
        .containsExactlyInAnyOrder(
            "bare.key: lacks a group, an order in its group, a width, a display name, a"
                + " documentation longer than 40 characters",
            "short.doc: lacks a documentation longer than 40 characters");
  }

  @Test
  void versionFallsBackToUnknown() {
    assertThat(PluginVersion.of(ConfigMarkdownTest.class)).isEqualTo("unknown");
  }
}
