package dev.tfs.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.connect.ConfigMarkdown;
import dev.tfs.connect.ConfigValidation;
import dev.tfs.journal.JournalWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration, validation, task layout, exactly-once declarations and offset validation. */
class TreeSourceConnectorTest {
  static final String BYTES = ConfigValidation.BYTE_ARRAY_CONVERTER;

  @TempDir Path tmp;

  Map<String, String> config(String... extra) {
    Map<String, String> c = new HashMap<>();
    c.put("name", "src");
    c.put("connector.class", TreeSourceConnector.class.getName());
    c.put(TreeSourceConfig.JOURNAL_DIR_CONFIG, tmp.resolve("journal").toString());
    c.put(TreeSourceConfig.VOLUME_CONFIG, "vol");
    c.put("key.converter", BYTES);
    c.put("value.converter", BYTES);
    for (int i = 0; i < extra.length; i += 2) {
      c.put(extra[i], extra[i + 1]);
    }
    return c;
  }

  static Map<String, List<String>> errors(Config c) {
    Map<String, List<String>> out = new HashMap<>();
    for (ConfigValue v : c.configValues()) {
      if (!v.errorMessages().isEmpty()) {
        out.put(v.name(), v.errorMessages());
      }
    }
    return out;
  }

  @Test
  void aGoodConfigurationValidatesAndGivesOneTaskWhateverTasksMaxSays() {
    TreeSourceConnector c = new TreeSourceConnector();
    assertThat(errors(c.validate(config()))).isEmpty();
    c.start(config());
    List<Map<String, String>> tasks = c.taskConfigs(5);
    assertThat(tasks).hasSize(1);
    assertThat(tasks.get(0)).containsEntry(TreeSourceConfig.VOLUME_CONFIG, "vol");
    assertThat(c.taskClass()).isEqualTo(TreeSourceTask.class);
    assertThat(c.version()).isNotBlank();
  }

  @Test
  void theDefaultTopicIsTheBuiltInShippers() {
    assertThat(new TreeSourceConfig(config()).topic()).isEqualTo("tfs.vol.ops");
    assertThat(new TreeSourceConfig(config(TreeSourceConfig.TOPIC_CONFIG, "x.y")).topic())
        .isEqualTo("x.y");
  }

  @Test
  void exactlyOnceIsSupportedWithConnectsTransactionBoundaries() {
    TreeSourceConnector c = new TreeSourceConnector();
    assertThat(c.exactlyOnceSupport(config())).isEqualTo(ExactlyOnceSupport.SUPPORTED);
    assertThat(c.canDefineTransactionBoundaries(config()))
        .isEqualTo(ConnectorTransactionBoundaries.UNSUPPORTED);
  }

  @Test
  void perKeyValidationRefusesBadValues() {
    TreeSourceConnector c = new TreeSourceConnector();
    Map<String, String> bad =
        config(
            TreeSourceConfig.JOURNAL_DIR_CONFIG, "relative/journal",
            TreeSourceConfig.VOLUME_CONFIG, "no/slashes",
            TreeSourceConfig.TOPIC_CONFIG, "bad topic",
            TreeSourceConfig.BATCH_MAX_RECORDS_CONFIG, "0",
            TreeSourceConfig.POLL_INTERVAL_CONFIG, "-1");
    Map<String, List<String>> e = errors(c.validate(bad));
    assertThat(e)
        .containsKeys(
            TreeSourceConfig.JOURNAL_DIR_CONFIG,
            TreeSourceConfig.VOLUME_CONFIG,
            TreeSourceConfig.TOPIC_CONFIG,
            TreeSourceConfig.BATCH_MAX_RECORDS_CONFIG,
            TreeSourceConfig.POLL_INTERVAL_CONFIG);
    assertThat(e.get(TreeSourceConfig.JOURNAL_DIR_CONFIG).toString()).contains("absolute");
    Map<String, String> missing = config();
    missing.remove(TreeSourceConfig.VOLUME_CONFIG);
    assertThat(errors(c.validate(missing))).containsKey(TreeSourceConfig.VOLUME_CONFIG);
    assertThatThrownBy(() -> new TreeSourceConnector().start(bad))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(TreeSourceConfig.JOURNAL_DIR_CONFIG)
        .hasMessageContaining("absolute");
  }

