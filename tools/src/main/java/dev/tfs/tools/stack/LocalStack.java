package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The local stack: a real single-node KRaft broker and a real distributed Connect worker as child
 * processes listening on 127.0.0.1 only, {@code tfs-capture} mounted at {@code <home>/mnt}, and N
 * mirrors deployed as sink connectors through the Connect REST API (plus the source connector when
 * the journal is shipped through Connect).
 */
public final class LocalStack {
  /** How the capture journal reaches Kafka. */
  public enum Ship {
    /** tfs-capture's built-in shipper. */
    KAFKA,
    /** tfs-capture --ship=none; TreeSourceConnector on the Connect worker ships the journal. */
    CONNECT
  }

  /** Everything {@code up} needs to know. */
  public record Settings(
      Path repo,
      Layout layout,
      int kafkaPort,
      int controllerPort,
      int connectPort,
      int mirrors,
      Ship ship,
      String volume,
      int partitions,
      List<String> captureArgs) {
    public Settings {
      captureArgs = List.copyOf(captureArgs);
    }

    /** The same settings with extra tfs-capture arguments (e.g. --spool-max-bytes). */
    public Settings withCaptureArgs(List<String> args) {
      return new Settings(
          repo,
          layout,
          kafkaPort,
          controllerPort,
          connectPort,
          mirrors,
          ship,
          volume,
          partitions,
          args);
    }

    public String topic() {
      return "tfs." + volume + ".ops";
    }

    public String bootstrap() {
      return "127.0.0.1:" + kafkaPort;
    }

    public String connectUrl() {
      return "http://127.0.0.1:" + connectPort;
    }
  }

  static final String BROKER = "kafka";
  static final String CONNECT = "connect";
  static final String CAPTURE = "capture";
  static final String SOURCE_CONNECTOR = "tfs-source";

  private static final Duration BROKER_READY = Duration.ofSeconds(90);
  private static final Duration CONNECT_READY = Duration.ofSeconds(120);
  private static final Duration CAPTURE_READY = Duration.ofSeconds(180);
  private static final Duration CONNECTOR_READY = Duration.ofSeconds(90);

  private final Settings s;
  private final PrintStream progress;
  private final Map<String, ChildProcess> started = new LinkedHashMap<>();
  private Build build;

  public LocalStack(Settings settings, PrintStream progress) {
    this.s = settings;
    this.progress = progress;
  }

  /**
   * Starts the stack and returns once every component is ready: the mount serves, the connectors
   * run. On failure everything started so far is stopped again and the exception says which
   * component failed and where its log is.
   */
  public StackState up() {
    Layout l = s.layout();
    checkNotRunning(l);
    Prerequisites.checkFuse();
    Prerequisites.checkPortFree(s.kafkaPort(), "Kafka broker", "--kafka-port");
    Prerequisites.checkPortFree(s.controllerPort(), "KRaft controller", "--controller-port");
    Prerequisites.checkPortFree(s.connectPort(), "Connect REST API", "--connect-port");
    if (Prerequisites.clearStaleMount(l.mount())) {
      progress.println("tfs: unmounted a stale FUSE mount left at " + l.mount() + " by a crash");
    }
    build = Build.check(s.repo(), s.ship() == Ship.CONNECT);
    try {
      createDirectories(l);
      startBroker(l);
      createTopic();
      startConnect(l, build);
      startCapture(l, build);
      StackState state = state(l);
      state.save(l.stateFile());
      deployConnectors(l, state);
      state.save(l.stateFile());
      return state;
    } catch (RuntimeException | IOException e) {
      progress.println("tfs: start failed, stopping what was started");
      stopAll(new ArrayList<>(started.values()), progress);
      if (e instanceof StackException se) {
        throw se;
      }
      throw new StackException(StackException.STARTUP, "start failed: " + e, e);
    }
  }

  private static void checkNotRunning(Layout l) {
    if (!Files.exists(l.stateFile())) {
      return;
    }
    try {
      StackState old = StackState.load(l.stateFile());
      for (StackState.Proc p : old.processes) {
        if (p.handle().alive()) {
          throw new StackException(
              StackException.ENVIRONMENT,
              "a stack is already running in "
                  + l.home()
                  + " ("
                  + p.name
                  + " pid "
                  + p.pid
                  + "): stop it with ./tfs down --home "
                  + l.home());
        }
      }
    } catch (IOException e) {
      // An unreadable state file of a dead stack: start over.
    }
  }

