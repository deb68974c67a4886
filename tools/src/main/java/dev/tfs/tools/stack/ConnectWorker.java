package dev.tfs.tools.stack;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The stack's distributed Kafka Connect worker as a child process, configured from the sample
 * {@code connect-configs/distributed/worker.properties} (written filled in to {@code
 * <home>/config/connect-distributed.properties}), with the tfs plugins on {@code plugin.path}.
 */
public final class ConnectWorker {
  /** The component name: process, log file and state entry. */
  public static final String NAME = "connect";

  /** The sink plugin class the worker must list before connectors are deployed. */
  public static final String SINK_PLUGIN = "dev.tfs.sink.TreeSinkConnector";

  /** The source plugin class (needed when the journal ships through Connect). */
  public static final String SOURCE_PLUGIN = "dev.tfs.source.TreeSourceConnector";

  private static final Duration READY = Duration.ofMinutes(2);

  private final Path repo;
  private final Layout layout;
  private final Templates templates;
  private final int port;
  private final PrintStream progress;

  /**
   * @param templates the samples filled in for this stack ({@link Templates#forStack})
   */
  public ConnectWorker(
      Path repo, Layout layout, Templates templates, int port, PrintStream progress) {
    this.repo = repo;
    this.layout = layout;
    this.templates = templates;
    this.port = port;
    this.progress = progress;
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** A REST client for the worker. */
  public ConnectRest rest() {
    return new ConnectRest(url());
  }

  /** Writes the worker config and starts the worker; {@link #awaitReady} waits for it. */
  public ChildProcess launch() throws IOException {
    progress.println("tfs: starting Kafka Connect worker on " + url());
    Map<String, String> worker = templates.properties("distributed/worker.properties");
    Files.createDirectories(layout.config());
    Path props = layout.config().resolve("connect-distributed.properties");
    StringBuilder sb =
        new StringBuilder(
            "# written by ./tfs up from connect-configs/distributed/worker.properties\n");
    worker.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Files.writeString(props, sb.toString());
    List<String> run =
        List.of(
            "-Xms256m",
            "-Xmx1g",
            "-Dlog4j2.configurationFile=" + Waits.writeLog4j(layout),
            "-cp",
            Build.childClasspath(repo),
            "org.apache.kafka.connect.cli.ConnectDistributed",
            props.toString());
    return ChildProcess.startJava(layout, NAME, run, Map.of());
  }

  /** Waits until the worker's REST API lists every one of {@code plugins}. */
  public void awaitReady(ChildProcess connect, List<String> plugins) {
    ConnectRest rest = rest();
    Waits.waitFor(
        "the Connect worker to load the tfs plugins",
        READY,
        () -> {
          Waits.requireAlive(connect, layout);
          try {
            ConnectRest.Answer a = rest.get("connector-plugins");
            if (!a.ok()) {
              return false;
            }
            String listed = a.body().toString();
            return plugins.stream().allMatch(listed::contains);
          } catch (IOException e) {
            return false;
          }
        },
        layout.log(NAME));
  }
}
