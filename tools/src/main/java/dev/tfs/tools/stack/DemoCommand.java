package dev.tfs.tools.stack;

import dev.tfs.tools.verify.TreeVerifier;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfs demo}: the whole pipeline on the local stack, live, until Ctrl-C. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the main job on the embedded local stack: starts a KRaft broker and a distributed"
          + " Connect worker, mounts tfs-capture at <home>/mnt, deploys two mirrors"
          + " (<home>/mirror-a, <home>/mirror-b) through the Connect REST API, writes a small"
          + " sample tree, and shows both mirrors following live writes.",
      "Ctrl-C stops everything and unmounts."
    })
public final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StackOptions stack;

  @Option(
      names = "--ship",
      description =
          "kafka (tfs-capture ships) or connect (TreeSourceConnector ships); default"
              + " ${DEFAULT-VALUE}.")
  String ship = "kafka";

  @Option(
      names = "--seconds",
      description = "Stop by itself after this many seconds (0: run until Ctrl-C).")
  int seconds;

  @Override
  public Integer call() throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    Layout layout = stack.layout();
    LocalStack.Settings settings = stack.settings(2, UpCommand.parseShip(spec, ship), "demo", 4);
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable stop =
        () -> {
          out.println();
          out.println("tfs demo: stopping (capture flushes and ships first) ...");
          LocalStack.down(layout, out);
          stopped.countDown();
        };
    Thread hook = new Thread(stop);
    Runtime.getRuntime().addShutdownHook(hook);
    StackState st = new LocalStack(settings, out).up();
    Path mnt = Path.of(st.mount);
    out.println();
    out.println("tfs demo: writing a sample tree into " + mnt);
    writeSampleTree(mnt);
    out.println(
        "tfs demo: mirrors "
            + String.join(" and ", st.mirrors)
            + " follow every change; write into "
            + mnt
            + " yourself too. Ctrl-C stops.");
    long end = seconds > 0 ? System.nanoTime() + seconds * 1_000_000_000L : Long.MAX_VALUE;
    int tick = 0;
    LiveLine line = new LiveLine(isTerminal());
    while (System.nanoTime() < end) {
      if (tick % 4 == 0) {
        liveWrite(mnt, tick / 4);
      }
      out.print(line.render(statusLine(st)));
      out.flush();
      Thread.sleep(500); // the demo's refresh period, not a wait for a condition
      tick++;
    }
    out.println();
    Runtime.getRuntime().removeShutdownHook(hook);
    stop.run();
    stopped.await();
    return 0;
  }

  /** A small tree with the kinds of files tfs replicates. */
  static void writeSampleTree(Path mnt) throws IOException {
    Path docs = Files.createDirectories(mnt.resolve("docs/notes"));
    Files.writeString(docs.resolve("readme.txt"), "tfs mirrors this tree through Kafka.\n");
    Files.writeString(docs.resolve("todo.md"), "- watch the mirrors follow\n");
    Path bin = Files.createDirectories(mnt.resolve("bin"));
    Path tool = bin.resolve("hello.sh");
    Files.writeString(tool, "#!/bin/sh\necho hello from a mirror\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(mnt.resolve("latest"), Path.of("docs/notes/readme.txt"));
    Files.createLink(mnt.resolve("docs/readme-hardlink.txt"), docs.resolve("readme.txt"));
    byte[] blob = new byte[3 << 20];
    new java.util.Random(42).nextBytes(blob);
    Files.write(mnt.resolve("blob.bin"), blob);
    Files.move(docs.resolve("todo.md"), docs.resolve("done.md"));
  }

  private static void liveWrite(Path mnt, int n) throws IOException {
    Files.writeString(
        mnt.resolve("live.log"),
        LocalTime.now(ZoneId.systemDefault()).format(DateTimeFormatter.ISO_LOCAL_TIME)
            + " line "
            + n
            + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  private static String statusLine(StackState st) {
    List<String> parts = new ArrayList<>();
    for (String m : st.mirrors) {
      String name = Path.of(m).getFileName().toString();
      var status = StatusCommand.mirrorStatus(Path.of(st.sinkState), name);
      String applied = status == null ? "-" : status.path("appliedSeq").asText();
      try {
        TreeVerifier.Result r =
            new TreeVerifier(TreeVerifier.Options.all().withRootAttributes(false), 1)
                .run(Path.of(st.mount), Path.of(m));
        parts.add(
            name
                + ": seq "
                + applied
                + (r.identical()
                    ? ", in sync (" + r.entries() + " entries)"
                    : ", catching up (" + r.differenceCount() + " differences)"));
      } catch (Exception e) {
        parts.add(name + ": seq " + applied);
      }
    }
    return LocalTime.now(ZoneId.systemDefault()).format(DateTimeFormatter.ofPattern("HH:mm:ss"))
        + "  "
        + String.join("  |  ", parts);
  }

  /** True when standard output is a terminal (where the live line may use escape codes). */
  @SuppressWarnings("SystemConsoleNull") // Java 17: System.console() is null exactly when not a tty
  private static boolean isTerminal() {
    return System.console() != null;
  }
}
