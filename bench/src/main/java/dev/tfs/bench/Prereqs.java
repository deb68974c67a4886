package dev.tfs.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** What the groups need on the machine; the ./tfs launcher installs missing packages. */
final class Prereqs {
  private Prereqs() {}

  static void check(Set<String> groups) {
    List<String> problems = new ArrayList<>();
    if (dev.tfs.posix.Posix.geteuid() != 0) {
      problems.add("run as root (FUSE mounts with allow_other, chown in mirrors)");
    }
    if (!Files.exists(Path.of("/dev/fuse"))) {
      problems.add("/dev/fuse is missing");
    }
    List<String> cmds = new ArrayList<>(List.of("tar", "rsync", "fusermount"));
    if (groups.contains("capture")) {
      cmds.add("bindfs");
    }
    if (groups.contains("lag")) {
      cmds.add("lsyncd");
    }
    for (String c : cmds) {
      if (!onPath(c)) {
        problems.add(c + " is not installed (./tfs bench installs bindfs, lsyncd and rsync)");
      }
    }
    if (!problems.isEmpty()) {
      throw new BenchException(String.join("; ", problems));
    }
  }

  static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":", -1)) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }
}
