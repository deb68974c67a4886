package dev.tfs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfs.tools.stack.Build;
import dev.tfs.tools.stack.ConnectRest;
import dev.tfs.tools.stack.Layout;
import dev.tfs.tools.stack.Templates;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * The local stack as {@code ./tfs up} runs it: a real single-node KRaft broker and a distributed
 * Connect worker as processes (same classpath, heap and config files as {@code LocalStack}: {@code
 * connect-configs/distributed/worker.properties}, the packaged sink plugin on {@code plugin.path}),
 * plus a tfs-capture of volume {@link #LAG_VOLUME} shipping to the broker. Mirrors are deployed
 * through the Connect REST API from the repository's sample connector config ({@code
 * connect-configs/distributed/sink-mirror-a.json}), so each is configured as a user would.
 *
 * <p>The harness starts these processes itself rather than through {@code LocalStack.up()}: the
 * latter decides whether a child is alive from {@code ProcessHandle.info().arguments()}, which JDK
 * 17 leaves empty when a command line exceeds 4 KiB (the child classpath here is ~9 KiB), so it
 * takes a running broker for a dead one.
 */
final class BenchStack implements AutoCloseable {
  static final String LAG_VOLUME = "bench-lag";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Env env;
  private final Layout layout;
  private final Path sinkState;
  private final int kafkaPort;
  private final int connectPort;
  private Procs.Proc broker;
  private Procs.Proc connect;
  private Subject.Mounted capture;

  private BenchStack(Env env, Layout layout, int kafkaPort, int connectPort) {
    this.env = env;
    this.layout = layout;
    this.sinkState = layout.sinkState();
    this.kafkaPort = kafkaPort;
    this.connectPort = connectPort;
  }

  static BenchStack start(Env env, int kafkaPort, int controllerPort, int connectPort) {
    Layout l = new Layout(env.work.resolve("stack"));
    BenchStack b = new BenchStack(env, l, kafkaPort, connectPort);
    env.say("starting the local stack (broker, Connect worker, tfs-capture) in %s", l.home());
    long t0 = System.nanoTime();
    env.stack = b;
    try {
      b.startAll(controllerPort);
    } catch (IOException | RuntimeException e) {
      env.stack = null;
      b.close();
      throw e instanceof BenchException be ? be : new BenchException("stack start failed: " + e, e);
    }
    env.say(
        "stack up in %.0f s (broker pid %d, Connect worker pid %d, tfs-capture pid %d)",
        (System.nanoTime() - t0) / 1e9, b.broker.pid(), b.connect.pid(), b.capture.proc.pid());
    return b;
  }

