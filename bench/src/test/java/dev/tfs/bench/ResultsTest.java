package dev.tfs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsTest {
  @TempDir Path dir;

  @Test
  void medianAndSpreadOfRepetitions() throws Exception {
    Results r = new Results(dir.resolve("results.csv"));
    r.add("g", "w", "a", "rate", "ops/s", true, 1, 10);
    r.add("g", "w", "a", "rate", "ops/s", true, 2, 30);
    r.add("g", "w", "a", "rate", "ops/s", true, 3, 20);
    r.add("g", "w", "b", "rate", "ops/s", true, 1, 5);
    Results.Stat s = r.stat("g", "w", "a", "rate");
    assertThat(s.median()).isEqualTo(20);
    assertThat(s.min()).isEqualTo(10);
    assertThat(s.max()).isEqualTo(30);
    assertThat(s.spread()).isEqualTo(1.0);
    assertThat(r.stat("g", "w", "c", "rate").present()).isFalse();
    assertThat(r.subjects("g")).containsExactly("a", "b");
    assertThat(Files.readAllLines(dir.resolve("results.csv")))
        .hasSize(5)
        .first()
        .isEqualTo("group,workload,subject,metric,unit,higher_is_better,rep,value");
  }

  @Test
  void percentilesByNearestRank() {
    double[] v = new double[100];
    for (int i = 0; i < 100; i++) {
      v[i] = i + 1;
    }
    assertThat(Results.percentile(v, 50)).isEqualTo(50);
    assertThat(Results.percentile(v, 99)).isEqualTo(99);
    assertThat(Results.percentile(v, 100)).isEqualTo(100);
    assertThat(Results.median(new double[] {1, 2, 3, 4})).isEqualTo(2.5);
  }
}
