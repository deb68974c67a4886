package dev.tfs.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.capture.cli.CaptureMain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's refusals: clear messages and distinct exit codes, before anything is mounted. */
class CaptureMainTest {
  @TempDir Path tmp;
  Path store;
  Path mnt;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();
  static final CaptureMain.Environment OK_ENV = () -> null;

  @BeforeEach
  void dirs() throws Exception {
    store = Files.createDirectory(tmp.resolve("store"));
    mnt = Files.createDirectory(tmp.resolve("mnt"));
  }

  int run(CaptureMain.Environment env, String... args) {
    return CaptureMain.run(
        args,
        env,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  String[] args(String... extra) {
    String[] base = {
      "--store",
      store.toString(),
      "--mount",
      mnt.toString(),
      "--journal",
      tmp.resolve("journal").toString(),
      "--volume",
      "v",
      "--ship=none"
    };
    String[] all = new String[base.length + extra.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  @Test
  void helpListsOptionsAndExitCodes() {
    assertThat(run(OK_ENV, "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--store", "--bootstrap-servers", "--spool-max-bytes", "Exit codes", "journal");
  }

  @Test
  void unknownFlagIsAUsageError() {
    assertThat(run(OK_ENV, "--no-such-flag")).isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("Unknown option", "--help");
  }

  @Test
  void missingRequiredFlags() {
    assertThat(run(OK_ENV, "--store", store.toString())).isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("--mount", "required");
  }

  @Test
  void badValues() {
    assertThat(run(OK_ENV, args("--durability=sometimes"))).isEqualTo(CaptureMain.USAGE);
    assertThat(run(OK_ENV, args("--spool-max-bytes=lots"))).isEqualTo(CaptureMain.USAGE);
    assertThat(run(OK_ENV, args("--ship=carrier-pigeon"))).isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("--durability", "invalid size", "--ship");
  }

  @Test
  void nonEmptyMountPointIsRefused() throws Exception {
    Files.writeString(mnt.resolve("file"), "x");
    assertThat(run(OK_ENV, args())).isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("is not empty");
  }

  @Test
  void storeInsideMountAndMountInsideStoreAreRefused() throws Exception {
    Path inner = Files.createDirectory(mnt.resolve("store"));
    assertThat(
            run(
                OK_ENV,
                "--store",
                inner.toString(),
                "--mount",
                mnt.toString(),
                "--journal",
                tmp.resolve("j").toString(),
                "--volume",
                "v",
                "--ship=none"))
        .isEqualTo(CaptureMain.USAGE);
    Path innerMount = Files.createDirectory(store.resolve("mnt"));
    assertThat(
            run(
                OK_ENV,
                "--store",
                store.toString(),
                "--mount",
                innerMount.toString(),
                "--journal",
                tmp.resolve("j").toString(),
                "--volume",
                "v",
                "--ship=none"))
        .isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("not empty").contains("lies inside --store");
  }

  @Test
  void journalInsideStoreIsRefused() {
    assertThat(
            run(
                OK_ENV,
                "--store",
                store.toString(),
                "--mount",
                mnt.toString(),
                "--journal",
                store.resolve("journal").toString(),
                "--volume",
                "v",
                "--ship=none"))
        .isEqualTo(CaptureMain.USAGE);
    assertThat(err()).contains("--journal").contains("inside --store");
  }

  @Test
  void missingFuseIsAnEnvironmentError() {
    assertThat(run(() -> "/dev/fuse is missing: load the fuse module", args()))
        .isEqualTo(CaptureMain.ENVIRONMENT);
    assertThat(err()).contains("/dev/fuse is missing");
  }

  @Test
  void shippingWithoutBrokersIsAKafkaConfigError() {
    String[] a = args();
    a[a.length - 1] = "--ship=kafka";
    assertThat(run(OK_ENV, a)).isEqualTo(CaptureMain.KAFKA_CONFIG);
    assertThat(err()).contains("--bootstrap-servers");
  }

  @Test
  void journalDumpOfAMissingDirectoryFails() {
    int code = run(OK_ENV, "journal", "dump", tmp.resolve("nope").toString());
    assertThat(code).isNotZero();
  }
}
