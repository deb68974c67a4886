package dev.tfs.tools.stack;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The stack's {@code tfs-capture} daemon as a child process: the store {@code <home>/store} served
 * through FUSE at {@code <home>/mnt}, journal in {@code <home>/journal}, shipping to the broker
 * itself or leaving that to the source connector.
 */
public final class CaptureProcess {
  /** The component name: process, log file and state entry. */
  public static final String NAME = "capture";

  private static final Duration READY = Duration.ofMinutes(3);

  private final Layout layout;
  private final Build build;
  private final PrintStream progress;

  public CaptureProcess(Layout layout, Build build, PrintStream progress) {
    this.layout = layout;
    this.build = build;
    this.progress = progress;
  }

  /**
   * Starts tfs-capture; {@link #awaitReady} waits for the mount.
   *
   * @param ship {@code KAFKA}: its built-in shipper sends the journal to the broker; {@code
   *     CONNECT}: {@code --ship=none}, the source connector ships it
   * @param extraArgs further tfs-capture arguments (e.g. {@code --spool-max-bytes})
   */
  public ChildProcess launch(
      String volume,
      int partitions,
      String topic,
      String bootstrap,
      LocalStack.Ship ship,
      List<String> extraArgs) {
    progress.println(
        "tfs: mounting tfs-capture at "
            + layout.mount()
            + " (store "
            + layout.store()
            + ", ship "
            + ship.name().toLowerCase(Locale.ROOT)
            + ")");
    List<String> run = new ArrayList<>();
    run.addAll(
        List.of(
            "-Xms128m",
            "-Xmx512m",
            "-Dfile.encoding=ISO-8859-1",
            "-jar",
            build.captureJar().toString()));
    run.addAll(
        List.of(
            "--store",
            layout.store().toString(),
            "--mount",
            layout.mount().toString(),
            "--journal",
            layout.journal().toString(),
            "--volume",
            volume,
            "--partitions",
            Integer.toString(partitions),
            "--topic",
            topic,
            "--bootstrap-servers",
            bootstrap,
            "--ship",
            ship == LocalStack.Ship.KAFKA ? "kafka" : "none"));
    run.addAll(extraArgs);
    return ChildProcess.startJava(layout, NAME, run, Map.of());
  }

  /** Waits until the FUSE mount serves; fails fast when the daemon exited. */
  public void awaitReady(ChildProcess capture) {
    Waits.waitFor(
        "tfs-capture to mount " + layout.mount(),
        READY,
        () -> {
          Waits.requireAlive(capture, layout);
          return Prerequisites.isFuseMount(layout.mount());
        },
        layout.log(NAME));
  }
}
