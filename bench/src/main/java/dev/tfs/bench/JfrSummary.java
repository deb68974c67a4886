package dev.tfs.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarizes a JFR recording's CPU samples ({@code jdk.ExecutionSample}): the hottest methods by
 * self time and by total (inclusive) time, optionally only for threads whose name matches. {@code
 * JfrSummary FILE [THREAD-SUBSTRING] [TOP]}.
 */
public final class JfrSummary {
  private JfrSummary() {}

  public static void main(String[] args) throws IOException {
    String thread = args.length > 1 && !args[1].isEmpty() ? args[1] : null;
    int top = args.length > 2 ? Integer.parseInt(args[2]) : 25;
    System.out.print(summarize(Path.of(args[0]), thread, top));
  }

  static String summarize(Path jfr, String threadFilter, int top) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> total = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    int n = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
      if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      String tn =
          e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
      if (threadFilter != null && (tn == null || !tn.contains(threadFilter))) {
        continue;
      }
      RecordedStackTrace st = e.getStackTrace();
      if (st == null || st.getFrames().isEmpty()) {
        continue;
      }
      n++;
      threads.merge(tn == null ? "?" : tn.replaceAll("[0-9]+", "N"), 1, Integer::sum);
      List<RecordedFrame> frames = st.getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : frames) {
        String m = name(f);
        if (seen.add(m)) {
          total.merge(m, 1, Integer::sum);
        }
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "%d CPU samples%s%n",
            n,
            threadFilter == null ? "" : " in threads *" + threadFilter + "*"));
    sb.append("threads:\n");
    append(sb, threads, n, 8);
    sb.append("self:\n");
    append(sb, self, n, top);
    sb.append("total:\n");
    append(sb, total, n, top);
    return sb.toString();
  }

  private static void append(StringBuilder sb, Map<String, Integer> m, int n, int top) {
    m.entrySet().stream()
        .sorted((a, b) -> b.getValue() - a.getValue())
        .limit(top)
        .forEach(
            e ->
                sb.append(
                    String.format(
                        Locale.ROOT,
                        "  %5.1f%%  %s%n",
                        100.0 * e.getValue() / Math.max(1, n),
                        e.getKey())));
  }

  private static String name(RecordedFrame f) {
    if (f.getMethod() == null) {
      return "?";
    }
    String t = f.getMethod().getType().getName();
    return t.substring(t.lastIndexOf('.') + 1) + "." + f.getMethod().getName();
  }
}
