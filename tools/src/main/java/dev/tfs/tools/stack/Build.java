package dev.tfs.tools.stack;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The build outputs the local stack runs: the capture launcher jar and the packaged Connect plugin
 * directories. A missing one is a clear "build first" error, not a ClassNotFoundException in a
 * child process log.
 */
public record Build(Path captureJar, List<Path> pluginDirs) {

  /** Comma-separated plugin.path value. */
  public String pluginPath() {
    return String.join(",", pluginDirs.stream().map(Path::toString).toList());
  }

  /** Finds the build outputs under the repository root. */
  public static Build check(Path repo, boolean needSource) {
    Path jar = findCaptureJar(repo.resolve("capture-fs/target"));
    List<Path> plugins = new ArrayList<>();
    plugins.add(pluginDir(repo.resolve("sink-connector/target/plugin"), "sink"));
    if (needSource || Files.isDirectory(repo.resolve("source-connector/target/plugin"))) {
      plugins.add(pluginDir(repo.resolve("source-connector/target/plugin"), "source"));
    }
    return new Build(jar, plugins);
  }

  private static Path findCaptureJar(Path target) {
    Path preferred = target.resolve("tfs-capture.jar");
    if (Files.isRegularFile(preferred)) {
      return preferred;
    }
    if (Files.isDirectory(target)) {
      try (Stream<Path> s = Files.list(target)) {
        List<Path> shaded =
            s.filter(p -> p.getFileName().toString().matches("tfs-capture.*(shaded|all)\\.jar"))
                .toList();
        if (!shaded.isEmpty()) {
          return shaded.get(0);
        }
      } catch (IOException e) {
        // reported below
      }
    }
    throw new StackException(
        StackException.BUILD,
        "the tfs-capture launcher jar is missing under "
            + target
            + ": build first (./tfs builds when needed; by hand: mvn -B -DskipTests install)");
  }

  private static Path pluginDir(Path dir, String which) {
    if (!Files.isDirectory(dir)) {
      throw new StackException(
          StackException.BUILD,
          "the packaged "
              + which
              + " connector plugin is missing at "
              + dir
              + ": build first (mvn -B -DskipTests install)");
    }
    return dir;
  }

  /**
   * The classpath for the broker and Connect worker processes: the tools module's runtime classpath
   * (written by its build to {@code tools/target/runtime-classpath.txt}), or this JVM's classpath,
   * without tfs's own jars — Connect must load those from plugin.path only, as users deploy them.
   */
  public static String childClasspath(Path repo) {
    Path file = repo.resolve("tools/target/runtime-classpath.txt");
    String cp;
    try {
      cp = Files.isRegularFile(file) ? Files.readString(file).strip() : null;
    } catch (IOException e) {
      cp = null;
    }
    if (cp == null || cp.isEmpty()) {
      cp = System.getProperty("java.class.path");
    }
    List<String> out = new ArrayList<>();
    for (String e : cp.split(File.pathSeparator, -1)) {
      if (e.isEmpty()) {
        continue;
      }
      String n = Path.of(e).getFileName().toString();
      if (n.startsWith("tfs-") || e.contains("/dev/tfs/") || e.endsWith("/classes")) {
        continue;
      }
      out.add(e);
    }
    return String.join(File.pathSeparator, out);
  }
}
