package dev.tfs.bench;

import java.util.List;

/**
 * The capture-fs tuning matrix (group {@code tuning}, run on request): the bare passthrough and
 * tfs-capture (journal on tmpfs, so only our own cost shows) under the mount options the capture
 * daemon exposes: multithreaded vs {@code -s}, attribute/entry cache timeouts.
 */
final class TuningSubjects {
  private TuningSubjects() {}

  static List<Subject> list() {
    return List.of(
        Subject.passthrough("passthrough", List.of()),
        Subject.passthrough("passthrough-s", List.of("--single-threaded")),
        Subject.capture("tfs", false, Subject.JournalOn.TMPFS, List.of()),
        Subject.capture("tfs-s", false, Subject.JournalOn.TMPFS, List.of("--single-threaded")),
        Subject.capture(
            "tfs-attr0", false, Subject.JournalOn.TMPFS, List.of("--attr-timeout", "0")),
        Subject.capture(
            "tfs-attr10", false, Subject.JournalOn.TMPFS, List.of("--attr-timeout", "10")));
  }
}
