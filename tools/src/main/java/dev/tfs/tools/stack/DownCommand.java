package dev.tfs.tools.stack;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tfs down}: stops what {@code tfs up} started and unmounts. */
@Command(
    name = "down",
    mixinStandardHelpOptions = true,
    description =
        "Stops what 'tfs up' started at this home (capture first, so it ships what it can; then"
            + " Connect; then the broker) and unmounts. Data stays in <home>; a later 'tfs up'"
            + " resumes from it.")
public final class DownCommand implements Callable<Integer> {
  @Mixin StackOptions stack;

  @Override
  public Integer call() {
    LocalStack.down(stack.layout(), System.err);
    return 0;
  }
}
