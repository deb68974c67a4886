package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The samples in {@code connect-configs/}, with their {@code ${TFS_...}} placeholders filled in.
 * The local stack deploys exactly these files, so the samples users copy are the ones that run.
 */
public final class Templates {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(TFS_[A-Z_]+)}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final Map<String, String> values;

  public Templates(Path connectConfigs, Map<String, String> values) {
    this.dir = connectConfigs;
    this.values = Map.copyOf(values);
  }

  /**
   * The samples of the repository at {@code repo} filled in for one stack: its home, broker, worker
   * port and plugin path, and the volume (and its topic) its connectors carry.
   */
  public static Templates forStack(
      Path repo,
      Path home,
      String bootstrap,
      int connectPort,
      String pluginPath,
      String topic,
      String volume) {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("TFS_HOME", home.toString());
    v.put("TFS_BOOTSTRAP", bootstrap);
    v.put("TFS_CONNECT_PORT", Integer.toString(connectPort));
    v.put("TFS_PLUGIN_PATH", pluginPath);
    v.put("TFS_TOPIC", topic);
    v.put("TFS_VOLUME", volume);
    return new Templates(repo.resolve("connect-configs"), v);
  }

  /** Fills every placeholder; an unknown one is an error (a sample out of step with the code). */
  public String fill(String text) {
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = values.get(m.group(1));
      if (v == null) {
        throw new IllegalStateException("no value for placeholder ${" + m.group(1) + "}");
      }
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** A properties sample, filled in. */
  public Map<String, String> properties(String relative) throws IOException {
    Properties p = new Properties();
    p.load(new StringReader(fill(Files.readString(dir.resolve(relative)))));
    Map<String, String> out = new LinkedHashMap<>();
    p.stringPropertyNames().stream().sorted().forEach(k -> out.put(k, p.getProperty(k)));
    return out;
  }

  /** A connector JSON sample ({"name":..., "config":{...}}), filled in: its name and config. */
  public Connector connector(String relative) throws IOException {
    JsonNode n = JSON.readTree(fill(Files.readString(dir.resolve(relative))));
    Map<String, String> config = new LinkedHashMap<>();
    n.get("config").properties().forEach(e -> config.put(e.getKey(), e.getValue().asText()));
    return new Connector(n.get("name").asText(), config);
  }

  /** A connector's name and config. */
  public record Connector(String name, Map<String, String> config) {}
}
