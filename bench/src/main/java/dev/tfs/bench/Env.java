package dev.tfs.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** What every benchmark group needs: where things are, sizes, the results, progress output. */
final class Env {
  final Path repo;
  final Path out;
  final Path work;
  final Path shm;
  final boolean quick;
  final Sizes sizes;
  final Results results;
  final PrintStream log;
  final Path captureJar;
  final Path benchCode;

  /** --sink-config: extra settings for every mirror connector deployed. */
  final java.util.Map<String, String> sinkConfig = new java.util.LinkedHashMap<>();

  /** --reps: overrides every group's repetition count, or null. */
  Integer reps;

  /** Repetitions of a group: --reps when given, else the group's own count. */
  int reps(int groupDefault) {
    return reps != null ? reps : groupDefault;
  }

  /** --baseline-jar: another tfs-capture build to compare with, or null. */
  Path baselineJar;

  /** --profile: JFR recordings of the measured JVMs. */
  boolean profile;

  /** The local stack, when a group needs the broker or Connect; null otherwise. */
  BenchStack stack;

  Env(
      Path repo,
      Path out,
      Path work,
      Path shm,
      boolean quick,
      Sizes sizes,
      Results results,
      PrintStream log,
      boolean forRun) {
    this.repo = repo;
    this.out = out;
    this.work = work;
    this.shm = shm;
    this.quick = quick;
    this.sizes = sizes;
    this.results = results;
    this.log = log;
    this.captureJar =
        forRun ? snapshot(findCaptureJar(repo), work.resolve("jars/tfs-capture.jar")) : null;
    this.benchCode = forRun ? snapshot(codeLocation(), work.resolve("jars/tfs-bench.jar")) : null;
  }

  /**
   * A private copy of a jar the daemons run, taken at the start: other builds in the same tree may
   * rewrite {@code target/} while a run is under way (a class then goes missing mid-run).
   */
  private static Path snapshot(Path jar, Path copy) {
    if (!Files.isRegularFile(jar)) {
      return jar; // classes directory (running from the IDE): use as is
    }
    try {
      Files.createDirectories(copy.getParent());
      Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return copy;
    } catch (IOException e) {
      throw new BenchException("cannot copy " + jar + " to " + copy + ": " + e.getMessage(), e);
    }
  }

  /** Workload sizes: the full run's are the issue's; --quick scales them down. */
  record Sizes(
      int reps,
      long seqBytes,
      int tarFiles,
      int metaFiles,
      int mixedOps,
      long mixedFileBytes,
      int lagReps,
      int lagSeconds,
      int propFiles,
      int propReps,
      long bootBytes,
      int bootFiles,
      int bootReps,
      long applyLargeBytes,
      int applySmallFiles,
      int applyReps,
      long memBacklogBytes) {
    static Sizes full() {
      return new Sizes(
          3, // reps (capture, ship, apply)
          1L << 30, // seq-write
          10_000, // tar-x files
          10_000, // create/stat/delete files
          20_000, // mixed ops
          64L << 20, // mixed file
          2, // lag reps
          20, // lag seconds per run
          100_000, // propagation tree
          3, // propagation reps
          1L << 30, // bootstrap bytes
          10_000, // bootstrap files
          3, // bootstrap reps
          1L << 30, // apply large bytes
          10_000, // apply small files
          3, // apply reps
          10L << 30); // memory backlog: the 10 GiB
    }

    static Sizes quick() {
      return new Sizes(
          2,
          256L << 20,
          2_500,
          2_500,
          5_000,
          32L << 20,
          1,
          8,
          20_000,
          2,
          256L << 20,
          2_500,
          1,
          256L << 20,
          2_500,
          2,
          512L << 20);
    }
  }

  void say(String fmt, Object... args) {
    log.printf("bench: " + fmt + "%n", args);
    log.flush();
  }

  /** The java command prefix both JVM daemons (passthrough and tfs-capture) run with. */
  static List<String> daemonJvm() {
    // LocalStack's tfs-capture heap settings; the launcher's charset flags.
    return List.of(
        Procs.java(),
        "-Xms128m",
        "-Xmx512m",
        "-Dfile.encoding=ISO-8859-1",
        "-Dsun.jnu.encoding=ISO-8859-1");
  }

  private static Path findCaptureJar(Path repo) {
    Path target = repo.resolve("capture-fs/target");
    try (Stream<Path> s = Files.list(target)) {
      return s.filter(p -> p.getFileName().toString().matches("tfs-capture-fs-.*-all\\.jar"))
          .findFirst()
          .orElseThrow(
              () ->
                  new BenchException(
                      "no tfs-capture jar in " + target + ": build first (./tfs build)"));
    } catch (IOException e) {
      throw new BenchException("no " + target + ": build first (./tfs build)");
    }
  }

  private static Path codeLocation() {
    try {
      return Path.of(Env.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new BenchException("cannot locate the bench classes", e);
    }
  }
}
