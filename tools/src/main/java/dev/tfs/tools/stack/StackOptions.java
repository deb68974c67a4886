package dev.tfs.tools.stack;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** Options shared by the stack commands (a picocli mixin). */
public final class StackOptions {
  @Option(
      names = "--home",
      paramLabel = "DIR",
      description =
          "The stack's home: mirrors, store, journal, logs (default: .tfs-local in the"
              + " repository).")
  Path home;

  @Option(
      names = "--kafka-port",
      description = "Broker port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
  int kafkaPort = 39092;

  @Option(
      names = "--controller-port",
      description = "KRaft controller port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
  int controllerPort = 39093;

  @Option(
      names = "--connect-port",
      description = "Connect REST port on 127.0.0.1 (default ${DEFAULT-VALUE}).")
  int connectPort = 38083;

  /** The repository root (the launcher passes -Dtfs.repo). */
  public static Path repo() {
    String r = System.getProperty("tfs.repo");
    return Path.of(r == null ? "." : r).toAbsolutePath().normalize();
  }

  public Layout layout() {
    return new Layout(home != null ? home : repo().resolve(".tfs-local"));
  }

  public LocalStack.Settings settings(
      int mirrors, LocalStack.Ship ship, String volume, int partitions) {
    return new LocalStack.Settings(
        repo(),
        layout(),
        kafkaPort,
        controllerPort,
        connectPort,
        mirrors,
        ship,
        volume,
        partitions,
        List.of());
  }
}
