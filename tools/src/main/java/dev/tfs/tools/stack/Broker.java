package dev.tfs.tools.stack;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The stack's Kafka broker: a single-node KRaft broker and controller as a child process listening
 * on 127.0.0.1 only ({@code <home>/config/kafka.properties}, data in {@code <home>/kafka-data}),
 * and the admin calls the stack makes on it (topics).
 */
public final class Broker {
  /** The component name: process, log file ({@code <home>/logs/kafka.log}) and state entry. */
  public static final String NAME = "kafka";

  private static final Duration READY = Duration.ofSeconds(90);

  private final Path repo;
  private final Layout layout;
  private final int port;
  private final int controllerPort;
  private final PrintStream progress;

  public Broker(Path repo, Layout layout, int port, int controllerPort, PrintStream progress) {
    this.repo = repo;
    this.layout = layout;
    this.port = port;
    this.controllerPort = controllerPort;
    this.progress = progress;
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  /**
   * Writes the config, formats the storage on first use and starts the broker; {@link #awaitReady}
   * waits for it. Two steps, so a caller records the process before waiting and stops it if it
   * never gets ready.
   */
  public ChildProcess launch() throws IOException {
    progress.println("tfs: starting Kafka broker on " + bootstrap());
    Files.createDirectories(layout.config());
    Files.createDirectories(layout.kafkaData());
    Path props = layout.config().resolve("kafka.properties");
    Files.writeString(
        props,
        String.join(
            "\n",
            "# written by ./tfs up",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=" + layout.kafkaData(),
            "num.partitions=1",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            ""));
    List<String> common =
        List.of(
            "-Xms256m",
            "-Xmx1g",
            "-Dlog4j2.configurationFile=" + Waits.writeLog4j(layout),
            "-cp",
            Build.childClasspath(repo));
    if (!Files.exists(layout.kafkaData().resolve("meta.properties"))) {
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
      ChildProcess f = ChildProcess.startJava(layout, "kafka-format", format, Map.of());
      Waits.waitFor(
          "Kafka storage format",
          Duration.ofSeconds(60),
          () -> !f.alive(),
          layout.log("kafka-format"));
      if (!Files.exists(layout.kafkaData().resolve("meta.properties"))) {
        throw new StackException(
            StackException.STARTUP,
            "formatting Kafka storage failed: see " + layout.log("kafka-format"));
      }
    }
    List<String> run = new ArrayList<>(common);
    run.addAll(List.of("kafka.Kafka", props.toString()));
    return ChildProcess.startJava(layout, NAME, run, Map.of());
  }

  /** Waits until the broker answers admin requests; fails fast when it exited. */
  public void awaitReady(ChildProcess broker) {
    Waits.waitFor(
        "the Kafka broker",
        READY,
        () -> {
          Waits.requireAlive(broker, layout);
          return ready();
        },
        layout.log(NAME));
  }

  private static String clusterId() {
    UUID u = UUID.randomUUID();
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
    b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  private boolean ready() {
    if (!Waits.portOpen(port)) {
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

  /** An admin client for the broker; the caller closes it. */
  public Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
    return Admin.create(p);
  }

  /**
   * Creates {@code topic} with {@code partitions} partitions; an existing topic is fine when it has
   * at least that many (a journal numbers ops for its partition count).
   */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      try {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        progress.println("tfs: created topic " + topic + " with " + partitions + " partitions");
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw new StackException(
              StackException.STARTUP, "cannot create topic " + topic + ": " + e.getCause());
        }
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        if (d.partitions().size() < partitions) {
          throw new StackException(
              StackException.ENVIRONMENT,
              "topic "
                  + topic
                  + " exists with "
                  + d.partitions().size()
                  + " partitions, fewer than the journal's "
                  + partitions
                  + ": use --partitions "
                  + d.partitions().size()
                  + " or a new --home");
        }
      }
    } catch (ExecutionException e) {
      throw new StackException(
          StackException.STARTUP, "cannot describe topic " + topic + ": " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StackException(StackException.STARTUP, "interrupted creating the topic");
    }
  }

  /** Deletes a topic (frees the broker's disk); a missing topic is fine. */
  public void deleteTopic(String topic) {
    try (Admin admin = admin()) {
      admin.deleteTopics(List.of(topic)).all().get();
    } catch (ExecutionException e) {
      // unknown topic: nothing to free
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
