package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tfs status}: per mirror and for the capture, where things stand. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Shows the local stack's state: per mirror the connector and task state, applied seq,"
          + " newest seq, lag in ops and seconds, and divergence; for the capture the next seq,"
          + " the shipped seq and the unshipped ops and bytes.",
      "Exit status 0 when everything runs, 1 when a component is down, failed or diverged."
    })
public final class StatusCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;
  @Mixin StackOptions stack;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    Layout l = stack.layout();
    if (!Files.exists(l.stateFile())) {
      throw new StackException(
          StackException.ENVIRONMENT,
          "no stack is running in " + l.home() + " (start one with ./tfs up or ./tfs demo)");
    }
    StackState st = StackState.load(l.stateFile());
    ObjectNode out = collect(st);
    PrintWriter w = spec.commandLine().getOut();
    if (json) {
      w.println(out.toPrettyString());
    } else {
      printTable(w, out);
    }
    w.flush();
    return out.path("healthy").asBoolean() ? 0 : 1;
  }

  /** Everything the status shows, as JSON. */
  public static ObjectNode collect(StackState st) {
    ObjectNode out = JSON.createObjectNode();
    boolean healthy = true;
    out.put("home", st.home);
    out.put("topic", st.topic);
    out.put("ship", st.ship);

    ObjectNode procs = out.putObject("processes");
    for (StackState.Proc p : st.processes) {
      boolean alive = p.handle().alive();
      procs.put(p.name, alive ? "running (pid " + p.pid + ")" : "NOT RUNNING");
      healthy &= alive;
    }

    ObjectNode capture = out.putObject("capture");
    long newest = -1;
    ChildProcess cp = st.process(LocalStack.CAPTURE);
    if (cp != null && cp.alive()) {
      try {
        Map<String, Map<String, Object>> beans = JmxProbe.read(cp.pid(), "dev.tfs:type=capture,*");
        for (Map<String, Object> attrs : beans.values()) {
          for (String k :
              new String[] {
                "NextSeq",
                "ShippedSeq",
                "UnshippedOps",
                "UnshippedBytes",
                "ShipperState",
                "ShipErrors",
                "BlockedWriters",
                "BackPressureMillis",
                "BrokenReason"
              }) {
            Object v = attrs.get(k);
            if (v instanceof Number n) {
              capture.put(lower(k), n.longValue());
            } else if (v != null) {
              capture.put(lower(k), v.toString());
            }
          }
          newest = capture.path("nextSeq").asLong(0) - 1;
          String broken = capture.path("brokenReason").asText("");
          healthy &= broken.isEmpty();
        }
      } catch (Exception e) {
        capture.put("error", "cannot read capture metrics: " + e.getMessage());
      }
    } else {
      capture.put("error", "tfs-capture is not running");
      healthy = false;
    }

    ConnectRest rest = new ConnectRest(st.connectUrl);
    ArrayNode connectors = out.putArray("connectors");
    for (String name : st.connectors) {
      ObjectNode c = connectors.addObject();
      c.put("name", name);
      try {
        JsonNode s = rest.status(name);
        if (s == null) {
          c.put("connector", "MISSING");
          healthy = false;
        } else {
          c.put("connector", s.path("connector").path("state").asText());
          JsonNode task = s.path("tasks").path(0);
          c.put("task", task.isMissingNode() ? "NONE" : task.path("state").asText());
          if (task.has("trace")) {
            c.put("error", task.path("trace").asText().lines().findFirst().orElse(""));
          }
          healthy &=
              "RUNNING".equals(c.path("connector").asText())
                  && "RUNNING".equals(c.path("task").asText());
        }
      } catch (IOException e) {
        c.put("connector", "UNREACHABLE");
        healthy = false;
      }
      JsonNode mirror = mirrorStatus(Path.of(st.sinkState), name);
      if (mirror != null) {
        long applied = mirror.path("appliedSeq").asLong();
        c.put("mirrorRoot", mirror.path("mirrorRoot").asText());
        c.put("appliedSeq", applied);
        c.put("newestSeqSeen", mirror.path("newestSeqSeen").asLong());
        c.put(
            "lagOps", newest >= 0 ? Math.max(0, newest - applied) : mirror.path("lagOps").asLong());
        c.put("lagSeconds", mirror.path("lagSeconds").asDouble());
        c.put("diverged", mirror.path("diverged").asBoolean());
        if (mirror.path("diverged").asBoolean()) {
          c.put("divergedReason", mirror.path("divergedReason").asText());
          healthy = false;
        }
        if (mirror.path("replayTargetReached").asBoolean()) {
          c.put("replayTargetReached", true);
        }
        c.put("updatedAt", mirror.path("updatedAt").asText());
      }
    }
    out.put("newestSeq", newest);
    out.put("healthy", healthy);
    return out;
  }

  /** The newest status file a sink connector wrote for this name (one per mirror root). */
  static JsonNode mirrorStatus(Path sinkState, String connector) {
    JsonNode best = null;
    long bestTime = Long.MIN_VALUE;
    try (DirectoryStream<Path> ds =
        Files.newDirectoryStream(sinkState, connector + "-*.status.json")) {
      for (Path p : ds) {
        long t = Files.getLastModifiedTime(p).toMillis();
        if (t > bestTime) {
          try {
            best = JSON.readTree(p.toFile());
            bestTime = t;
          } catch (IOException e) {
            // being replaced right now: the next call reads it
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return best;
  }

  private static String lower(String k) {
    return Character.toLowerCase(k.charAt(0)) + k.substring(1);
  }

  private static void printTable(PrintWriter w, ObjectNode o) {
    w.println(
        "tfs stack at "
            + o.path("home").asText()
            + "  (topic "
            + o.path("topic").asText()
            + ", shipped by "
            + o.path("ship").asText()
            + ")");
    o.path("processes")
        .properties()
        .forEach(e -> w.printf("  %-8s %s%n", e.getKey(), e.getValue().asText()));
    JsonNode c = o.path("capture");
    w.println();
    if (c.has("error")) {
      w.println("capture: " + c.path("error").asText());
    } else {
      w.printf(
          "capture: next seq %d, shipped seq %d, unshipped %d ops / %d bytes, shipper %s%s%n",
          c.path("nextSeq").asLong(),
          c.path("shippedSeq").asLong(),
          c.path("unshippedOps").asLong(),
          c.path("unshippedBytes").asLong(),
          c.path("shipperState").asText("?"),
          c.path("blockedWriters").asLong() > 0
              ? ", " + c.path("blockedWriters").asLong() + " writers blocked (journal quota full)"
              : "");
      if (!c.path("brokenReason").asText("").isEmpty()) {
        w.println("  BROKEN: " + c.path("brokenReason").asText());
      }
    }
    w.println();
    w.printf(
        "%-12s %-10s %-10s %12s %12s %10s %10s  %s%n",
        "MIRROR", "CONNECTOR", "TASK", "APPLIED", "NEWEST", "LAG OPS", "LAG S", "NOTE");
    for (JsonNode m : o.path("connectors")) {
      String note =
          m.path("diverged").asBoolean()
              ? "DIVERGED: " + m.path("divergedReason").asText()
              : m.has("error")
                  ? m.path("error").asText()
                  : m.path("replayTargetReached").asBoolean() ? "replay target reached" : "";
      w.printf(
          "%-12s %-10s %-10s %12s %12s %10s %10s  %s%n",
          m.path("name").asText(),
          m.path("connector").asText(),
          m.path("task").asText("-"),
          m.has("appliedSeq") ? m.path("appliedSeq").asText() : "-",
          o.path("newestSeq").asLong() >= 0 ? o.path("newestSeq").asText() : "-",
          m.has("lagOps") ? m.path("lagOps").asText() : "-",
          m.has("lagSeconds") ? String.format("%.1f", m.path("lagSeconds").asDouble()) : "-",
          note);
    }
  }
}
