package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.fs.FuseMount;
import dev.tfs.capture.fs.PassthroughFs;
import dev.tfs.posix.Posix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bare passthrough: every op with ordinary tools gives the store a plain directory would. */
class PassthroughFsTest {
  @TempDir Path tmp;
  Path store;
  Path mnt;
  int rootFd = -1;
  FuseMount mount;

  @BeforeEach
  void mount() throws Exception {
    store = Files.createDirectory(tmp.resolve("store"));
    mnt = Files.createDirectory(tmp.resolve("mnt"));
    rootFd = Posix.openDirectory(store);
    mount =
        FuseMount.mount(
            new PassthroughFs(rootFd),
            mnt,
            "tfs-test",
            FuseMount.Options.defaults(),
            Duration.ofSeconds(10));
  }

  @AfterEach
  void unmount() {
    if (mount != null) {
      mount.close();
    }
    FuseMount.unmount(mnt, true, Duration.ofSeconds(5));
    Posix.closeQuietly(rootFd);
  }

  @Test
  void workloadGivesTheSameTreeAsAPlainDirectory() throws Exception {
    Path plain = Files.createDirectory(tmp.resolve("plain"));
    long start = System.currentTimeMillis() * 1_000_000L - 60_000_000_000L;
    Shell.workload(plain);
    Shell.workload(mnt);
    // (Every entry of the plain tree is compared: one missing on either side is a difference.)
    assertThat(Trees.assertSameWorkload(plain, store, start, "repo/.git").entries())
        .isGreaterThan(40);
    // The mount shows the store.
    Trees.assertSameWorkload(store, mnt, start, "repo/.git");
  }

  @Test
  void hardLinksShareAnInodeAndSingleTimesAreSet() throws Exception {
    String out =
        Shell.run(
            mnt,
            "echo x > a && ln a b && stat -c %i a b"
                + " && touch -m -d @1100000000 a && touch -a -d @1200000000 a"
                + " && stat -c '%X %Y' a");
    String[] lines = out.trim().split("\n");
    assertThat(lines[0]).isEqualTo(lines[1]);
    assertThat(lines[2]).isEqualTo("1200000000 1100000000");
  }
}
