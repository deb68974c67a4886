package dev.tfs.capture.cli;

import dev.tfs.capture.CaptureDaemon;
import dev.tfs.capture.fs.FuseMount;
import dev.tfs.capture.fs.Names;
import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalDump;
import dev.tfs.journal.JournalOptions;
import dev.tfs.op.OpCodec;
import dev.tfs.op.Volumes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tfs-capture}: mounts a capture file system over a store and ships its journal.
 *
 * <p>Exit codes: 0 stopped cleanly; 1 unexpected failure; 2 usage (bad or missing flags, bad
 * paths); 3 environment (no /dev/fuse, no libfuse2, not root, wrong JVM charset); 4 Kafka
 * configuration; 5 journal (locked by another process, damaged, incomplete bootstrap); 6 mount
 * failure.
 */
@Command(
    name = "tfs-capture",
    mixinStandardHelpOptions = true,
    version = "tfs-capture 0.1.0",
    sortOptions = false,
    subcommands = {CaptureMain.JournalCommand.class},
    description = {
      "Serves a FUSE mount over a backing store and records every change in a local journal,"
          + " shipped to Kafka topic tfs.<volume>.ops.",
      "Prints '@|bold tfs-capture: mounted MOUNT (volume V, epoch E, next seq N)|@' when ready;"
          + " SIGTERM/SIGINT unmount, flush and ship within --shutdown-timeout."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:stopped cleanly",
      "1:unexpected failure",
      "2:usage: bad flags or paths",
      "3:environment: /dev/fuse, libfuse2, root or JVM charset",
      "4:Kafka configuration",
      "5:journal locked, damaged or holding an incomplete bootstrap",
      "6:mount failed"
    })
public final class CaptureMain implements Callable<Integer> {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;
  public static final int ENVIRONMENT = 3;
  public static final int KAFKA_CONFIG = 4;

  /** Checks of the machine, replaceable in tests. */
  public interface Environment {
    /** What is missing for FUSE, or null when all is there. */
    String fuseProblem();
  }

  /** The real checks: /dev/fuse, libfuse.so.2, fusermount, root. */
  public static final Environment REAL =
      () -> {
        if (!Files.exists(Path.of("/dev/fuse"))) {
          return "/dev/fuse is missing: load the fuse module (modprobe fuse) or give the container"
              + " --device /dev/fuse";
        }
        if (!libfuse2Present()) {
          return "libfuse2 is not installed (apt-get install libfuse2): jnr-fuse loads libfuse.so.2";
        }
        if (dev.tfs.posix.Posix.geteuid() != 0) {
          return "tfs-capture must run as root (it mounts with allow_other and keeps file owners);"
              + " run it with sudo";
        }
        return null;
      };

  private static boolean libfuse2Present() {
    for (String dir :
        new String[] {
          "/lib/x86_64-linux-gnu",
          "/usr/lib/x86_64-linux-gnu",
          "/lib/aarch64-linux-gnu",
          "/usr/lib/aarch64-linux-gnu",
          "/lib64",
          "/usr/lib64",
          "/lib",
          "/usr/lib"
        }) {
      if (Files.exists(Path.of(dir, "libfuse.so.2"))) {
        return true;
      }
    }
    return false;
  }

  private final Environment env;
  private final PrintStream out;
  private final PrintStream err;

  @Option(names = "--store", paramLabel = "DIR", description = "The backing store: the real files.")
  Path store;

  @Option(names = "--mount", paramLabel = "DIR", description = "Empty directory to mount on.")
  Path mount;

  @Option(
      names = "--journal",
      paramLabel = "DIR",
      description = "Journal directory, outside the store and the mount (created if missing).")
  Path journal;

