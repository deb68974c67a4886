package dev.tfs.sink;

import dev.tfs.op.OpCodec;
import dev.tfs.op.Ops;
import dev.tfs.op.Volumes;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Write;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;

/**
 * The connector end to end: a pre-filled 8-partition topic applied by a real Connect worker (KRaft
 * broker and worker in this JVM), timed from the first applied op until the task's JMX bean reports
 * the last seq (start-up and the consumer-group join before the first op are printed apart),
 * against {@link ApplyBenchmark}'s raw Java I/O figures for the same tree. Not a test; run like
 * {@link ApplyBenchmark} with main class {@code dev.tfs.sink.ConnectApplyBenchmark [dir] [largeMiB]
 * [smallFiles]}; add {@code -Djava.io.tmpdir=/dev/shm/...} to keep the embedded broker's log off
 * the mirror's disk, as on a real mirror host. The connector is loaded from the class path here.
 */
public final class ConnectApplyBenchmark {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "target/bench-connect").toAbsolutePath();
    int largeMiB = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
    int smallFiles = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
    Files.createDirectories(dir);
    Map<String, String> worker = new HashMap<>();
    worker.put("offset.flush.interval.ms", "5000");
    worker.put("consumer.max.partition.fetch.bytes", String.valueOf(8 << 20));
    worker.put("consumer.fetch.max.bytes", String.valueOf(64 << 20));
    EmbeddedConnectCluster connect =
        new EmbeddedConnectCluster.Builder()
            .name("tfs-bench")
            .numWorkers(1)
            .numBrokers(1)
            .workerProps(worker)
            .build();
    connect.start();
    try {
      byte[] data = new byte[ApplyBenchmark.CHUNK];
      new Random(1).nextBytes(data);
      long bytes = (long) largeMiB << 20;
      History large = new History("large", 1L, 8);
      long perFile = bytes / 4;
      for (int f = 0; f < 4; f++) {
        large.add("big" + f, new Create(0644, 0, 0));
        for (long off = 0; off < perFile; off += data.length) {
          large.add(b("big" + f), new Write(off, ByteBuffer.wrap(data)), true, false);
        }
      }
      double secLarge = run(connect, dir, "large", large);
      double rawLarge = ApplyBenchmark.largeRaw(dir.resolve("raw-large"), data, bytes);
      large = null;

      byte[] small = ApplyBenchmark.smallData();
      History sh = new History("small", 1L, 8);
      for (int d = 0; d < ApplyBenchmark.DIRS; d++) {
        sh.add("d" + d, new Mkdir(0755, 0, 0));
      }
      for (int i = 0; i < smallFiles; i++) {
        String p = "d" + (i % ApplyBenchmark.DIRS) + "/f" + i;
        sh.add(p, new Create(0644, 0, 0));
        sh.add(b(p), new Write(0L, ByteBuffer.wrap(small)), true, false);
      }
      double secSmall = run(connect, dir, "small", sh);
      double rawSmall = ApplyBenchmark.smallRaw(dir.resolve("raw-small"), smallFiles);
      System.out.printf(
          "connector, large files: %d MiB: %.0f MiB/s vs raw %.0f MiB/s, ratio %.2f (target >="
              + " 0.8)%n",
          largeMiB, largeMiB / secLarge, rawLarge, (largeMiB / secLarge) / rawLarge);
      System.out.printf(
          "connector, small files: %d: %.0f files/s vs raw %.0f files/s, ratio %.2f (target >="
              + " 0.25)%n",
          smallFiles, smallFiles / secSmall, rawSmall, (smallFiles / secSmall) / rawSmall);
    } finally {
      connect.stop();
      ApplyBenchmark.deleteTree(dir);
    }
  }

  /** Pre-fills a topic with the history, then times the connector applying it; seconds. */
  static double run(EmbeddedConnectCluster connect, Path dir, String name, History h)
      throws Exception {
    String topic = Volumes.defaultTopic(name);
    connect.kafka().createTopic(topic, 8);
    OpCodec codec = new OpCodec();
    try (KafkaProducer<byte[], byte[]> p =
        connect
            .kafka()
            .createProducer(
                Map.of(
                    "enable.idempotence", "false",
                    "max.in.flight.requests.per.connection", "1",
                    "acks", "1",
                    "linger.ms", "20",
                    "batch.size", String.valueOf(1 << 20),
                    "max.request.size", String.valueOf(4 << 20)))) {
      for (OpRecord op : h.ops) {
        p.send(new ProducerRecord<>(topic, Ops.path(op), codec.encode(op)));
      }
      p.flush();
    }
    Path root = dir.resolve(name + "-mirror");
    Path state = dir.resolve(name + "-state");
    Map<String, String> c =
        TreeSinkConnectIT.sink(topic, root, state, TreeSinkConfig.FSYNC_CONFIG, "commit");
    c.put("connector.class", TreeSinkConnector.class.getName());
    long last = h.ops.size();
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    ObjectName bean = new ObjectName("dev.tfs:type=sink,connector=" + ObjectName.quote(name));
    long t0 = System.nanoTime();
    long first = 0;
    connect.configureConnector(name, c);
    while (true) {
      long applied = server.isRegistered(bean) ? (Long) server.getAttribute(bean, "AppliedSeq") : 0;
      if (first == 0 && applied > 0) {
        first = System.nanoTime();
      }
      if (applied >= last) {
        break;
      }
      if (System.nanoTime() - t0 > 600_000_000_000L) {
        throw new IllegalStateException("not applied within 10 minutes");
      }
      Thread.sleep(20); // polling a figure in a benchmark, not hiding a race in a test
    }
    // Include a final sync, as ApplyBenchmark's raw side does.
    ApplyBenchmark.sync(root);
    long end = System.nanoTime();
    double sec = (end - first) / 1e9;
    System.out.printf(
        "%s: %d ops; connector start to first applied op %.1f s (task start, consumer group"
            + " join), first to last op + sync %.1f s%n",
        name, last, (first - t0) / 1e9, sec);
    connect.deleteConnector(name);
    connect.kafka().deleteTopic(topic);
    return sec;
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private ConnectApplyBenchmark() {}
}
