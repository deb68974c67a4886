package dev.tfs.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KafkaPartitionerTest {
  /*
   * Expected values computed once with the real thing, kafka-clients 4.3.1, in a scratch program
   * outside this repository:
   *
   *   int h = org.apache.kafka.common.utils.Utils.murmur2(key);
   *   int p = org.apache.kafka.common.utils.Utils.toPositive(h) % partitions;
   *
   * (the default partitioner's BuiltInPartitioner.partitionForKey). Keys cover every remainder of
   * length % 4, the empty key and a non-UTF-8 name.
   */
  private static final Object[][] KAFKA = {
    // key, murmur2, partition of 8, partition of 12
    {"", 275646681, 1, 9},
    {"a", -1563381124, 4, 4},
    {"ab", 316155434, 2, 2},
    {"abc", 479470107, 3, 3},
    {"abcd", -1323649548, 4, 8},
    {"21", -973932308, 4, 0},
    {"foobar", -790332482, 6, 6},
    {"dir/file.txt", -1835016265, 7, 7},
    {"a-little-bit-longer-string", -1486304829, 3, 11},
    {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 5, 5},
  };

  @Test
  void murmur2AndPartitionEqualKafkas() {
    for (Object[] c : KAFKA) {
      byte[] key = ((String) c[0]).getBytes(StandardCharsets.UTF_8);
      assertThat(KafkaPartitioner.murmur2(key)).as("murmur2(%s)", c[0]).isEqualTo(c[1]);
      assertThat(KafkaPartitioner.partition(key, 8)).as("partition(%s, 8)", c[0]).isEqualTo(c[2]);
      assertThat(KafkaPartitioner.partition(key, 12)).as("partition(%s, 12)", c[0]).isEqualTo(c[3]);
    }
  }

  @Test
  void nonUtf8KeyEqualsKafkas() {
    byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9, '-', (byte) 0xff};
    assertThat(KafkaPartitioner.murmur2(latin1)).isEqualTo(-2051378108);
    assertThat(KafkaPartitioner.partition(latin1, 8)).isEqualTo(4);
    assertThat(KafkaPartitioner.partition(latin1, 12)).isEqualTo(0);
  }

  @Test
  void toPositiveClearsTheSignBitLikeKafka() {
    assertThat(KafkaPartitioner.toPositive(Integer.MIN_VALUE)).isZero();
    assertThat(KafkaPartitioner.toPositive(-1)).isEqualTo(Integer.MAX_VALUE);
    assertThat(KafkaPartitioner.toPositive(5)).isEqualTo(5);
  }
}
