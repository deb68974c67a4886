package dev.tfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfs.op.Volumes;
import dev.tfs.tools.stack.Broker;
import dev.tfs.tools.stack.Build;
import dev.tfs.tools.stack.ChildProcess;
import dev.tfs.tools.stack.ConnectRest;
import dev.tfs.tools.stack.ConnectWorker;
import dev.tfs.tools.stack.Connectors;
import dev.tfs.tools.stack.Layout;
import dev.tfs.tools.stack.Prerequisites;
import dev.tfs.tools.stack.StackException;
import dev.tfs.tools.stack.Templates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;

/**
 * The local stack as {@code ./tfs up} runs it, built from the same components ({@link Broker},
 * {@link ConnectWorker}, {@link Connectors}: same classpath, heap and config files, the packaged
 * plugins on {@code plugin.path}), plus a tfs-capture of volume {@link #LAG_VOLUME} mounted the way
 * the harness mounts every capture subject. Mirrors are deployed through the Connect REST API from
 * the repository's sample connector config ({@code
 * connect-configs/distributed/sink-mirror-a.json}), so each is configured as a user would.
 */
final class BenchStack implements AutoCloseable {
  static final String LAG_VOLUME = "bench-lag";
  // The journal's partition count in every bench volume.
  private static final int PARTITIONS = 8;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Env env;
  private final Layout layout;
  private final Broker broker;
  private final int connectPort;
  private ConnectWorker worker;
  private Connectors connectors;
  private ChildProcess brokerProcess;
  private ChildProcess connectProcess;
  private Subject.Mounted capture;

  private BenchStack(Env env, Layout layout, int kafkaPort, int controllerPort, int connectPort) {
    this.env = env;
    this.layout = layout;
    this.broker = new Broker(env.repo, layout, kafkaPort, controllerPort, env.log);
    this.connectPort = connectPort;
  }

  static BenchStack start(Env env, int kafkaPort, int controllerPort, int connectPort) {
    Layout l = new Layout(env.work.resolve("stack"));
    BenchStack b = new BenchStack(env, l, kafkaPort, controllerPort, connectPort);
    env.say("starting the local stack (broker, Connect worker, tfs-capture) in %s", l.home());
    long t0 = System.nanoTime();
    env.stack = b;
    try {
      b.startAll(kafkaPort, controllerPort);
    } catch (IOException | RuntimeException e) {
      env.stack = null;
      b.close();
      throw e instanceof BenchException be ? be : new BenchException("stack start failed: " + e, e);
    }
    env.say(
        "stack up in %.0f s (broker pid %d, Connect worker pid %d, tfs-capture pid %d)",
        (System.nanoTime() - t0) / 1e9,
        b.brokerProcess.pid(),
        b.connectProcess.pid(),
        b.capture.proc.pid());
    return b;
  }

  private void startAll(int kafkaPort, int controllerPort) throws IOException {
    Prerequisites.checkPortFree(kafkaPort, "Kafka broker", "--kafka-port");
    Prerequisites.checkPortFree(controllerPort, "KRaft controller", "--controller-port");
    Prerequisites.checkPortFree(connectPort, "Connect REST API", "--connect-port");
    for (Path p : List.of(layout.home(), layout.logs(), layout.config(), layout.sinkState())) {
      Files.createDirectories(p);
    }
    Build build = Build.check(env.repo, false);
    brokerProcess = Procs.track(broker.launch());
    broker.awaitReady(brokerProcess);
    // The worker's sample needs no topic or volume: each mirror brings its own.
    Templates t = templates(build.pluginPath(), "unused", "unused");
    worker = new ConnectWorker(env.repo, layout, t, connectPort, env.log);
    connectProcess = Procs.track(worker.launch());
    worker.awaitReady(connectProcess, List.of(ConnectWorker.SINK_PLUGIN));
    connectors = new Connectors(worker.rest(), layout.log(ConnectWorker.NAME));
    createTopic(Volumes.defaultTopic(LAG_VOLUME));
    capture =
        Subject.capture("capture-lag", true, Subject.JournalOn.DISK, List.of())
            .mount(env, layout.store(), layout.mount(), layout.journal(), LAG_VOLUME);
  }

  private Templates templates(String pluginPath, String topic, String volume) {
    return Templates.forStack(
        env.repo, layout.home(), bootstrap(), connectPort, pluginPath, topic, volume);
  }

  Admin admin() {
    return broker.admin();
  }

  String bootstrap() {
    return broker.bootstrap();
  }

  Layout layout() {
    return layout;
  }

  /** The stack's own capture mount (volume {@link #LAG_VOLUME}). */
  Path mount() {
    return layout.mount();
  }

  long connectPid() {
    return connectProcess.pid();
  }

  long capturePid() {
    return capture.proc.pid();
  }

  ConnectRest rest() {
    return worker.rest();
  }

  Path sinkState() {
    return layout.sinkState();
  }

  /** Creates {@code topic} with the journal's partition count (8) if it is missing. */
  void createTopic(String topic) {
    broker.createTopic(topic, PARTITIONS);
  }

  /** Deletes a topic (frees the broker's disk between runs); missing is fine. */
  void deleteTopic(String topic) {
    broker.deleteTopic(topic);
  }

  /**
   * Deploys a mirror of {@code volume} into {@code root} as connector {@code name}, with the
   * repository's sample sink config (tfs.fsync=commit, owner policy auto, read_committed).
   */
  void deployMirror(String name, String volume, Path root, Map<String, String> overrides)
      throws IOException {
    Templates.Connector c =
        templates("", Volumes.defaultTopic(volume), volume)
            .connector("distributed/sink-mirror-a.json");
    Map<String, String> config = new LinkedHashMap<>(c.config());
    config.put("tfs.mirror.root", root.toString());
    config.put("tfs.state.dir", layout.sinkState().toString());
    config.putAll(env.sinkConfig);
    config.putAll(overrides);
    connectors.deploy(name, config);
  }

  /** Waits until connector {@code name}'s task runs (fails fast if it failed). */
  void awaitRunning(String name, Duration timeout) {
    try {
      connectors.awaitRunning(name, timeout);
    } catch (StackException e) {
      throw new BenchException(e.getMessage(), e);
    }
  }

  /** Throws when connector {@code name}'s task failed (with the first line of its trace). */
  void checkNotFailed(String name) {
    try {
      connectors.checkNotFailed(name);
    } catch (StackException e) {
      throw new BenchException(e.getMessage(), e);
    }
  }

  /** Deletes a connector and its mirror state files. */
  void deleteMirror(String name) {
    try {
      connectors.delete(name, Duration.ofSeconds(60));
    } catch (IOException | StackException e) {
      env.say("could not delete connector %s: %s", name, e.getMessage());
    }
    try (Stream<Path> s = Files.list(layout.sinkState())) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().startsWith(name + "-")) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      // best effort
    }
  }

  /** The mirror's status file ({@code .status.json}) as JSON, or null before it exists. */
  JsonNode mirrorStatus(String name) {
    try (Stream<Path> s = Files.list(layout.sinkState())) {
      for (Path p : s.toList()) {
        String f = p.getFileName().toString();
        if (f.startsWith(name + "-") && f.endsWith(".status.json")) {
          return JSON.readTree(Files.readString(p));
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  @Override
  public void close() {
    env.say("stopping the local stack");
    // Capture first (it flushes and ships), then Connect, then the broker.
    if (capture != null) {
      capture.close();
    }
    for (ChildProcess p : new ChildProcess[] {connectProcess, brokerProcess}) {
      if (p != null) {
        Procs.stop(p, Duration.ofSeconds(30));
      }
    }
  }
}
