package dev.tfs.tools.stack;

import java.nio.file.Path;

/**
 * Where everything of one local stack lives under its home directory ({@code ./.tfs-local} by
 * default). One home is one stack; two homes can run side by side on different ports.
 */
public record Layout(Path home) {
  public Layout {
    home = home.toAbsolutePath().normalize();
  }

  public Path stateFile() {
    return home.resolve("stack.json");
  }

  public Path logs() {
    return home.resolve("logs");
  }

  public Path log(String component) {
    return logs().resolve(component + ".log");
  }

  public Path config() {
    return home.resolve("config");
  }

  public Path kafkaData() {
    return home.resolve("kafka-data");
  }

  public Path store() {
    return home.resolve("store");
  }

  public Path mount() {
    return home.resolve("mnt");
  }

  public Path journal() {
    return home.resolve("journal");
  }

  public Path sinkState() {
    return home.resolve("sink-state");
  }

  /** Mirror {@code i} (0-based): {@code mirror-a}, {@code mirror-b}, ... */
  public Path mirror(int i) {
    return home.resolve(mirrorName(i));
  }

  /** Connector and directory name of mirror {@code i}: {@code mirror-a} ... {@code mirror-z}. */
  public static String mirrorName(int i) {
    if (i < 0 || i >= 26) {
      throw new IllegalArgumentException("mirror index " + i + " out of range 0..25");
    }
    return "mirror-" + (char) ('a' + i);
  }
}
