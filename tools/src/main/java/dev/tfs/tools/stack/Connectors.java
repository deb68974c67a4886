package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Connector deployment through the Connect REST API: create or update, wait until the task runs
 * (failing fast with the first line of a failed task's trace), delete. Mirrors are sink connectors
 * configured from the samples in {@code connect-configs/distributed/}.
 */
public final class Connectors {
  private final ConnectRest rest;
  private final Path workerLog;

  /**
   * @param workerLog the worker's log, named in failure messages
   */
  public Connectors(ConnectRest rest, Path workerLog) {
    this.rest = rest;
    this.workerLog = workerLog;
  }

  /**
   * Mirror {@code i} from the samples: {@code mirror-a} and {@code mirror-b} are their own sample
   * files, further mirrors are mirror-a's sample with its name and root changed.
   */
  public static Templates.Connector mirror(Templates t, int i) throws IOException {
    if (i == 1) {
      return t.connector("distributed/sink-mirror-b.json");
    }
    Templates.Connector a = t.connector("distributed/sink-mirror-a.json");
    if (i == 0) {
      return a;
    }
    String name = Layout.mirrorName(i);
    Map<String, String> config = new LinkedHashMap<>();
    a.config().forEach((k, v) -> config.put(k, v.replace("mirror-a", name)));
    return new Templates.Connector(name, config);
  }

  /** Creates connector {@code name} or replaces its config. */
  public void deploy(String name, Map<String, String> config) throws IOException {
    rest.upsert(name, config);
  }

  /** Waits until the connector and its first task run; a failed task fails at once. */
  public void awaitRunning(String name, Duration timeout) {
    Waits.waitFor(
        "connector " + name + " to run",
        timeout,
        () -> {
          try {
            JsonNode st = rest.status(name);
            if (st == null) {
              return false;
            }
            checkTasks(name, st);
            JsonNode tasks = st.path("tasks");
            return "RUNNING".equals(st.path("connector").path("state").asText())
                && tasks.size() > 0
                && "RUNNING".equals(tasks.get(0).path("state").asText());
          } catch (IOException e) {
            return false;
          }
        },
        workerLog);
  }

  /** Throws when a task of connector {@code name} failed; a busy worker is not a failure. */
  public void checkNotFailed(String name) {
    try {
      JsonNode st = rest.status(name);
      if (st != null) {
        checkTasks(name, st);
      }
    } catch (IOException e) {
      // the worker is busy; the caller asks again
    }
  }

  private void checkTasks(String name, JsonNode status) {
    for (JsonNode task : status.path("tasks")) {
      if ("FAILED".equals(task.path("state").asText())) {
        throw new StackException(
            StackException.STARTUP,
            "connector "
                + name
                + " task failed: "
                + task.path("trace").asText().lines().findFirst().orElse("?")
                + " (see "
                + workerLog
                + ")");
      }
    }
  }

  /** Deletes connector {@code name} and waits until the worker no longer knows it. */
  public void delete(String name, Duration timeout) throws IOException {
    rest.delete("connectors/" + name);
    Waits.waitFor(
        "connector " + name + " to go away",
        timeout,
        () -> {
          try {
            return rest.status(name) == null;
          } catch (IOException e) {
            return false;
          }
        },
        workerLog);
  }
}
