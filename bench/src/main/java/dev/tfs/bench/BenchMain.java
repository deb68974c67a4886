package dev.tfs.bench;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./tfs bench}: runs the benchmark groups and writes results.csv, report.md and plots. */
@Command(
    name = "tfs bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Benchmarks tfs side by side with the raw disk, bindfs, a bare jnr-fuse passthrough, rsync"
          + " and lsyncd, in interleaved repetitions, and writes results.csv, report.md and PNG"
          + " plots to --out.",
      "Groups: capture (seq write, tar x, create/stat/delete, mixed random r/w, parallel create"
          + " on raw, bindfs, passthrough, tfs-capture), lag (write -> visible on a mirror, tfs"
          + " vs lsyncd), propagation (100k-file tree, 10 changes: tfs vs rsync -a), bootstrap"
          + " (1 GiB / 10k files into a new mirror: tfs vs rsync -a), apply (mirror apply rate"
          + " from a pre-filled topic vs a plain dir), memory (sink with a large backlog), verify"
          + " (tfs verify vs rsync -anc on the same identical trees); tuning"
          + " (capture-fs options, not in the default set).",
      "Needs root, /dev/fuse, bindfs, lsyncd and rsync; takes the machine for itself: run it"
          + " when nothing else runs."
    })
public final class BenchMain implements Callable<Integer> {
  static final List<String> ALL_GROUPS =
      List.of("capture", "ship", "lag", "propagation", "bootstrap", "apply", "memory", "verify");

