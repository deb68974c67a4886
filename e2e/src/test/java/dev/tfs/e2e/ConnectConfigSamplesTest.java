package dev.tfs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.tools.stack.StackOptions;
import dev.tfs.tools.stack.Templates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every connector sample in connect-configs/ passes its connector's own validation (ConfigDef and
 * {@code Connector.validate()}), so the samples users copy cannot rot.
 */
class ConnectConfigSamplesTest {
  private static final Path DIR = StackOptions.repo().resolve("connect-configs");

  @TempDir Path home;

  static Stream<String> samples() throws Exception {
    List<String> out = new ArrayList<>();
    for (String sub : List.of("distributed", "standalone")) {
      try (Stream<Path> s = Files.list(DIR.resolve(sub))) {
        s.map(p -> sub + "/" + p.getFileName())
            .filter(n -> !n.endsWith("worker.properties"))
            .sorted()
            .forEach(out::add);
      }
    }
    return out.stream();
  }

  private Templates templates() {
    return new Templates(
        DIR,
        Map.of(
            "TFS_HOME", home.toString(),
            "TFS_BOOTSTRAP", "127.0.0.1:9092",
            "TFS_CONNECT_PORT", "8083",
            "TFS_PLUGIN_PATH", "/nonexistent",
            "TFS_TOPIC", "tfs.sample.ops",
            "TFS_VOLUME", "sample"));
  }

  @Test
  void thereAreSamplesForTwoMirrorsAndTheSourceInBothModes() throws Exception {
    assertThat(samples())
        .contains(
            "distributed/sink-mirror-a.json",
            "distributed/sink-mirror-b.json",
            "distributed/source.json",
            "standalone/sink-mirror-a.properties",
            "standalone/sink-mirror-b.properties",
            "standalone/source.properties");
  }

  @ParameterizedTest
  @MethodSource("samples")
  void sampleValidatesAgainstItsConnector(String sample) throws Exception {
    Map<String, String> config;
    if (sample.endsWith(".json")) {
      Templates.Connector c = templates().connector(sample);
      config = new LinkedHashMap<>(c.config());
      config.put("name", c.name());
    } else {
      config = templates().properties(sample);
    }
    String cls = config.get("connector.class");
    assertThat(cls).as(sample + " names its connector class").isNotBlank();
    Connector connector = (Connector) Class.forName(cls).getDeclaredConstructor().newInstance();
    Config result = connector.validate(config);
    List<String> errors = new ArrayList<>();
    for (ConfigValue v : result.configValues()) {
      for (String e : v.errorMessages()) {
        errors.add(v.name() + ": " + e);
      }
    }
    assertThat(errors).as(sample).isEmpty();
    // Every key the sample sets is one its connector (or Connect itself) knows.
    assertThat(config.keySet())
        .as(sample + " keys")
        .allSatisfy(
            k ->
                assertThat(
                        k.startsWith("tfs.")
                            ? connector.config().configKeys().containsKey(k)
                            : true)
                    .as(k)
                    .isTrue());
  }

  @Test
  void workerSamplesUseByteArrayConvertersAndThePluginPath() throws Exception {
    for (String worker : List.of("distributed/worker.properties", "standalone/worker.properties")) {
      Map<String, String> w = templates().properties(worker);
      assertThat(w)
          .containsEntry(
              "value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter")
          .containsEntry("key.converter", "org.apache.kafka.connect.converters.ByteArrayConverter")
          .containsEntry("plugin.path", "/nonexistent")
          .containsKey("bootstrap.servers");
    }
  }
}
