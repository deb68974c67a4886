package dev.tfs.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.tools.stack.StackOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The front door from a script, as a user runs it: {@code ./tfs up} + a workload + {@code ./tfs
 * verify} + {@code ./tfs status} + {@code ./tfs down}, leaving no process and no mount behind.
 */
class ScriptIT {
  @TempDir Path tmp;

  @Test
  void upWorkloadVerifyStatusDownFromAScript() throws Exception {
    int[] ports = StackFixture.freePorts(3);
    Path home = tmp.resolve("home");
    Path script = tmp.resolve("script.sh");
    Files.writeString(
        script,
        String.join(
            "\n",
            "set -euo pipefail",
            "cd \"$TFS_REPO\"",
            "PORTS=\"--home "
                + home
                + " --kafka-port "
                + ports[0]
                + " --controller-port "
                + ports[1]
                + " --connect-port "
                + ports[2]
                + "\"",
            "eval \"$(./tfs up $PORTS --mirrors 2)\"",
            "trap './tfs down $PORTS' EXIT",
            "cp -a schemas/src \"$TFS_MOUNT/schemas-src\"",
            "mkdir \"$TFS_MOUNT/d\" && echo hello > \"$TFS_MOUNT/d/f\" && ln -s d/f \"$TFS_MOUNT/l\"",
            "for m in $TFS_MIRRORS; do",
            "  for i in $(seq 1 600); do",
            "    if ./tfs verify \"$TFS_STORE\" \"$m\" >/dev/null; then break; fi",
            "    sleep 0.2",
            "  done",
            "  ./tfs verify \"$TFS_STORE\" \"$m\"",
            "done",
            "./tfs status $PORTS",
            "./tfs status $PORTS --json > \"" + tmp.resolve("status.json") + "\"",
            "echo SCRIPT-OK",
            ""));
    Path repo = StackOptions.repo();
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
    pb.environment().put("TFS_REPO", repo.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    assertThat(rc).as(out).isZero();
    assertThat(out).contains("identical:").contains("SCRIPT-OK").contains("mirror-a");
    String status = Files.readString(tmp.resolve("status.json"));
    assertThat(status).contains("\"healthy\" : true");

    // Nothing left behind.
    assertThat(Files.readString(Path.of("/proc/self/mounts"))).doesNotContain(home.toString());
    assertThat(
            ProcessHandle.allProcesses()
                .filter(
                    h ->
                        h.info()
                            .arguments()
                            .map(a -> String.join(" ", a).contains("-Dtfs.stack=" + home))
                            .orElse(false))
                .count())
        .isZero();
    assertThat(home.resolve("stack.json")).doesNotExist();
  }
}