  @Option(names = "--quick", description = "Smaller sizes and fewer repetitions (under 10 min).")
  boolean quick;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Where results.csv, report.md and the PNGs go (default: bench-out/<time>).")
  Path out;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      description = "Scratch directory on the disk under test (default: <out>/work; removed).")
  Path work;

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "GROUP",
      description =
          "Run only these groups (capture, lag, propagation, bootstrap, apply, memory,"
              + " tuning).")
  List<String> only;

  @Option(names = "--reps", description = "Override the number of repetitions.")
  Integer reps;

  @Option(names = "--keep-work", description = "Keep the scratch directory (for debugging).")
  boolean keepWork;

  @Option(names = "--kafka-port", description = "Broker port (default ${DEFAULT-VALUE}).")
  int kafkaPort = 49092;

  @Option(names = "--controller-port", description = "KRaft port (default ${DEFAULT-VALUE}).")
  int controllerPort = 49093;

  @Option(names = "--connect-port", description = "Connect REST port (default ${DEFAULT-VALUE}).")
  int connectPort = 48083;

  @Option(
      names = "--baseline-jar",
      paramLabel = "JAR",
      description =
          "A tfs-capture jar of another build: every tfs subject of the capture and tuning groups"
              + " also runs with it, as <name>@before, interleaved (before/after comparisons).")
  Path baselineJar;

  @Option(
      names = "--subjects",
      split = ",",
      paramLabel = "NAME",
      description = "Only these subjects in the capture and tuning groups.")
  List<String> subjectFilter;

  @Option(
      names = "--sink-config",
      paramLabel = "KEY=VALUE",
      description =
          "Extra config for every mirror connector the benchmark deploys (experiments, e.g."
              + " consumer.override.max.partition.fetch.bytes=8388608); the report lists them.")
  java.util.Map<String, String> sinkConfig;

  @Option(
      names = "--report-only",
      paramLabel = "DIR",
      description =
          "Rewrite report.md and the plots of an earlier run's DIR from its results.csv,"
              + " lag-cdf.csv, memory-curve.csv and machine.json; measures nothing.")
  Path reportOnly;

  @Option(
      names = "--profile",
      description =
          "Record JFR profiles of tfs-capture and the Connect worker into <out>/profiles.")
  boolean profile;

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    PrintStream log =
        new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    if (reportOnly != null) {
      return rewriteReport(reportOnly.toAbsolutePath().normalize(), log);
    }
    Path repo = Path.of(System.getProperty("tfs.repo", ".")).toAbsolutePath().normalize();
    String stamp =
        LocalDateTime.now(ZoneId.systemDefault())
            .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    if (out == null) {
      out = repo.resolve("bench-out").resolve(stamp + (quick ? "-quick" : ""));
    }
    out = out.toAbsolutePath().normalize();
    Files.createDirectories(out);
    if (work == null) {
      work = out.resolve("work");
    }
    work = work.toAbsolutePath().normalize();
    Path shm = Path.of("/dev/shm/tfs-bench-" + ProcessHandle.current().pid());
    Set<String> groups = new LinkedHashSet<>(only == null ? ALL_GROUPS : only);
    for (String g : groups) {
      if (!ALL_GROUPS.contains(g) && !g.equals("tuning")) {
        System.err.println("tfs bench: unknown group " + g + "; known: " + ALL_GROUPS + ", tuning");
        return 2;
      }
    }
    Env.Sizes sizes = quick ? Env.Sizes.quick() : Env.Sizes.full();
    Results results = new Results(out.resolve("results.csv"));
    Files.deleteIfExists(out.resolve("results.csv"));
    Machine machine = Machine.describe(work);
    Env env = new Env(repo, out, work, shm, quick, sizes, results, log, true);
    env.profile = profile;
    env.reps = reps;
    env.baselineJar = baselineJar == null ? null : baselineJar.toAbsolutePath();
    if (sinkConfig != null) {
      env.sinkConfig.putAll(sinkConfig);
    }
    Thread hook = new Thread(Procs::cleanup, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    long t0 = System.nanoTime();
    List<String> failures = new ArrayList<>();
    Files.createDirectories(work);
    Files.createDirectories(shm);
    machine.loadBefore = Machine.loadAverage();
    env.say(
        "%s run of %s into %s (load average %s)",
        quick ? "quick" : "full", groups, out, machine.loadBefore);
    Prereqs.check(groups);
    try {
      boolean needStack =
          groups.stream()
                  .anyMatch(g -> !g.equals("tuning") && !g.equals("capture") && !g.equals("verify"))
              || (groups.contains("capture")
                  && (subjectFilter == null
                      || subjectFilter.stream().anyMatch(x -> x.startsWith("tfs-ship"))));
      if (needStack) {
        env.stack = BenchStack.start(env, kafkaPort, controllerPort, connectPort);
      }
      for (String g : groups) {
        long g0 = System.nanoTime();
        boolean connectProfile =
            env.stack != null && !List.of("capture", "tuning", "verify").contains(g);
        if (connectProfile) {
          Profiler.start(env, env.stack.connectPid(), g + "-connect");
        }
        try {
          runGroup(env, g);
        } catch (BenchException e) {
          failures.add(g + ": " + e.getMessage());
          env.say("group %s FAILED: %s", g, e.getMessage());
        }
        if (connectProfile) {
          Profiler.stop(
              env,
              env.stack.connectPid(),
              g + "-connect",
              "Connect worker during group " + g + " (sink task threads)",
              "task-thread");
        }
        machine.groupSeconds.put(g, (System.nanoTime() - g0) / 1e9);
      }
    } finally {
      if (env.stack != null) {
        env.stack.close();
      }
      Procs.cleanup();
      if (!keepWork) {
        Data.deleteTree(work);
      }
      Data.deleteTree(shm);
      Runtime.getRuntime().removeShutdownHook(hook);
    }
    machine.loadAfter = Machine.loadAverage();
    machine.totalSeconds = (System.nanoTime() - t0) / 1e9;
    machine.quick = quick;
    machine.reps = reps;
    machine.sinkConfig.putAll(env.sinkConfig);
    machine.failures.addAll(failures);
    machine.save(out.resolve("machine.json"));
    LagBench.saveCdf(out);
    MirrorBench.saveCurve(out);
    Report.write(env, machine, failures);
    Profiler.writeSummary(env);
    env.say("done in %.1f min: %s", machine.totalSeconds / 60, out.resolve("report.md"));
    return failures.isEmpty() ? 0 : 1;
  }

  private static int rewriteReport(Path dir, PrintStream log) throws Exception {
    Machine m = Machine.load(dir.resolve("machine.json"));
    Results r = Results.load(dir.resolve("results.csv"));
    Env env =
        new Env(
            Path.of(System.getProperty("tfs.repo", ".")).toAbsolutePath().normalize(),
            dir,
            dir.resolve("work"),
            dir.resolve("shm"),
            m.quick,
            m.quick ? Env.Sizes.quick() : Env.Sizes.full(),
            r,
            log,
            false);
    env.reps = m.reps;
    env.sinkConfig.putAll(m.sinkConfig);
    LagBench.loadCdf(dir);
    MirrorBench.loadCurve(dir);
    Report.write(env, m, m.failures);
    log.println("bench: rewrote " + dir.resolve("report.md"));
    return 0;
  }

  /** Applies --subjects and --baseline-jar to a subject list. */
  private List<Subject> subjects(List<Subject> list) {
    List<Subject> out = new ArrayList<>();
    for (Subject s : list) {
      if (subjectFilter == null || subjectFilter.contains(s.name)) {
        out.add(s);
      }
      if (baselineJar != null && s.kind == Subject.Kind.CAPTURE) {
        String n = s.name + "@before";
        if (subjectFilter == null || subjectFilter.contains(n) || subjectFilter.contains(s.name)) {
          out.add(s.withJar(n, baselineJar.toAbsolutePath()));
        }
      }
    }
    return out;
  }

  private void runGroup(Env env, String g) throws Exception {
    Env.Sizes z = env.sizes;
    switch (g) {
      case "capture" ->
          new CaptureBench(
                  env,
                  "capture",
                  subjects(CaptureBench.defaultSubjects(env.stack != null)),
                  env.reps(z.reps()))
              .run();
      case "tuning" ->
          new CaptureBench(env, "tuning", subjects(TuningSubjects.list()), env.reps(z.reps()))
              .run();
      case "ship" ->
          new ShipBench(env, subjects(ShipBench.defaultSubjects()), env.reps(z.reps())).run();
      case "lag" -> new LagBench(env).run();
      case "propagation" -> new MirrorBench(env).propagation();
      case "bootstrap" -> new MirrorBench(env).bootstrap();
      case "apply" -> new MirrorBench(env).apply();
      case "memory" -> new MirrorBench(env).memory();
      case "verify" -> new VerifyBench(env).run();
      default -> throw new BenchException("unknown group " + g);
    }
  }
}
