package dev.tfs.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A file system the capture-path workloads run on: the raw backing dir, bindfs, the bare jnr-fuse
 * passthrough, or tfs-capture (journal only, or shipping to Kafka), each mounted fresh over an
 * empty store for every repetition.
 */
final class Subject {
  enum Kind {
    RAW,
    BINDFS,
    PASSTHROUGH,
    CAPTURE
  }

  /** Where the tfs-capture journal lives. */
  enum JournalOn {
    TMPFS,
    DISK
  }

  final String name;
  final String description;
  final Kind kind;
  final boolean ship;
  final JournalOn journalOn;
  final List<String> extraArgs;

  /** The tfs-capture jar to run (null: the build's), e.g. a baseline build for before/after. */
  final Path jar;

  Subject(
      String name,
      String description,
      Kind kind,
      boolean ship,
      JournalOn journalOn,
      List<String> extraArgs) {
    this(name, description, kind, ship, journalOn, extraArgs, null);
  }

  private Subject(
      String name,
      String description,
      Kind kind,
      boolean ship,
      JournalOn journalOn,
      List<String> extraArgs,
      Path jar) {
    this.jar = jar;
    this.name = name;
    this.description = description;
    this.kind = kind;
    this.ship = ship;
    this.journalOn = journalOn;
    this.extraArgs = List.copyOf(extraArgs);
  }

  static Subject raw() {
    return new Subject(
        "raw",
        "the backing directory itself (ext4-like disk fs, no FUSE)",
        Kind.RAW,
        false,
        null,
        List.of());
  }

  static Subject bindfs() {
    return new Subject(
        "bindfs",
        "bindfs (C, libfuse, multithreaded, its default options)",
        Kind.BINDFS,
        false,
        null,
        List.of());
  }

  static Subject passthrough(String name, List<String> args) {
    return new Subject(
        name,
        "capture-fs PassthroughFs alone, tfs-capture's mount options and JVM flags"
            + (args.isEmpty() ? "" : " + " + String.join(" ", args)),
        Kind.PASSTHROUGH,
        false,
        null,
        args);
  }

  static Subject capture(String name, boolean ship, JournalOn on, List<String> args) {
    return new Subject(
        name,
        "tfs-capture --ship="
            + (ship ? "kafka" : "none")
            + ", journal on "
            + (on == JournalOn.TMPFS ? "tmpfs (/dev/shm)" : "the store's disk")
            + (args.isEmpty() ? "" : ", " + String.join(" ", args)),
        Kind.CAPTURE,
        ship,
        on,
        args);
  }

  /** The same subject running another tfs-capture (or passthrough) jar, named {@code name}. */
  Subject withJar(String newName, Path otherJar) {
    return new Subject(
        newName,
        description + " (jar " + otherJar.getFileName() + ")",
        kind,
        ship,
        journalOn,
        extraArgs,
        otherJar);
  }

  boolean isJvm() {
    return kind == Kind.PASSTHROUGH || kind == Kind.CAPTURE;
  }

  /** A mounted subject. */
  final class Mounted implements AutoCloseable {
    final Path dir;
    final Procs.Proc proc;
    final Path mnt;
    final String volume;
    private Jmx jmx;

    Mounted(Path dir, Procs.Proc proc, Path mnt, String volume) {
      this.dir = dir;
      this.proc = proc;
      this.mnt = mnt;
      this.volume = volume;
    }

    Subject subject() {
      return Subject.this;
    }

    /** The capture daemon's metrics connection (capture subjects only). */
    Jmx jmx() {
      if (jmx == null && kind == Kind.CAPTURE) {
        jmx = Jmx.attach(proc.pid());
      }
      return jmx;
    }

    /**
     * For a shipping capture: waits until Kafka acknowledged the whole journal, so the next
     * workload does not compete with the backlog of the previous one. Returns the seconds waited.
     */
    double drainShipper(Duration timeout) {
      if (!ship) {
        return 0;
      }
      long t0 = System.nanoTime();
      Procs.await(
          name + " to ship its journal",
          timeout,
          () -> jmx().longAttribute("dev.tfs:type=capture,*", "UnshippedOps") == 0);
      return (System.nanoTime() - t0) / 1e9;
    }

    long peakRss() {
      return proc == null ? -1 : JvmSampler.procStatusKb(proc.pid(), "VmHWM") * 1024;
    }

    @Override
    public void close() {
      if (jmx != null) {
        jmx.close();
        jmx = null;
      }
      if (proc == null) {
        return;
      }
      proc.stop(Duration.ofSeconds(60));
      Mounts.awaitUnmounted(mnt, Duration.ofSeconds(10));
      Procs.unregisterMount(mnt);
    }
  }

  /**
   * Mounts this subject over {@code store} (an empty directory) at {@code mnt}; {@code journal} is
   * used by capture subjects.
   */
  Mounted mount(Env env, Path store, Path mnt, Path journal, String volume) throws IOException {
    Files.createDirectories(store);
    if (kind == Kind.RAW) {
      return new Mounted(store, null, null, null);
    }
    Files.createDirectories(mnt);
    List<String> cmd = new ArrayList<>();
    switch (kind) {
      case BINDFS -> cmd.addAll(List.of("bindfs", "-f", store.toString(), mnt.toString()));
      case PASSTHROUGH -> {
        cmd.addAll(Env.daemonJvm());
        cmd.addAll(
            List.of(
                "-cp",
                (jar != null ? jar : env.captureJar) + java.io.File.pathSeparator + env.benchCode,
                PassthroughMain.class.getName(),
                store.toString(),
                mnt.toString()));
        cmd.addAll(extraArgs);
      }
      case CAPTURE -> {
        Files.createDirectories(journal.getParent());
        cmd.addAll(Env.daemonJvm());
        cmd.addAll(
            List.of(
                "-jar",
                (jar != null ? jar : env.captureJar).toString(),
                "--store",
                store.toString(),
                "--mount",
                mnt.toString(),
                "--journal",
                journal.toString(),
                "--volume",
                volume,
                "--ship",
                ship ? "kafka" : "none"));
        if (ship) {
          cmd.addAll(List.of("--bootstrap-servers", env.stack.bootstrap()));
        }
        cmd.addAll(extraArgs);
      }
      default -> throw new IllegalStateException();
    }
    Procs.Proc p = Procs.start(name, cmd, env.work.resolve("logs/" + name + ".log"), Map.of());
    Procs.registerMount(mnt);
    try {
      Mounts.awaitMounted(mnt, p, Duration.ofSeconds(60));
    } catch (RuntimeException e) {
      p.stop(Duration.ofSeconds(10));
      Mounts.awaitUnmounted(mnt, Duration.ofSeconds(5));
      throw e;
    }
    return new Mounted(mnt, p, mnt, volume);
  }
}
