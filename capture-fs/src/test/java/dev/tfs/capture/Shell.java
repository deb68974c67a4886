package dev.tfs.capture;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs shell commands for tests, failing with their output. */
public final class Shell {
  private Shell() {}

  /** Runs {@code bash -c script} in {@code dir}; returns stdout+stderr; throws on non-zero exit. */
  public static String run(Path dir, String script) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(List.of("bash", "-c", script))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + script);
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("exit " + p.exitValue() + " from: " + script + "\n" + s);
    }
    return s;
  }

  /** Runs the bundled workload.sh in {@code dir}. */
  public static String workload(Path dir) throws IOException, InterruptedException {
    Path script = Path.of("src/test/resources/workload.sh").toAbsolutePath();
    return run(dir, "bash " + script);
  }
}