  private void createDirectories(Layout l) throws IOException {
    for (Path p :
        List.of(
            l.home(),
            l.logs(),
            l.config(),
            l.kafkaData(),
            l.store(),
            l.mount(),
            l.journal(),
            l.sinkState())) {
      Files.createDirectories(p);
    }
    for (int i = 0; i < s.mirrors(); i++) {
      Files.createDirectories(l.mirror(i));
    }
    try (var entries = Files.list(l.mount())) {
      if (entries.findAny().isPresent()) {
        throw new StackException(
            StackException.ENVIRONMENT,
            "the mount point "
                + l.mount()
                + " is not empty (a capture mount would hide its files): empty it or use"
                + " another --home");
      }
    }
  }

  // ------------------------------------------------------------------------------ broker

  private void startBroker(Layout l) throws IOException {
    progress.println("tfs: starting Kafka broker on " + s.bootstrap());
    Path props = l.config().resolve("kafka.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "# written by ./tfs up",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + s.controllerPort(),
            "listeners=PLAINTEXT://127.0.0.1:"
                + s.kafkaPort()
                + ",CONTROLLER://127.0.0.1:"
                + s.controllerPort(),
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + s.kafkaPort(),
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
    Path log4j = writeLog4j(l);
    List<String> common =
        List.of(
            "-Xms256m",
            "-Xmx1g",
            "-Dlog4j2.configurationFile=" + log4j,
            "-cp",
            Build.childClasspath(s.repo()));
    if (!Files.exists(l.kafkaData().resolve("meta.properties"))) {
      List<String> format = new ArrayList<>(common);
      format.addAll(
          List.of(
              "kafka.tools.StorageTool",
              "format",
              "-t",
              clusterId(),
              "-c",
              props.toString(),
              "--ignore-formatted"));
      ChildProcess f = ChildProcess.startJava(l, "kafka-format", format, Map.of());
      waitFor(
          "Kafka storage format", Duration.ofSeconds(60), () -> !f.alive(), l.log("kafka-format"));
      if (!Files.exists(l.kafkaData().resolve("meta.properties"))) {
        throw new StackException(
            StackException.STARTUP,
            "formatting Kafka storage failed: see " + l.log("kafka-format"));
      }
    }
    List<String> run = new ArrayList<>(common);
    run.addAll(List.of("kafka.Kafka", props.toString()));
    ChildProcess broker = ChildProcess.startJava(l, BROKER, run, Map.of());
    started.put(BROKER, broker);
    waitFor(
        "the Kafka broker",
        BROKER_READY,
        () -> {
          requireAlive(broker, l);
          return brokerReady();
        },
        l.log(BROKER));
  }

  private static String clusterId() {
    UUID u = UUID.randomUUID();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
    b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  private boolean brokerReady() {
    if (!portOpen(s.kafkaPort())) {
      return false;
    }
    try (Admin admin = admin()) {
      return !admin.describeCluster().nodes().get().isEmpty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return false;
    }
  }

  /** An admin client for the stack's broker; the caller closes it. */
  public Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
    return Admin.create(p);
  }

  private void createTopic() {
    try (Admin admin = admin()) {
      try {
        admin.createTopics(List.of(new NewTopic(s.topic(), s.partitions(), (short) 1))).all().get();
        progress.println(
            "tfs: created topic " + s.topic() + " with " + s.partitions() + " partitions");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new StackException(
              StackException.STARTUP, "cannot create topic " + s.topic() + ": " + e.getCause());
        }
        TopicDescription d =
            admin.describeTopics(List.of(s.topic())).allTopicNames().get().get(s.topic());
        if (d.partitions().size() < s.partitions()) {
          throw new StackException(
              StackException.ENVIRONMENT,
              "topic "
                  + s.topic()
                  + " exists with "
                  + d.partitions().size()
                  + " partitions, fewer than the journal's "
                  + s.partitions()
                  + ": use --partitions "
                  + d.partitions().size()
                  + " or a new --home");
        }
      }
    } catch (ExecutionException e) {
      throw new StackException(
          StackException.STARTUP, "cannot describe topic " + s.topic() + ": " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StackException(StackException.STARTUP, "interrupted creating the topic");
    }
  }

  // ------------------------------------------------------------------------------ connect

  private Templates templates(Layout l, Build build) {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("TFS_HOME", l.home().toString());
    v.put("TFS_BOOTSTRAP", s.bootstrap());
    v.put("TFS_CONNECT_PORT", Integer.toString(s.connectPort()));
    v.put("TFS_PLUGIN_PATH", build.pluginPath());
    v.put("TFS_TOPIC", s.topic());
    v.put("TFS_VOLUME", s.volume());
    return new Templates(s.repo().resolve("connect-configs"), v);
  }

  private void startConnect(Layout l, Build build) throws IOException {
    progress.println("tfs: starting Kafka Connect worker on " + s.connectUrl());
    Map<String, String> worker = templates(l, build).properties("distributed/worker.properties");
    Path props = l.config().resolve("connect-distributed.properties");
    StringBuilder sb =
        new StringBuilder(
            "# written by ./tfs up from connect-configs/distributed/worker.properties\n");
    worker.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Files.writeString(props, sb.toString());
    List<String> run =
        List.of(
            "-Xms256m",
            "-Xmx1g",
            "-Dlog4j2.configurationFile=" + writeLog4j(l),
            "-cp",
            Build.childClasspath(s.repo()),
            "org.apache.kafka.connect.cli.ConnectDistributed",
            props.toString());
    ChildProcess connect = ChildProcess.startJava(l, CONNECT, run, Map.of());
    started.put(CONNECT, connect);
    ConnectRest rest = new ConnectRest(s.connectUrl());
    waitFor(
        "the Connect worker to load the tfs plugins",
        CONNECT_READY,
        () -> {
          requireAlive(connect, l);
          try {
            ConnectRest.Answer a = rest.get("connector-plugins");
            return a.ok()
                && a.body().toString().contains("dev.tfs.sink.TreeSinkConnector")
                && (s.ship() != Ship.CONNECT
                    || a.body().toString().contains("dev.tfs.source.TreeSourceConnector"));
          } catch (IOException e) {
            return false;
          }
        },
        l.log(CONNECT));
  }

  private void deployConnectors(Layout l, StackState state) throws IOException {
    Templates t = templates(l, Build.check(s.repo(), s.ship() == Ship.CONNECT));
    ConnectRest rest = new ConnectRest(s.connectUrl());
    List<Templates.Connector> connectors = new ArrayList<>();
    if (s.ship() == Ship.CONNECT) {
      connectors.add(t.connector("distributed/source.json"));
    }
    Templates.Connector a = t.connector("distributed/sink-mirror-a.json");
    for (int i = 0; i < s.mirrors(); i++) {
      if (i == 1) {
        connectors.add(t.connector("distributed/sink-mirror-b.json"));
        continue;
      }
      // Further mirrors are mirror-a's sample with its name and root changed.
      String name = Layout.mirrorName(i);
      Map<String, String> config = new LinkedHashMap<>();
      a.config().forEach((k, v) -> config.put(k, v.replace("mirror-a", name)));
      connectors.add(new Templates.Connector(name, config));
    }
    for (Templates.Connector c : connectors) {
      progress.println("tfs: deploying connector " + c.name() + " through " + rest.url());
      rest.upsert(c.name(), c.config());
      state.connectors.add(c.name());
    }
    for (Templates.Connector c : connectors) {
      waitFor(
          "connector " + c.name() + " to run",
          CONNECTOR_READY,
          () -> {
            try {
              JsonNode st = rest.status(c.name());
              if (st == null) {
                return false;
              }
              String connectorState = st.path("connector").path("state").asText();
              JsonNode tasks = st.path("tasks");
              for (JsonNode task : tasks) {
                if ("FAILED".equals(task.path("state").asText())) {
                  throw new StackException(
                      StackException.STARTUP,
                      "connector "
                          + c.name()
                          + " task failed: "
                          + task.path("trace").asText().lines().findFirst().orElse("?")
                          + " (see "
                          + l.log(CONNECT)
                          + ")");
                }
              }
              return "RUNNING".equals(connectorState)
                  && tasks.size() > 0
                  && "RUNNING".equals(tasks.get(0).path("state").asText());
            } catch (IOException e) {
              return false;
            }
          },
          l.log(CONNECT));
    }
  }

  // ------------------------------------------------------------------------------ capture

  private void startCapture(Layout l, Build build) {
    progress.println(
        "tfs: mounting tfs-capture at "
            + l.mount()
            + " (store "
            + l.store()
            + ", ship "
            + s.ship().name().toLowerCase(java.util.Locale.ROOT)
            + ")");
    List<String> run = new ArrayList<>();
    run.addAll(
        List.of(
            "-Xms128m",
            "-Xmx512m",
            "-Dfile.encoding=ISO-8859-1",
            "-jar",
            build.captureJar().toString()));
    run.addAll(
        List.of(
            "--store", l.store().toString(),
            "--mount", l.mount().toString(),
            "--journal", l.journal().toString(),
            "--volume", s.volume(),
            "--partitions", Integer.toString(s.partitions()),
            "--topic", s.topic(),
            "--bootstrap-servers", s.bootstrap(),
            "--ship", s.ship() == Ship.KAFKA ? "kafka" : "none"));
    run.addAll(s.captureArgs());
    ChildProcess capture = ChildProcess.startJava(l, CAPTURE, run, Map.of());
    started.put(CAPTURE, capture);
    waitFor(
        "tfs-capture to mount " + l.mount(),
        CAPTURE_READY,
        () -> {
          requireAlive(capture, l);
          return Prerequisites.isFuseMount(l.mount());
        },
        l.log(CAPTURE));
  }

  // ------------------------------------------------------------------------------ components

  /** The settings this stack was started with. */
  public Settings settings() {
    return s;
  }

  /** A REST client for the stack's Connect worker. */
  public ConnectRest rest() {
    return new ConnectRest(s.connectUrl());
  }

  /** The running process of a component ({@code kafka}, {@code connect}, {@code capture}). */
  public ChildProcess process(String name) {
    return started.get(name);
  }

  /**
   * Stops one component, e.g. to show that mirrors converge after a broker outage or that a capture
   * killed with SIGKILL loses nothing acknowledged.
   *
   * @param kill SIGKILL at once instead of SIGTERM with a grace period
   */
  public void stopComponent(String name, boolean kill) {
    ChildProcess p = started.get(name);
    if (p == null) {
      throw new IllegalArgumentException("no component " + name);
    }
    if (kill) {
      p.handle()
          .ifPresent(
              h -> {
                h.destroyForcibly();
                h.onExit().join();
              });
    } else {
      p.stop(Duration.ofSeconds(60));
    }
    if (name.equals(CAPTURE)) {
      // A killed daemon leaves its mount dead until unmounted (auto_unmount may lag a little).
      Prerequisites.clearStaleMount(s.layout().mount());
    }
  }

  /** Starts a component stopped with {@link #stopComponent} again and waits until it is ready. */
  public void startComponent(String name) {
    ChildProcess p = started.get(name);
    if (p != null && p.alive()) {
      throw new IllegalStateException(name + " is still running (pid " + p.pid() + ")");
    }
    try {
      switch (name) {
        case BROKER:
          startBroker(s.layout());
          break;
        case CONNECT:
          startConnect(s.layout(), build);
          break;
        case CAPTURE:
          startCapture(s.layout(), build);
          break;
        default:
          throw new IllegalArgumentException("no component " + name);
      }
      StackState st = StackState.load(s.layout().stateFile());
      st.processes.clear();
      for (ChildProcess c : started.values()) {
        st.processes.add(new StackState.Proc(c));
      }
      st.save(s.layout().stateFile());
    } catch (IOException e) {
      throw new StackException(StackException.STARTUP, "cannot restart " + name + ": " + e, e);
    }
  }

  /**
   * tfs-capture's metrics (the {@code dev.tfs:type=capture} MXBean attributes, e.g. NextSeq,
   * ShippedSeq, UnshippedOps), read from the running daemon through the Attach API.
   */
  public Map<String, Object> captureMetrics() {
    ChildProcess p = started.get(CAPTURE);
    if (p == null || !p.alive()) {
      throw new IllegalStateException("tfs-capture is not running");
    }
    try {
      Map<String, Map<String, Object>> beans = JmxProbe.read(p.pid(), "dev.tfs:type=capture,*");
      if (beans.isEmpty()) {
        throw new IllegalStateException("tfs-capture (pid " + p.pid() + ") has no capture MXBean");
      }
      return beans.values().iterator().next();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read tfs-capture metrics: " + e, e);
    }
  }

  /** Stops everything this object started (like {@code tfs down}). */
  public void down() {
    down(s.layout(), progress);
  }

  // ------------------------------------------------------------------------------ down

  /** Stops what {@code up} started at this home, in order, and unmounts. Safe to repeat. */
  public static void down(Layout l, PrintStream progress) {
    List<ChildProcess> procs = new ArrayList<>();
    if (Files.exists(l.stateFile())) {
      try {
        StackState st = StackState.load(l.stateFile());
        for (String name : List.of(CAPTURE, CONNECT, BROKER)) {
          ChildProcess p = st.process(name);
          if (p != null) {
            procs.add(p);
          }
        }
      } catch (IOException e) {
        progress.println("tfs: cannot read " + l.stateFile() + ": " + e.getMessage());
      }
    } else {
      progress.println("tfs: no stack recorded in " + l.home());
    }
    stopAll(procs, progress);
    try {
      if (Prerequisites.clearStaleMount(l.mount())) {
        progress.println("tfs: unmounted " + l.mount());
      }
      Files.deleteIfExists(l.stateFile());
    } catch (IOException e) {
      throw new StackException(StackException.ENVIRONMENT, "cannot remove " + l.stateFile(), e);
    }
  }

  /** Stops capture first (it flushes and ships), then Connect, then the broker. */
  static void stopAll(List<ChildProcess> procs, PrintStream progress) {
    List<ChildProcess> ordered = new ArrayList<>();
    for (String name : List.of(CAPTURE, CONNECT, BROKER)) {
      for (ChildProcess p : procs) {
        if (p.name().equals(name)) {
          ordered.add(p);
        }
      }
    }
    for (ChildProcess p : procs) {
      if (!ordered.contains(p)) {
        ordered.add(p);
      }
    }
    for (ChildProcess p : ordered) {
      if (!p.alive()) {
        continue;
      }
      Duration grace = p.name().equals(CAPTURE) ? Duration.ofSeconds(60) : Duration.ofSeconds(30);
      boolean clean = p.stop(grace);
      progress.println(
          "tfs: stopped " + p.name() + " (pid " + p.pid() + ")" + (clean ? "" : " by SIGKILL"));
    }
  }

  // ------------------------------------------------------------------------------ helpers

  private StackState state(Layout l) {
    StackState st = new StackState();
    st.home = l.home().toString();
    st.volume = s.volume();
    st.topic = s.topic();
    st.partitions = s.partitions();
    st.ship = s.ship().name().toLowerCase(java.util.Locale.ROOT);
    st.bootstrap = s.bootstrap();
    st.connectUrl = s.connectUrl();
    st.mount = l.mount().toString();
    st.store = l.store().toString();
    st.journal = l.journal().toString();
    st.sinkState = l.sinkState().toString();
    for (int i = 0; i < s.mirrors(); i++) {
      st.mirrors.add(l.mirror(i).toString());
    }
    for (ChildProcess p : started.values()) {
      st.processes.add(new StackState.Proc(p));
    }
    return st;
  }

  private static Path writeLog4j(Layout l) throws IOException {
    Path f = l.config().resolve("log4j2.properties");
    Files.writeString(
        f,
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
    return f;
  }

  private static void requireAlive(ChildProcess p, Layout l) {
    if (!p.alive()) {
      throw new StackException(
          StackException.STARTUP,
          p.name()
              + " exited during startup: see "
              + l.log(p.name())
              + " (last lines: "
              + tail(l.log(p.name()), 5)
              + ")");
    }
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join(" | ", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "unreadable";
    }
  }

  static boolean portOpen(int port) {
    try (Socket sock = new Socket()) {
      sock.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Polls {@code ready} until true, or fails after {@code timeout} naming the log to read. */
  static void waitFor(String what, Duration timeout, BooleanSupplier ready, Path log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pause = 50;
    while (!ready.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new StackException(
            StackException.STARTUP,
            "timed out after " + timeout.toSeconds() + " s waiting for " + what + ": see " + log);
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StackException(StackException.STARTUP, "interrupted waiting for " + what);
      }
      pause = Math.min(pause * 2, 500);
    }
  }
}
