package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.fs.FuseMount;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the daemon process during a write loop: after a restart the journal replays to exactly
 * the store, and every write whose call returned success is in it (G1).
 */
class CrashRecoveryTest {
  @TempDir Path tmp;

  @Test
  void killDuringWritesThenRestartKeepsJournalAndStoreEqual() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Path journal = tmp.resolve("journal");
    List<String> args =
        List.of(
            "--store",
            store.toString(),
            "--mount",
            mnt.toString(),
            "--journal",
            journal.toString(),
            "--volume",
            "crash",
            "--ship=none",
            "--durability=none");
    List<Integer> acked = new ArrayList<>();
    try (DaemonProcess d = new DaemonProcess(args, mnt)) {
      d.awaitReady();
      // Each line is printed only after its write (and a rename, a truncate) returned success.
      Process w =
          new ProcessBuilder(
                  "bash",
                  "-c",
                  "i=0; while true; do i=$((i+1)); printf 'line %06d\\n' $i >> log || exit 1;"
                      + " echo $i > tmp.$i && mv tmp.$i last || exit 1;"
                      + " truncate -s $((i % 7 * 100)) scratch || exit 1; echo $i; done")
              .directory(mnt.toFile())
              .redirectErrorStream(true)
              .start();
      BufferedReader r =
          new BufferedReader(new InputStreamReader(w.getInputStream(), StandardCharsets.UTF_8));
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        try {
          acked.add(Integer.parseInt(line.trim()));
        } catch (NumberFormatException e) {
          break; // an error message once the mount is gone
        }
        if (acked.size() == 300) {
          d.kill9();
        }
      }
      w.waitFor(30, TimeUnit.SECONDS);
      assertThat(FuseMount.isMounted(mnt)).as("auto_unmount removed the dead mount").isFalse();
    }
    assertThat(acked).hasSizeGreaterThanOrEqualTo(300);
    // Restart: unresolved intents are reconciled before the mount serves.
    try (DaemonProcess d = new DaemonProcess(args, mnt)) {
      String ready = d.awaitReady();
      assertThat(ready).contains("volume crash");
      Files.writeString(mnt.resolve("after-restart"), "ok");
      assertThat(d.terminate()).isZero();
      // (The "stopped" line is not asserted: its output races the exit; see the report.)
    }
    assertThat(FuseMount.isMounted(mnt)).isFalse();
    Path replay = Files.createDirectory(tmp.resolve("replay"));
    Journals.replay(Journals.read(journal), replay);
    Trees.assertIdentical(store, replay);
    String log = Files.readString(replay.resolve("log"));
    for (int i : acked) {
      assertThat(log).contains(String.format("line %06d%n", i));
    }
    assertThat(Files.readString(replay.resolve("after-restart"))).isEqualTo("ok");
  }
}
