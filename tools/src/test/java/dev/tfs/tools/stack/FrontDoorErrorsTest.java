package dev.tfs.tools.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.tools.Tfs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The front door's one-line errors: each names the problem and what to do. */
class FrontDoorErrorsTest {
  @TempDir Path tmp;

  @Test
  void aPortInUseNamesThePortAndTheFlagThatMovesIt() throws Exception {
    try (ServerSocket busy = new ServerSocket()) {
      busy.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = busy.getLocalPort();
      assertThatThrownBy(() -> Prerequisites.checkPortFree(port, "Kafka broker", "--kafka-port"))
          .isInstanceOfSatisfying(
              StackException.class,
              e -> assertThat(e.exitCode()).isEqualTo(StackException.ENVIRONMENT))
          .hasMessageContaining("port " + port)
          .hasMessageContaining("Kafka broker")
          .hasMessageContaining("--kafka-port");
    }
  }

  @Test
  void aMissingBuildSaysToBuildFirst() throws Exception {
    Files.createDirectories(tmp.resolve("capture-fs/target"));
    assertThatThrownBy(() -> Build.check(tmp, false))
        .isInstanceOfSatisfying(
            StackException.class, e -> assertThat(e.exitCode()).isEqualTo(StackException.BUILD))
        .hasMessageContaining("tfs-capture launcher jar is missing")
        .hasMessageContaining("build first");
    Files.createFile(tmp.resolve("capture-fs/target/tfs-capture-fs-0.1.0-all.jar"));
    assertThatThrownBy(() -> Build.check(tmp, false))
        .isInstanceOf(StackException.class)
        .hasMessageContaining("sink connector plugin is missing");
    Files.createDirectories(tmp.resolve("sink-connector/target/plugin"));
    assertThatThrownBy(() -> Build.check(tmp, true))
        .isInstanceOf(StackException.class)
        .hasMessageContaining("source connector plugin is missing");
    Files.createDirectories(tmp.resolve("source-connector/target/plugin"));
    Build b = Build.check(tmp, true);
    assertThat(b.captureJar().getFileName().toString()).isEqualTo("tfs-capture-fs-0.1.0-all.jar");
    assertThat(b.pluginPath()).contains("sink-connector/target/plugin", "source-connector");
  }

  @Test
  void aPlainDirectoryIsNoStaleMount() {
    assertThat(Prerequisites.isFuseMount(tmp)).isFalse();
    assertThat(Prerequisites.clearStaleMount(tmp)).isFalse();
    assertThat(Prerequisites.unescape("/a\\040b")).isEqualTo("/a b");
  }

  @Test
  void stackCommandsWithoutAStackSayHowToStartOne() {
    StringWriter err = new StringWriter();
    CommandLine cl = Tfs.commandLine();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    int rc = cl.execute("status", "--home", tmp.resolve("none").toString());
    assertThat(rc).isEqualTo(StackException.ENVIRONMENT);
    assertThat(err.toString()).contains("no stack is running").contains("./tfs up");
  }

  @Test
  void badFlagsAreUsageErrors() {
    CommandLine cl = Tfs.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute("up", "--mirrors", "0", "--home", tmp.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--mirrors must be 1 to 26");
    assertThat(cl.execute("up", "--ship", "carrier-pigeon", "--home", tmp.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--ship must be kafka or connect");
  }
}
