package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.connect.ConfigMarkdown;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigDocsTest {
  @Test
  void readmeDocumentsTheCurrentConfigDef() throws Exception {
    Path readme = Path.of("README.md");
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    String fresh = ConfigMarkdown.splice(text, TreeSinkConfig.CONFIG_DEF);
    if (Boolean.getBoolean("tfs.docs.update")) {
      Files.writeString(readme, fresh, StandardCharsets.UTF_8);
      text = fresh;
    }
    assertThat(text)
        .as("sink-connector/README.md is stale: run this test with -Dtfs.docs.update=true")
        .isEqualTo(fresh);
    for (String key : TreeSinkConfig.CONFIG_DEF.names()) {
      assertThat(text).contains("#### `" + key + "`");
    }
  }

  @Test
  void everyKeyHasGroupOrderWidthDisplayNameAndDoc() {
    assertThat(ConfigMarkdown.incompleteKeys(TreeSinkConfig.CONFIG_DEF)).isEmpty();
  }
}
