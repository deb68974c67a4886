package dev.tfs.source;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The plugin's version, from {@code dev/tfs/source/version.properties} (filtered by Maven). */
public final class Version {
  private static final String VERSION = load();

  private Version() {}

  /** e.g. {@code 0.1.0-SNAPSHOT}; {@code unknown} when the resource is missing. */
  public static String get() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) {
          return v.strip();
        }
      }
    } catch (IOException e) {
      // fall through
    }
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
