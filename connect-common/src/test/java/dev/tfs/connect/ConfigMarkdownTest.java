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
  void versionFallsBackToUnknown() {
    assertThat(PluginVersion.of(ConfigMarkdownTest.class)).isEqualTo("unknown");
  }
}
