package dev.tfs.tools;

import dev.tfs.tools.stack.DemoCommand;
import dev.tfs.tools.stack.DownCommand;
import dev.tfs.tools.stack.StackException;
import dev.tfs.tools.stack.StatusCommand;
import dev.tfs.tools.stack.UpCommand;
import dev.tfs.tools.verify.VerifyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The Java side of the {@code ./tfs} launcher. The shell script installs prerequisites and builds;
 * everything else happens here.
 */
@Command(
    name = "tfs",
    mixinStandardHelpOptions = true,
    version = "tfs 0.1.0",
    description = "tfs: an event-driven rsync over Apache Kafka.",
    subcommands = {
      DemoCommand.class,
      UpCommand.class,
      DownCommand.class,
      StatusCommand.class,
      VerifyCommand.class
    })
public final class Tfs {
  private Tfs() {}

  /** Exit codes shared by the subcommands. */
  public static final int OK = 0;

  public static final int DIFFERENT = 1;
  public static final int USAGE = 2;
  public static final int ENVIRONMENT = 3;

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(Tfs.class);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("tfs " + cmd.getCommandName() + ": " + e.getMessage());
          if (e instanceof StackException se) {
            return se.exitCode();
          }
          if (e instanceof CommandLine.ParameterException) {
            cmd.usage(cmd.getErr());
            return USAGE;
          }
          return ENVIRONMENT;
        });
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
