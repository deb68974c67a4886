package dev.tfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The machine a run measured: what the report header states. */
final class Machine {
  String date;
  int cpus;
  String cpuModel;
  String ram;
  String disk;
  String kernel;
  String java;
  String loadBefore;
  String loadAfter;
  double totalSeconds;
  final Map<String, Double> groupSeconds = new LinkedHashMap<>();
  final Map<String, String> tools = new LinkedHashMap<>();

  static Machine describe(Path work) {
    Machine m = new Machine();
    m.date = ZonedDateTime.now(ZoneId.systemDefault()).format(DateTimeFormatter.RFC_1123_DATE_TIME);
    m.cpus = Runtime.getRuntime().availableProcessors();
    m.cpuModel = firstMatch(Path.of("/proc/cpuinfo"), "model name");
    m.ram = firstMatch(Path.of("/proc/meminfo"), "MemTotal");
    m.kernel = oneLine(List.of("uname", "-srm"));
    String jv = Procs.tryRun(List.of(Procs.java(), "-version"), Duration.ofSeconds(20));
    m.java = jv == null ? System.getProperty("java.vm.version") : jv.strip().replace("\n", "; ");
    Path existing = work.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    String df =
        Procs.tryRun(
            List.of("df", "-h", "--output=source,fstype,size,avail", existing.toString()),
            Duration.ofSeconds(10));
    String dev = "?";
    if (df != null) {
      String[] lines = df.strip().split("\n", -1);
      dev = lines[lines.length - 1].trim().replaceAll("\\s+", " ");
    }
    String rota = null;
    String src = dev.split(" ", -1)[0];
    if (src.startsWith("/dev/")) {
      String name = src.substring(5).replaceAll("[0-9]+$", "");
      try {
        rota = Files.readString(Path.of("/sys/block/" + name + "/queue/rotational")).strip();
      } catch (IOException e) {
        rota = null;
      }
    }
    m.disk =
        dev
            + (rota == null ? "" : " (kernel: rotational=" + rota + ")")
            + "; tmpfs /dev/shm for tmpfs journals";
    for (String t : List.of("bindfs", "lsyncd", "rsync", "tar")) {
      String v =
          Procs.tryRun(List.of("dpkg-query", "-W", "-f=${Version}", t), Duration.ofSeconds(10));
      m.tools.put(t, v == null ? "?" : v.strip());
    }
    return m;
  }

  boolean quick;
  Integer reps;
  final Map<String, String> sinkConfig = new LinkedHashMap<>();
  final java.util.List<String> failures = new java.util.ArrayList<>();

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper()
          .setVisibility(
              com.fasterxml.jackson.annotation.PropertyAccessor.FIELD,
              com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.ANY);

  void save(Path f) throws IOException {
    JSON.writerWithDefaultPrettyPrinter().writeValue(f.toFile(), this);
  }

  static Machine load(Path f) throws IOException {
    return JSON.readValue(f.toFile(), Machine.class);
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ", -1);
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "?";
    }
  }

  private static String firstMatch(Path f, String key) {
    try {
      for (String l : Files.readAllLines(f)) {
        if (l.startsWith(key)) {
          return l.substring(l.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      return "?";
    }
    return "?";
  }

  private static String oneLine(List<String> cmd) {
    String s = Procs.tryRun(cmd, Duration.ofSeconds(10));
    return s == null ? "?" : s.strip();
  }
}