  @Test
  void crossFieldValidationRefusesConvertersToleranceAndAForeignJournal() throws Exception {
    Path dir = tmp.resolve("journal");
    JournalWriter.open(dir, Journals.options("other", 8).build()).close();
    Map<String, String> c =
        config(
            "value.converter", "org.apache.kafka.connect.json.JsonConverter",
            "errors.tolerance", "all",
            "topic.creation.default.partitions", "3");
    c.remove("key.converter");
    Map<String, List<String>> e = errors(new TreeSourceConnector().validate(c));
    assertThat(e.get("value.converter").toString()).contains("JsonConverter").contains(BYTES);
    assertThat(e.get("key.converter").toString()).contains("not set");
    assertThat(e.get("errors.tolerance").toString()).contains("G7");
    assertThat(e.get(TreeSourceConfig.VOLUME_CONFIG).toString())
        .contains("belongs to volume 'other'");
    assertThat(e.get("topic.creation.default.partitions").toString()).contains("8");
    assertThatThrownBy(() -> new TreeSourceConnector().start(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("value.converter");
  }

  @Test
  void aJournalPathThatIsAFileIsRefused() throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    Map<String, List<String>> e =
        errors(
            new TreeSourceConnector()
                .validate(config(TreeSourceConfig.JOURNAL_DIR_CONFIG, file.toString())));
    assertThat(e.get(TreeSourceConfig.JOURNAL_DIR_CONFIG).toString()).contains("not a directory");
  }

  // ------------------------------------------------------------------ alterOffsets

  static Map<String, Object> partition(Object volume, Object epoch) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("volume", volume);
    p.put("epoch", epoch);
    return p;
  }

  boolean alter(Map<String, ?> partition, Map<String, ?> offset) {
    Map<Map<String, ?>, Map<String, ?>> m = new HashMap<>();
    m.put(partition, offset);
    return new TreeSourceConnector().alterOffsets(config(), m);
  }

  @Test
  void alterOffsetsAcceptsWhatTheConnectorWrites() {
    long epoch = 1_763_769_600_000L;
    assertThat(alter(partition("vol", epoch), Map.of("seq", 41L))).isTrue();
    assertThat(alter(partition("vol", epoch), Map.of("seq", 41))).isTrue(); // JSON int
    assertThat(alter(partition("vol", 7), Map.of("seq", 0))).isTrue();
    assertThat(alter(partition("vol", epoch), null)).isTrue(); // reset
  }

  @Test
  void alterOffsetsRefusesEveryKindOfBadOffsetSayingWhatIsWrong() {
    long epoch = 1_763_769_600_000L;
    Map<String, Object> extra = partition("vol", epoch);
    extra.put("host", "h");
    Map<String, Object> onlyVolume = new HashMap<>(Map.of("volume", "vol"));
    Object[][] cases = {
      {partition("other", epoch), Map.of("seq", 1L), "names volume 'other'"},
      {partition(42, epoch), Map.of("seq", 1L), "'volume' must be a string"},
      {partition("vol", "123"), Map.of("seq", 1L), "'epoch' must be an integer"},
      {partition("vol", 1.5), Map.of("seq", 1L), "'epoch' must be an integer"},
      {partition("vol", 0L), Map.of("seq", 1L), "'epoch' must be positive"},
      {onlyVolume, Map.of("seq", 1L), "missing [epoch]"},
      {extra, Map.of("seq", 1L), "unexpected [host]"},
      {partition("vol", epoch), Map.of("seq", -1L), "must not be negative"},
      {partition("vol", epoch), Map.of("seq", "5"), "'seq' must be an integer"},
      {partition("vol", epoch), Map.of("seq", 5.0), "'seq' must be an integer"},
      {partition("vol", epoch), Map.of("offset", 5L), "missing [seq]"},
      {partition("vol", epoch), Map.of("seq", 5L, "x", 1), "unexpected [x]"},
      {partition("vol", epoch), Map.of(), "missing [seq]"},
    };
    for (Object[] c : cases) {
      @SuppressWarnings("unchecked")
      Map<String, ?> p = (Map<String, ?>) c[0];
      @SuppressWarnings("unchecked")
      Map<String, ?> o = (Map<String, ?>) c[1];
      assertThatThrownBy(() -> alter(p, o))
          .as("partition %s offset %s", p, o)
          .isInstanceOf(ConnectException.class)
          .hasMessageContaining((String) c[2])
          .hasMessageContaining("Expected partition");
    }
  }

  // ------------------------------------------------------------------ docs

  @Test
  void theReadmeDocumentsEveryKeyAsTheConfigDefSaysIt() throws Exception {
    Path readme = Path.of("README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    assertThat(ConfigMarkdown.splice(text, TreeSourceConfig.CONFIG_DEF))
        .as(
            "source-connector/README.md is stale: run dev.tfs.connect.ConfigMarkdown README.md"
                + " dev.tfs.source.TreeSourceConfig")
        .isEqualTo(text);
    for (String key : TreeSourceConfig.CONFIG_DEF.names()) {
      assertThat(text).contains("#### `" + key + "`");
    }
  }

  @Test
  void everyKeyHasGroupOrderWidthDisplayNameAndDoc() {
    assertThat(ConfigMarkdown.incompleteKeys(TreeSourceConfig.CONFIG_DEF)).isEmpty();
  }
}
