package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.cli.CaptureMain;
import dev.tfs.capture.fs.FuseMount;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dead mount left by a killed tfs-capture is removed at the next start (issue 12 item 5); a mount
 * that answers is refused as before.
 */
class StaleMountTest {
  @TempDir Path tmp;

  List<String> args(Path store, Path mnt, Path journal) {
    return List.of(
        "--store",
        store.toString(),
        "--mount",
        mnt.toString(),
        "--journal",
        journal.toString(),
        "--volume",
        "stale",
        "--ship=none",
        "--durability=none");
  }

  @Test
  void aDeadMountOfAKilledDaemonIsRemovedAtTheNextStart() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    Path journal = tmp.resolve("journal");
    try (DaemonProcess first = new DaemonProcess(args(store, mnt, journal), mnt)) {
      first.awaitReady();
      Files.writeString(mnt.resolve("before"), "1");
      first.kill9LeavingDeadMount();
      assertThat(FuseMount.mountType(mnt)).as("the mount stays listed").isEqualTo("fuse.tfs");
      assertThat(FuseMount.isDead(mnt)).as("stat gives ENOTCONN").isTrue();
      try (DaemonProcess second = new DaemonProcess(args(store, mnt, journal), mnt)) {
        second.awaitReady();
        assertThat(second.output.toString())
            .contains("is a stale mount of tfs:stale", "removed the stale mount on " + mnt);
        assertThat(FuseMount.isDead(mnt)).isFalse();
        assertThat(Files.readString(mnt.resolve("before"))).isEqualTo("1");
        Files.writeString(mnt.resolve("after"), "2");
        assertThat(Files.readString(store.resolve("after"))).isEqualTo("2");
        assertThat(second.terminate()).isZero();
      }
    }
    assertThat(FuseMount.isMounted(mnt)).isFalse();
  }

  @Test
  void aLiveMountIsRefusedAndLeftAlone() throws Exception {
    Path store = Files.createDirectory(tmp.resolve("store"));
    Path mnt = Files.createDirectory(tmp.resolve("mnt"));
    try (DaemonProcess live = new DaemonProcess(args(store, mnt, tmp.resolve("journal")), mnt)) {
      live.awaitReady();
      Path otherStore = Files.createDirectory(tmp.resolve("store2"));
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code =
          CaptureMain.run(
              args(otherStore, mnt, tmp.resolve("journal2")).toArray(new String[0]),
              () -> null,
              new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(code).isEqualTo(CaptureMain.USAGE);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("is already a mount point (fuse.tfs tfs:stale)")
          .doesNotContain("stale mount of");
      // Still mounted and serving.
      Files.writeString(mnt.resolve("f"), "x");
      assertThat(Files.readString(store.resolve("f"))).isEqualTo("x");
      assertThat(live.terminate()).isZero();
    }
    assertThat(FuseMount.isMounted(mnt)).isFalse();
  }
}
