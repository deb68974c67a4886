package dev.tfs.capture;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** Real in-JVM KRaft brokers for the shipper tests. */
final class TestBrokers {
  private TestBrokers() {}

  /** A built, not yet started, one-node cluster (broker and controller combined). */
  static KafkaClusterTestKit build() throws Exception {
    return new KafkaClusterTestKit.Builder(
            new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .build())
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("num.partitions", "1")
        .build();
  }

  /** A one-node cluster, started and ready; the caller closes it. */
  static KafkaClusterTestKit started() throws Exception {
    KafkaClusterTestKit c = build();
    c.format();
    c.startup();
    c.waitForReadyBrokers();
    return c;
  }
}
