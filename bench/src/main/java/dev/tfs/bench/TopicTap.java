package dev.tfs.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Watches a lag volume's topic from its end and notes when each append of a lag run (one write op)
 * is in Kafka, as seen by a consumer: the first part of tfs's lag. Record keys are the op paths
 * ({@code <run>/fNNN}).
 */
final class TopicTap implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private volatile boolean stop;

  private TopicTap(KafkaConsumer<byte[], byte[]> consumer, String prefix, long[] times, int files) {
    this.consumer = consumer;
    this.thread =
        new Thread(
            () -> {
              dev.tfs.op.OpCodec codec = new dev.tfs.op.OpCodec();
              while (!stop) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                  long now = System.nanoTime();
                  String k = new String(r.key(), StandardCharsets.ISO_8859_1);
                  if (!k.startsWith(prefix)) {
                    continue;
                  }
                  int slash = k.lastIndexOf("/f");
                  if (slash < 0) {
                    continue;
                  }
                  try {
                    // The append at offset o of file f is op f + (o / OP_BYTES) * files.
                    int f = Integer.parseInt(k.substring(slash + 2));
                    Object body = codec.decode(r.value()).getOp();
                    if (f < files && body instanceof dev.tfs.op.schema.Write w) {
                      long op = f + (w.getOffset() / LagBench.OP_BYTES) * files;
                      if (op < times.length && times[(int) op] == 0) {
                        times[(int) op] = now;
                      }
                    }
                  } catch (NumberFormatException | dev.tfs.op.OpDecodeException e) {
                    // not one of ours
                  }
                }
              }
            },
            "topic-tap");
    thread.setDaemon(true);
  }

  static TopicTap start(Env env, String topic, String prefix, long[] times, int files) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, env.stack.bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
    List<TopicPartition> tps = new ArrayList<>();
    for (PartitionInfo pi : c.partitionsFor(topic)) {
      tps.add(new TopicPartition(topic, pi.partition()));
    }
    c.assign(tps);
    c.seekToEnd(tps);
    for (TopicPartition tp : tps) {
      c.position(tp); // resolve now, before the run writes
    }
    TopicTap t = new TopicTap(c, prefix, times, files);
    t.thread.start();
    return t;
  }

  @Override
  public void close() {
    stop = true;
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
  }
}
