package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code tfs up} started, written to {@code <home>/stack.json} so {@code tfs down} and {@code
 * tfs status} find it from another process.
 */
public final class StackState {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One started process. */
  public static final class Proc {
    public String name;
    public long pid;
    public String marker;

    public Proc() {}

    public Proc(ChildProcess p) {
      this.name = p.name();
      this.pid = p.pid();
      this.marker = p.marker();
    }

    public ChildProcess handle() {
      return ChildProcess.attach(name, pid, marker);
    }
  }

  public String home;
  public String volume;
  public String topic;
  public int partitions;
  public String ship;
  public String bootstrap;
  public String connectUrl;
  public String mount;
  public String store;
  public String journal;
  public String sinkState;
  public List<String> mirrors = new ArrayList<>();
  public List<String> connectors = new ArrayList<>();
  public List<Proc> processes = new ArrayList<>();

  public void save(Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), this);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  public static StackState load(Path file) throws IOException {
    return JSON.readValue(file.toFile(), StackState.class);
  }

  /** The recorded process of this component, if any. */
  public ChildProcess process(String name) {
    for (Proc p : processes) {
      if (p.name.equals(name)) {
        return p.handle();
      }
    }
    return null;
  }
}
