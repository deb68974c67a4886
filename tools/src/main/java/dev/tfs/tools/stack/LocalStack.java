package dev.tfs.tools.stack;

import dev.tfs.op.Volumes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

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
      return Volumes.defaultTopic(volume);
    }

    public String bootstrap() {
      return "127.0.0.1:" + kafkaPort;
    }

    public String connectUrl() {
      return "http://127.0.0.1:" + connectPort;
    }
  }

  static final String BROKER = Broker.NAME;
  static final String CONNECT = ConnectWorker.NAME;
  static final String CAPTURE = CaptureProcess.NAME;
  static final String SOURCE_CONNECTOR = "tfs-source";

  private static final Duration CONNECTOR_READY = Duration.ofSeconds(90);

  private final Settings s;
  private final PrintStream progress;
  private final Broker broker;
  private final Map<String, ChildProcess> started = new LinkedHashMap<>();
  private Build build;

  public LocalStack(Settings settings, PrintStream progress) {
    this.s = settings;
    this.progress = progress;
    this.broker =
        new Broker(
            settings.repo(),
            settings.layout(),
            settings.kafkaPort(),
            settings.controllerPort(),
            progress);
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
      startBroker();
      broker.createTopic(s.topic(), s.partitions());
      startConnect();
      startCapture();
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

  // ------------------------------------------------------------------------------ components

  private void startBroker() throws IOException {
    ChildProcess p = broker.launch();
    started.put(BROKER, p);
    broker.awaitReady(p);
  }

  private Templates templates() {
    return Templates.forStack(
        s.repo(),
        s.layout().home(),
        s.bootstrap(),
        s.connectPort(),
        build.pluginPath(),
        s.topic(),
        s.volume());
  }

  private void startConnect() throws IOException {
    ConnectWorker worker =
        new ConnectWorker(s.repo(), s.layout(), templates(), s.connectPort(), progress);
    ChildProcess p = worker.launch();
    started.put(CONNECT, p);
    worker.awaitReady(
        p,
        s.ship() == Ship.CONNECT
            ? List.of(ConnectWorker.SINK_PLUGIN, ConnectWorker.SOURCE_PLUGIN)
            : List.of(ConnectWorker.SINK_PLUGIN));
  }

  private void startCapture() {
    CaptureProcess capture = new CaptureProcess(s.layout(), build, progress);
    ChildProcess p =
        capture.launch(
            s.volume(), s.partitions(), s.topic(), s.bootstrap(), s.ship(), s.captureArgs());
    started.put(CAPTURE, p);
    capture.awaitReady(p);
  }

  private void deployConnectors(Layout l, StackState state) throws IOException {
    Templates t = templates();
    ConnectRest rest = rest();
    Connectors deploy = new Connectors(rest, l.log(CONNECT));
    List<Templates.Connector> connectors = new ArrayList<>();
    if (s.ship() == Ship.CONNECT) {
      connectors.add(t.connector("distributed/source.json"));
    }
    for (int i = 0; i < s.mirrors(); i++) {
      connectors.add(Connectors.mirror(t, i));
    }
    for (Templates.Connector c : connectors) {
      progress.println("tfs: deploying connector " + c.name() + " through " + rest.url());
      deploy.deploy(c.name(), c.config());
      state.connectors.add(c.name());
    }
    for (Templates.Connector c : connectors) {
      deploy.awaitRunning(c.name(), CONNECTOR_READY);
    }
  }

  /** The settings this stack was started with. */
  public Settings settings() {
    return s;
  }

  /** An admin client for the stack's broker; the caller closes it. */
  public Admin admin() {
    return broker.admin();
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
          startBroker();
          break;
        case CONNECT:
          startConnect();
          break;
        case CAPTURE:
          startCapture();
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
}
