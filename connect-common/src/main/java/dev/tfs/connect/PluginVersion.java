package dev.tfs.connect;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * A plugin's version for {@code Connector.version()} and {@code Task.version()}: the {@code
 * version} entry of a Maven-filtered {@code version.properties} next to the anchor class, else the
 * jar manifest's Implementation-Version, else {@code unknown}.
 */
public final class PluginVersion {
  private PluginVersion() {}

  public static String of(Class<?> anchor) {
    try (InputStream in = anchor.getResourceAsStream("version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) {
          return v.strip();
        }
      }
    } catch (IOException e) {
      // fall through to the manifest
    }
    String v = anchor.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
