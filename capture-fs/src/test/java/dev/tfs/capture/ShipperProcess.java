package dev.tfs.capture;

import dev.tfs.capture.ship.KafkaShipper;
import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalOptions;
import dev.tfs.journal.JournalWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The in-process shipper of tfs-capture, alone in a child JVM over an existing journal (no mount):
 * what a SIGKILL of tfs-capture does to shipping, without the cost of a FUSE mount per start.
 */
public final class ShipperProcess implements AutoCloseable {
  /** Printed by the child once everything in the journal is acknowledged by Kafka. */
  static final String SHIPPED = "shipper-process: shipped through seq ";

  final Process process;
  final Path log;

  /** Starts a child that ships {@code journal} (volume, partitions as created) to {@code topic}. */
  ShipperProcess(
      Path journal, String volume, int partitions, String topic, String bootstrap, Path log)
      throws IOException {
    this.log = log;
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dfile.encoding=ISO-8859-1");
    cmd.add("-Xmx256m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ShipperProcess.class.getName());
    cmd.add(journal.toString());
    cmd.add(volume);
    cmd.add(String.valueOf(partitions));
    cmd.add(topic);
    cmd.add(bootstrap);
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
  }

  /** SIGKILL and wait until the process is gone. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("shipper process " + process.pid() + " survived SIGKILL");
    }
  }

  /** Waits for a clean exit after shipping everything; returns the exit code. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError("shipper process did not finish within " + timeout);
    }
    return process.exitValue();
  }

  String output() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }

  /** Child: {@code JOURNAL VOLUME PARTITIONS TOPIC BOOTSTRAP}; exits 0 once all is shipped. */
  public static void main(String[] args) throws Exception {
    JournalOptions opts =
        JournalOptions.builder()
            .volume(args[1])
            .partitions(Integer.parseInt(args[2]))
            .durability(Durability.NONE)
            .build();
    Properties producer = new Properties();
    producer.put("bootstrap.servers", args[4]);
    producer.put("request.timeout.ms", "5000");
    try (JournalWriter journal = JournalWriter.open(Path.of(args[0]), opts);
        KafkaShipper shipper =
            new KafkaShipper(
                journal, args[3], producer, null, new CaptureMetrics(), Duration.ofSeconds(1))) {
      shipper.start();
      while (!shipper.awaitShipped(Duration.ofSeconds(1))) {
        if (shipper.refusal() != null) {
          System.out.println("shipper-process: refused: " + shipper.refusal());
          System.exit(1);
        }
      }
      System.out.println(SHIPPED + shipper.shippedSeq());
    }
    System.exit(0);
  }
}
