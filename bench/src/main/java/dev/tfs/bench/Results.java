package dev.tfs.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Every measured value of a run, one row per repetition; written as results.csv. */
final class Results {
  /** One measured value. */
  record Sample(
      String group,
      String workload,
      String subject,
      String metric,
      String unit,
      boolean higherIsBetter,
      int rep,
      double value) {}

  /** Median and spread of the repetitions of one (group, workload, subject, metric). */
  record Stat(double median, double min, double max, int n, String unit, boolean higherIsBetter) {
    /** (max - min) / median, the spread shown as ±. */
    double spread() {
      return median == 0 ? 0 : (max - min) / median;
    }

    static final Stat NONE = new Stat(Double.NaN, Double.NaN, Double.NaN, 0, "", true);

    boolean present() {
      return n > 0;
    }
  }

  private final List<Sample> samples = new ArrayList<>();
  private final Path csv;

  Results(Path csv) {
    this.csv = csv;
  }

  synchronized void add(Sample s) {
    samples.add(s);
    try {
      boolean header = !Files.exists(csv);
      StringBuilder sb = new StringBuilder();
      if (header) {
        sb.append("group,workload,subject,metric,unit,higher_is_better,rep,value\n");
      }
      sb.append(
          String.join(
              ",",
              s.group(),
              s.workload(),
              s.subject(),
              s.metric(),
              s.unit(),
              Boolean.toString(s.higherIsBetter()),
              Integer.toString(s.rep()),
              String.format(Locale.ROOT, "%.6g", s.value())));
      sb.append('\n');
      // Appended as measured, so an interrupted run keeps what it measured.
      Files.writeString(
          csv,
          sb.toString(),
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new BenchException("cannot write " + csv + ": " + e.getMessage(), e);
    }
  }

  void add(
      String group,
      String workload,
      String subject,
      String metric,
      String unit,
      boolean higherIsBetter,
      int rep,
      double value) {
    add(new Sample(group, workload, subject, metric, unit, higherIsBetter, rep, value));
  }

  /** Reads a results.csv written by an earlier run (for --report-only). */
  static Results load(Path csv) throws IOException {
    Results r = new Results(csv);
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",", -1);
      if (f.length < 8) {
        continue;
      }
      r.samples.add(
          new Sample(
              f[0],
              f[1],
              f[2],
              f[3],
              f[4],
              Boolean.parseBoolean(f[5]),
              Integer.parseInt(f[6]),
              Double.parseDouble(f[7])));
    }
    return r;
  }

  synchronized List<Sample> all() {
    return List.copyOf(samples);
  }

  synchronized Stat stat(String group, String workload, String subject, String metric) {
    double[] v =
        samples.stream()
            .filter(
                s ->
                    s.group().equals(group)
                        && s.workload().equals(workload)
                        && s.subject().equals(subject)
                        && s.metric().equals(metric))
            .mapToDouble(Sample::value)
            .toArray();
    if (v.length == 0) {
      return Stat.NONE;
    }
    Sample first =
        samples.stream()
            .filter(
                s ->
                    s.group().equals(group)
                        && s.workload().equals(workload)
                        && s.subject().equals(subject)
                        && s.metric().equals(metric))
            .findFirst()
            .orElseThrow();
    Arrays.sort(v);
    return new Stat(
        median(v), v[0], v[v.length - 1], v.length, first.unit(), first.higherIsBetter());
  }

  synchronized Set<String> workloads(String group) {
    Set<String> out = new LinkedHashSet<>();
    for (Sample s : samples) {
      if (s.group().equals(group)) {
        out.add(s.workload());
      }
    }
    return out;
  }

  synchronized Set<String> subjects(String group) {
    Set<String> out = new LinkedHashSet<>();
    for (Sample s : samples) {
      if (s.group().equals(group)) {
        out.add(s.subject());
      }
    }
    return out;
  }

  synchronized Set<String> metrics(String group, String workload) {
    Set<String> out = new LinkedHashSet<>();
    for (Sample s : samples) {
      if (s.group().equals(group) && s.workload().equals(workload)) {
        out.add(s.metric());
      }
    }
    return out;
  }

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** The p-th percentile (0..100) of sorted values, nearest rank. */
  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }
}
