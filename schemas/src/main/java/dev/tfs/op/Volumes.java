package dev.tfs.op;

import java.util.regex.Pattern;

/** Rules for volume names and the topic a volume's ops go to. */
public final class Volumes {
  /** Characters Kafka allows in a topic name, bounded so {@code tfs.<volume>.ops} fits 249. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");

  private Volumes() {}

  /** The volume name, or an {@link IllegalArgumentException} saying what is wrong with it. */
  public static String validate(String volume) {
    if (volume == null || !NAME.matcher(volume).matches()) {
      throw new IllegalArgumentException(
          "invalid volume name '"
              + volume
              + "': use 1 to 200 characters from A-Z a-z 0-9 . _ - (it becomes part of the topic"
              + " name)");
    }
    return volume;
  }

  /** True when {@link #validate} would accept the name. */
  public static boolean isValid(String volume) {
    return volume != null && NAME.matcher(volume).matches();
  }

  /** The default topic of a volume: {@code tfs.<volume>.ops}. */
  public static String defaultTopic(String volume) {
    return "tfs." + validate(volume) + ".ops";
  }
}