  private void startAll(int controllerPort) throws IOException {
    for (int port : new int[] {kafkaPort, controllerPort, connectPort}) {
      if (portOpen(port)) {
        throw new BenchException(
            "port "
                + port
                + " is in use; pick others with --kafka-port/--controller-port/--connect-port");
      }
    }
    Layout l = layout;
    for (Path p : List.of(l.home(), l.logs(), l.config(), l.kafkaData(), l.sinkState())) {
      Files.createDirectories(p);
    }
    Path log4j = l.config().resolve("log4j2.properties");
    Files.writeString(
        log4j,
        String.join(
            "\n",
            "status = warn",
            "appender.out.type = Console",
            "appender.out.name = OUT",
            "appender.out.layout.type = PatternLayout",
            "appender.out.layout.pattern = [%d] %p %m (%c)%n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.out.ref = OUT",
            "logger.clients.name = org.apache.kafka.clients",
            "logger.clients.level = WARN",
            "logger.reflections.name = org.reflections",
            "logger.reflections.level = ERROR",
            ""));
    // The broker: LocalStack's kafka.properties.
    Path props = l.config().resolve("kafka.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:"
                + kafkaPort
                + ",CONTROLLER://127.0.0.1:"
                + controllerPort,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + kafkaPort,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=" + l.kafkaData(),
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            ""));
    String cp = Build.childClasspath(env.repo);
    List<String> jvm =
        List.of(
            Procs.java(), "-Xms256m", "-Xmx1g", "-Dlog4j2.configurationFile=" + log4j, "-cp", cp);
    List<String> format = new ArrayList<>(jvm);
    format.addAll(
        List.of(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            Uuid.randomUuid().toString(),
            "-c",
            props.toString(),
            "--ignore-formatted"));
    Procs.Proc f = Procs.start("kafka-format", format, l.log("kafka-format"), Map.of());
    Procs.await("Kafka storage format", Duration.ofSeconds(120), () -> !f.alive());
    if (f.process.exitValue() != 0) {
      throw new BenchException("formatting Kafka storage failed:\n" + f.tail(10));
    }
    List<String> run = new ArrayList<>(jvm);
    run.addAll(List.of("kafka.Kafka", props.toString()));
    broker = Procs.start("kafka", run, l.log("kafka"), Map.of());
    Procs.await(
        "the Kafka broker",
        Duration.ofSeconds(120),
        () -> {
          if (!broker.alive()) {
            throw new BenchException("the broker exited:\n" + broker.tail(10));
          }
          if (!portOpen(kafkaPort)) {
            return false;
          }
          try (Admin a = admin()) {
            return !a.describeCluster().nodes().get().isEmpty();
          } catch (Exception e) {
            return false;
          }
        });
    // The Connect worker: the repository's distributed worker sample, as LocalStack fills it in.
    Path plugins = env.repo.resolve("sink-connector/target/plugin");
    if (!Files.isDirectory(plugins)) {
      throw new BenchException(
          "the sink plugin is missing at " + plugins + ": build first (./tfs build)");
    }
    Templates t =
        new Templates(
            env.repo.resolve("connect-configs"),
            Map.of(
                "TFS_HOME", l.home().toString(),
                "TFS_BOOTSTRAP", bootstrap(),
                "TFS_CONNECT_PORT", Integer.toString(connectPort),
                "TFS_PLUGIN_PATH", plugins.toString(),
                "TFS_TOPIC", "unused",
                "TFS_VOLUME", "unused"));
    Map<String, String> worker = t.properties("distributed/worker.properties");
    StringBuilder sb = new StringBuilder();
    worker.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Path wprops = l.config().resolve("connect-distributed.properties");
    Files.writeString(wprops, sb.toString());
    List<String> crun = new ArrayList<>(jvm);
    crun.addAll(List.of("org.apache.kafka.connect.cli.ConnectDistributed", wprops.toString()));
    connect = Procs.start("connect", crun, l.log("connect"), Map.of());
    Procs.await(
        "the Connect worker to load the tfs sink plugin",
        Duration.ofSeconds(180),
        () -> {
          if (!connect.alive()) {
            throw new BenchException("the Connect worker exited:\n" + connect.tail(10));
          }
          try {
            ConnectRest.Answer a = rest().get("connector-plugins");
            return a.ok() && a.body().toString().contains("dev.tfs.sink.TreeSinkConnector");
          } catch (IOException e) {
            return false;
          }
        });
    // tfs-capture of the lag volume, shipping to the broker (LocalStack's capture settings).
    createTopic("tfs." + LAG_VOLUME + ".ops");
    capture =
        Subject.capture("capture-lag", true, Subject.JournalOn.DISK, List.of())
            .mount(env, l.store(), l.mount(), l.journal(), LAG_VOLUME);
  }

  private static boolean portOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 300);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15000);
    return Admin.create(p);
  }

  String bootstrap() {
    return "127.0.0.1:" + kafkaPort;
  }

  Layout layout() {
    return layout;
  }

  /** The stack's own capture mount (volume {@link #LAG_VOLUME}). */
  Path mount() {
    return layout.mount();
  }

  long connectPid() {
    return connect.pid();
  }

  long capturePid() {
    return capture.proc.pid();
  }

  ConnectRest rest() {
    return new ConnectRest("http://127.0.0.1:" + connectPort);
  }

  Path sinkState() {
    return sinkState;
  }

  /** Creates {@code topic} with the journal's partition count (8) if it is missing. */
  void createTopic(String topic) {
    try (Admin a = admin()) {
      a.createTopics(List.of(new NewTopic(topic, 8, (short) 1))).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
        throw new BenchException("cannot create " + topic + ": " + e.getCause(), e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchException("interrupted");
    }
  }

  /** Deletes a topic (frees the broker's disk between runs); missing is fine. */
  void deleteTopic(String topic) {
    try (Admin a = admin()) {
      a.deleteTopics(List.of(topic)).all().get();
    } catch (ExecutionException e) {
      // unknown topic: nothing to free
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Deploys a mirror of {@code volume} into {@code root} as connector {@code name}, with the
   * repository's sample sink config (tfs.fsync=commit, owner policy auto, read_committed).
   */
  void deployMirror(String name, String volume, Path root, Map<String, String> overrides)
      throws IOException {
    Templates t =
        new Templates(
            env.repo.resolve("connect-configs"),
            Map.of(
                "TFS_HOME",
                layout.home().toString(),
                "TFS_TOPIC",
                "tfs." + volume + ".ops",
                "TFS_VOLUME",
                volume,
                "TFS_BOOTSTRAP",
                bootstrap(),
                "TFS_CONNECT_PORT",
                "0",
                "TFS_PLUGIN_PATH",
                ""));
    Templates.Connector c = t.connector("distributed/sink-mirror-a.json");
    Map<String, String> config = new java.util.LinkedHashMap<>(c.config());
    config.put("tfs.mirror.root", root.toString());
    config.put("tfs.state.dir", sinkState.toString());
    config.putAll(env.sinkConfig);
    config.putAll(overrides);
    rest().upsert(name, config);
  }

  /** Waits until connector {@code name}'s task runs (fails fast if it failed). */
  void awaitRunning(String name, Duration timeout) {
    Procs.await(
        "connector " + name + " to run",
        timeout,
        () -> {
          try {
            JsonNode st = rest().status(name);
            if (st == null) {
              return false;
            }
            for (JsonNode task : st.path("tasks")) {
              if ("FAILED".equals(task.path("state").asText())) {
                throw new BenchException(
                    "connector "
                        + name
                        + " failed: "
                        + task.path("trace").asText().lines().findFirst().orElse("?"));
              }
            }
            JsonNode tasks = st.path("tasks");
            return tasks.size() > 0 && "RUNNING".equals(tasks.get(0).path("state").asText());
          } catch (IOException e) {
            return false;
          }
        });
  }

  /** Throws when connector {@code name}'s task failed (with the first line of its trace). */
  void checkNotFailed(String name) {
    try {
      JsonNode st = rest().status(name);
      if (st == null) {
        return;
      }
      for (JsonNode task : st.path("tasks")) {
        if ("FAILED".equals(task.path("state").asText())) {
          throw new BenchException(
              "connector "
                  + name
                  + " failed: "
                  + task.path("trace").asText().lines().findFirst().orElse("?"));
        }
      }
    } catch (IOException e) {
      // the worker is busy; the caller retries
    }
  }

  /** Deletes a connector and its mirror state files. */
  void deleteMirror(String name) {
    try {
      rest().delete("connectors/" + name);
      Procs.await(
          "connector " + name + " to go away",
          Duration.ofSeconds(60),
          () -> {
            try {
              return rest().status(name) == null;
            } catch (IOException e) {
              return false;
            }
          });
    } catch (IOException e) {
      env.say("could not delete connector %s: %s", name, e.getMessage());
    }
    try (Stream<Path> s = Files.list(sinkState)) {
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
    try (Stream<Path> s = Files.list(sinkState)) {
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
    if (connect != null) {
      connect.stop(Duration.ofSeconds(30));
    }
    if (broker != null) {
      broker.stop(Duration.ofSeconds(30));
    }
  }
}