  @Option(
      names = "--volume",
      paramLabel = "NAME",
      description = "Volume name ([A-Za-z0-9._-]); the topic is tfs.<volume>.ops.")
  String volume;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT,...",
      description = "Kafka brokers (or bootstrap.servers in --producer-config).")
  String bootstrapServers;

  @Option(names = "--topic", description = "Topic (default: tfs.<volume>.ops).")
  String topic;

  @Option(
      names = "--partitions",
      defaultValue = "8",
      description =
          "Partitions the journal numbers ops for (fixed per journal; the topic is created with"
              + " it). Default: ${DEFAULT-VALUE}.")
  int partitions;

  @Option(
      names = "--producer-config",
      paramLabel = "FILE",
      description = "Kafka producer properties (SASL, TLS, ...), passed through.")
  Path producerConfig;

  @Option(
      names = "--schema-registry-url",
      paramLabel = "URL",
      description = "Confluent-API schema registry: values use Confluent framing.")
  String schemaRegistryUrl;

  @Option(
      names = "--durability",
      defaultValue = "group",
      description = "fsync (per op), group (every --group-commit-ms) or none. Default: group.")
  String durability;

  @Option(names = "--group-commit-ms", defaultValue = "5", description = "Default: 5.")
  int groupCommitMs;

  @Option(
      names = "--spool-max-bytes",
      paramLabel = "SIZE",
      defaultValue = "8G",
      description =
          "Unshipped journal quota (e.g. 512M, 8G); writers block when it is reached. Default:"
              + " ${DEFAULT-VALUE}.")
  String spoolMaxBytes;

  @Option(names = "--segment-bytes", paramLabel = "SIZE", hidden = true)
  String segmentBytes;

  @Option(
      names = "--ship",
      defaultValue = "kafka",
      description =
          "kafka: ship the journal from this process; none: leave it to the source connector."
              + " Default: kafka.")
  String ship;

  @Option(
      names = "--max-record-bytes",
      defaultValue = "" + OpCodec.DEFAULT_MAX_RECORD_BYTES,
      description = "Largest record value (writes are split). Default: ${DEFAULT-VALUE}.")
  int maxRecordBytes;

  @Option(
      names = "--shutdown-timeout",
      defaultValue = "30s",
      description = "How long a stop waits for Kafka to take the journal. Default: 30s.")
  String shutdownTimeout;

  @Option(
      names = "--single-threaded",
      description = "Serve FUSE requests on one thread (libfuse -s).")
  boolean singleThreaded;

  @Option(
      names = "--attr-timeout",
      defaultValue = "0",
      description =
          "Seconds the kernel caches attributes. Default: 0, so every name of a hard-linked file"
              + " shows its new mode, owner, times, size and link count at once and access checks"
              + " use the new mode (each name is its own kernel inode under libfuse2).")
  double attrTimeout;

  @Option(
      names = "--entry-timeout",
      defaultValue = "10",
      description =
          "Seconds the kernel caches lookups and missing names (the daemon is the only writer of"
              + " its store, so names change only through the mount). Default: 10.")
  double entryTimeout;

  public CaptureMain(Environment env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  /** Entry point. */
  public static void main(String[] args) {
    PrintStream out =
        new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream err =
        new PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
    System.exit(run(args, REAL, out, err));
  }

  /** Runs the CLI; returns the exit code. */
  public static int run(String[] args, Environment env, PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(new CaptureMain(env, out, err));
    cl.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    cl.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    cl.setParameterExceptionHandler(
        (ex, a) -> {
          err.println("tfs-capture: " + ex.getMessage());
          err.println("Run 'tfs-capture --help' for the options.");
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, c, p) -> {
          err.println("tfs-capture: " + ex);
          ex.printStackTrace(err);
          return FAILURE;
        });
    return cl.execute(args);
  }

  private int usage(String msg) {
    err.println("tfs-capture: " + msg);
    return USAGE;
  }

  @Override
  public Integer call() throws Exception {
    if (store == null || mount == null || journal == null || volume == null) {
      return usage(
          "--store, --mount, --journal and --volume are required (see tfs-capture --help)");
    }
    if (!Volumes.isValid(volume)) {
      return usage(
          "invalid --volume '" + volume + "': use 1 to 200 characters from A-Z a-z 0-9 . _ -");
    }
    if (partitions < 1 || partitions > JournalOptions.MAX_PARTITIONS) {
      return usage("--partitions must be in [1, " + JournalOptions.MAX_PARTITIONS + "]");
    }
    Durability dur;
    try {
      dur = Durability.valueOf(durability.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return usage("--durability must be fsync, group or none, not '" + durability + "'");
    }
    long spool;
    long segment;
    Duration shutdown;
    try {
      spool = parseSize(spoolMaxBytes);
      segment = segmentBytes == null ? 0 : parseSize(segmentBytes);
      shutdown = parseDuration(shutdownTimeout);
    } catch (IllegalArgumentException e) {
      return usage(e.getMessage());
    }
    if (!ship.equals("kafka") && !ship.equals("none")) {
      return usage("--ship must be kafka or none, not '" + ship + "'");
    }
    String pathProblem = checkPaths();
    if (pathProblem != null) {
      return usage(pathProblem);
    }
    String envProblem = env.fuseProblem();
    if (envProblem == null && !Names.byteCharset()) {
      envProblem =
          "the JVM default charset is "
              + java.nio.charset.Charset.defaultCharset()
              + "; start it with -Dfile.encoding=ISO-8859-1 so non-UTF-8 file names pass"
              + " unchanged (bin/tfs-capture does)";
    }
    if (envProblem != null) {
      err.println("tfs-capture: " + envProblem);
      return ENVIRONMENT;
    }
    Properties producer = new Properties();
    if (ship.equals("kafka")) {
      if (producerConfig != null) {
        try (InputStream in = Files.newInputStream(producerConfig)) {
          producer.load(in);
        } catch (IOException e) {
          err.println("tfs-capture: cannot read --producer-config " + producerConfig + ": " + e);
          return KAFKA_CONFIG;
        }
      }
      if (bootstrapServers != null) {
        producer.put("bootstrap.servers", bootstrapServers);
      }
      if (producer.getProperty("bootstrap.servers", "").isBlank()) {
        err.println(
            "tfs-capture: --ship=kafka needs --bootstrap-servers (or bootstrap.servers in"
                + " --producer-config); use --ship=none to leave shipping to the source"
                + " connector");
        return KAFKA_CONFIG;
      }
    }
    String t = topic != null ? topic : Volumes.defaultTopic(volume);
    CaptureDaemon.Config cfg =
        new CaptureDaemon.Config(
            store.toAbsolutePath().normalize(),
            mount.toAbsolutePath().normalize(),
            journal.toAbsolutePath().normalize(),
            volume,
            partitions,
            dur,
            groupCommitMs,
            spool,
            segment,
            maxRecordBytes,
            ship.equals("kafka"),
            t,
            producer,
            schemaRegistryUrl,
            shutdown,
            new FuseMount.Options(
                singleThreaded, true, attrTimeout, entryTimeout, entryTimeout, true, false));
    CaptureDaemon d = new CaptureDaemon(cfg, out);
    try {
      d.start();
    } catch (CaptureDaemon.StartException e) {
      err.println("tfs-capture: " + e.getMessage());
      return e.exitCode;
    }
    Thread hook =
        new Thread(
            () -> {
              d.stop();
              out.flush();
              err.flush();
              // A stop by signal that finished cleanly exits 0, not 128+signal.
              Runtime.getRuntime().halt(OK);
            },
            "tfs-capture-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    d.awaitStop();
    return OK;
  }

  /** Checks store, mount and journal against each other; returns a message or null. */
  String checkPaths() throws IOException {
    if (!Files.isDirectory(store)) {
      return "--store " + store + " is not a directory";
    }
    // Before anything stats the mount point: on a dead mount every stat fails (ENOTCONN).
    String mountProblem = reclaimMountPoint();
    if (mountProblem != null) {
      return mountProblem;
    }
    if (!Files.isDirectory(mount)) {
      return "--mount " + mount + " is not a directory (create an empty one)";
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(mount)) {
      if (ds.iterator().hasNext()) {
        return "--mount "
            + mount
            + " is not empty: the mount would hide its files; use an empty"
            + " directory";
      }
    }
    Path s = store.toRealPath();
    Path m = mount.toRealPath();
    if (s.startsWith(m)) {
      return "--store " + s + " lies inside --mount " + m + ": the mount would serve itself";
    }
    if (m.startsWith(s)) {
      return "--mount " + m + " lies inside --store " + s + ": the store would contain its mount";
    }
    Path j = journal.toAbsolutePath().normalize();
    Path existing = j;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing != null) {
      Path jr = existing.toRealPath().resolve(existing.relativize(j));
      if (jr.startsWith(m)) {
        return "--journal " + j + " lies inside --mount: the journal would capture itself";
      }
      if (jr.startsWith(s)) {
        return "--journal " + j + " lies inside --store: it would be part of the mirrored tree";
      }
    }
    return null;
  }

  /**
   * Refuses a {@code --mount} that is a mount point, except a stale tfs mount: one that tfs-capture
   * made ({@link FuseMount.Mount#isTfs}) and whose daemon is gone ({@link FuseMount#isDead}), as a
   * SIGKILL leaves when auto_unmount's helper did not remove it. That one is unmounted, and the log
   * says so. A mount that answers, tfs's or not, and a dead mount of anything else are refused.
   * Returns a message, or null when the directory is (now) no mount point.
   */
  String reclaimMountPoint() throws IOException {
    Path mp = mount.toAbsolutePath().normalize();
    Path parent = mp.getParent();
    if (parent != null && Files.isDirectory(parent)) {
      // mountinfo lists real paths; only the parent can be resolved (the mount point may be dead).
      mp = parent.toRealPath().resolve(mp.getFileName());
    }
    FuseMount.Mount m = FuseMount.mountAt(mp);
    if (m == null) {
      return null;
    }
    String listed = m.fsType() + " " + m.source();
    if (!FuseMount.isDead(mp)) {
      return "--mount "
          + mount
          + " is already a mount point ("
          + listed
          + "); unmount it first or choose another directory";
    }
    if (!m.isTfs()) {
      return "--mount "
          + mount
          + " is a dead mount of another file system ("
          + listed
          + "; Transport endpoint is not connected): tfs-capture removes only stale mounts of its"
          + " own; unmount it (fusermount -u "
          + mp
          + ") or choose another directory";
    }
    err.println(
        "tfs-capture: "
            + mp
            + " is a stale mount of "
            + m.source()
            + " (Transport endpoint is not connected): its tfs-capture was killed and the mount"
            + " was not removed; unmounting it");
    if (!FuseMount.removeDead(mp, Duration.ofSeconds(5))) {
      return "--mount "
          + mount
          + " is a stale tfs mount that could not be unmounted: run fusermount -u -z "
          + mp;
    }
    err.println("tfs-capture: removed the stale mount on " + mp);
    return null;
  }

  /** "512M", "8G", "1048576" as bytes. */
  static long parseSize(String s) {
    String v = s.trim().toUpperCase(Locale.ROOT);
    long mult = 1;
    if (v.endsWith("B")) {
      v = v.substring(0, v.length() - 1);
    }
    if (!v.isEmpty()) {
      char c = v.charAt(v.length() - 1);
      int shift = "KMGT".indexOf(c);
      if (shift >= 0) {
        mult = 1L << (10 * (shift + 1));
        v = v.substring(0, v.length() - 1);
      }
    }
    try {
      long n = Long.parseLong(v);
      if (n <= 0) {
        throw new NumberFormatException();
      }
      return Math.multiplyExact(n, mult);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "invalid size '" + s + "': use a positive number with an optional K, M, G or T suffix");
    }
  }

  /** "30s", "500ms", "2m" as a Duration. */
  static Duration parseDuration(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      }
      if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      }
      return Duration.ofSeconds(Long.parseLong(v));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid duration '" + s + "': use e.g. 30s, 500ms, 2m");
    }
  }

  /** {@code tfs-capture journal dump DIR [--json]}. */
  @Command(
      name = "journal",
      mixinStandardHelpOptions = true,
      description = "Journal tools.",
      subcommands = {DumpCommand.class})
  static final class JournalCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().usage(spec.commandLine().getErr());
      return USAGE;
    }
  }

  /** Prints journal entries (seq, op, path, sizes) for humans and scripts. */
  @Command(
      name = "dump",
      mixinStandardHelpOptions = true,
      description = "Prints every entry of a journal: seq, partition, op, path, sizes.")
  static final class DumpCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "The journal directory.")
    Path dir;

    @Option(names = "--json", description = "One JSON object per line.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintStream o =
          new PrintStream(
              new java.io.FileOutputStream(java.io.FileDescriptor.out),
              true,
              StandardCharsets.UTF_8);
      return JournalDump.dump(dir, o, json);
    }
  }
}
