package dev.tfs.tools.stack;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tfs up}: the local stack in the background, for scripts. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = {
      "Starts the local stack in the background and returns once it is ready: a KRaft broker and"
          + " a distributed Connect worker (127.0.0.1 only), tfs-capture mounted at <home>/mnt,"
          + " and N mirrors deployed as sink connectors through the Connect REST API.",
      "Prints TFS_MOUNT, TFS_MIRRORS, TFS_BOOTSTRAP, TFS_CONNECT_URL, TFS_TOPIC, TFS_HOME lines"
          + " (eval-able). Stop it with 'tfs down'."
    })
public final class UpCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin StackOptions stack;

  @Option(
      names = "--mirrors",
      description = "Number of mirrors, 1 to 26 (default ${DEFAULT-VALUE}).")
  int mirrors = 2;

  @Option(
      names = "--ship",
      description =
          "kafka: tfs-capture ships its journal; connect: TreeSourceConnector ships it"
              + " (default ${DEFAULT-VALUE}).")
  String ship = "kafka";

  @Option(names = "--volume", description = "Volume name (default ${DEFAULT-VALUE}).")
  String volume = "local";

  @Option(
      names = "--partitions",
      description = "Partitions of the ops topic and the journal (default ${DEFAULT-VALUE}).")
  int partitions = 4;

  static LocalStack.Ship parseShip(CommandSpec spec, String ship) {
    switch (ship) {
      case "kafka":
        return LocalStack.Ship.KAFKA;
      case "connect":
        return LocalStack.Ship.CONNECT;
      default:
        throw new ParameterException(
            spec.commandLine(), "--ship must be kafka or connect, not '" + ship + "'");
    }
  }

  static void checkMirrors(CommandSpec spec, int mirrors) {
    if (mirrors < 1 || mirrors > 26) {
      throw new ParameterException(spec.commandLine(), "--mirrors must be 1 to 26");
    }
  }

  @Override
  public Integer call() {
    checkMirrors(spec, mirrors);
    LocalStack.Settings settings =
        stack.settings(mirrors, parseShip(spec, ship), volume, partitions);
    StackState st = new LocalStack(settings, System.err).up();
    var out = spec.commandLine().getOut();
    out.println("TFS_HOME=" + st.home);
    out.println("TFS_MOUNT=" + st.mount);
    out.println("TFS_MIRRORS=\"" + String.join(" ", st.mirrors) + "\"");
    out.println("TFS_BOOTSTRAP=" + st.bootstrap);
    out.println("TFS_CONNECT_URL=" + st.connectUrl);
    out.println("TFS_TOPIC=" + st.topic);
    out.println("TFS_STORE=" + st.store);
    out.println("TFS_JOURNAL=" + st.journal);
    out.flush();
    return 0;
  }
}
