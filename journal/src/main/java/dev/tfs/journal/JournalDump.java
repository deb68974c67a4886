package dev.tfs.journal;

import dev.tfs.op.OpCodec;
import dev.tfs.op.OpDecodeException;
import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.path.OpPaths;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/**
 * Prints a journal for humans or scripts: {@code tfs-capture journal dump [--json] DIR}.
 *
 * <p>Text output: a {@code #} line with the meta and the acknowledged seq, a {@code #} line per
 * segment, then one line per entry:
 *
 * <ul>
 *   <li>an op: {@link Ops#describe} ({@code seq kind path [details]}) followed by {@code
 *       partition=P prev=S} and, on the op that resolved an intent, {@code intent=ID};
 *   <li>an intent: {@code intent ID kind path [details]};
 *   <li>an abort: {@code abort ID};
 *   <li>problems: {@code # unfinished entry at SEGMENT:POS (...)} for a tail still being written or
 *       torn by a crash (normal), {@code # ERROR ...} for damage or an op that does not decode.
 * </ul>
 *
 * <p>With {@code --json}: one JSON object per line, with a {@code "type"} of {@code meta}, {@code
 * segment}, {@code op}, {@code intent}, {@code abort}, {@code unfinished} or {@code error}; paths
 * in the escaped display form of {@link OpPaths#display}.
 *
 * <p>Reads without a lock, like {@link JournalReader}: safe while tfs-capture runs.
 */
public final class JournalDump {
  /** Exit status: the journal was printed and is sound. */
  public static final int OK = 0;

  /** Exit status: damage or undecodable ops were found (and reported in the output). */
  public static final int DAMAGED = 1;

  /** Exit status: bad arguments, or no journal at the path. */
  public static final int USAGE = 2;

  private final PrintStream out;
  private final boolean json;
  private final OpCodec codec = new OpCodec();
  private int status = OK;

  private JournalDump(PrintStream out, boolean json) {
    this.out = out;
    this.json = json;
  }

  /**
   * {@code JournalDump [--json] DIR}; exits with {@link #OK}, {@link #DAMAGED} or {@link #USAGE}.
   */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** The command line: {@code [--json] DIR}. Returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    boolean json = false;
    String dir = null;
    for (String a : args) {
      if (a.equals("--json")) {
        json = true;
      } else if (a.equals("-h") || a.equals("--help")) {
        out.println("usage: journal dump [--json] JOURNAL_DIR");
        return OK;
      } else if (dir == null && !a.startsWith("-")) {
        dir = a;
      } else {
        err.println("journal dump: unexpected argument '" + a + "'");
        err.println("usage: journal dump [--json] JOURNAL_DIR");
        return USAGE;
      }
    }
    if (dir == null) {
      err.println("usage: journal dump [--json] JOURNAL_DIR");
      return USAGE;
    }
    try {
      return dump(Paths.get(dir), out, json);
    } catch (JournalNotReadyException e) {
      err.println("journal dump: " + e.getMessage());
      return USAGE;
    } catch (JournalException e) {
      err.println("journal dump: " + e.getMessage());
      return DAMAGED;
    }
  }

  /**
   * Prints the journal in {@code dir} to {@code out}.
   *
   * @return {@link #OK}, or {@link #DAMAGED} when damage or undecodable ops were found
   * @throws JournalNotReadyException when there is no journal in {@code dir}
   */
  public static int dump(Path dir, PrintStream out, boolean json) {
    JournalMeta meta;
    long acked;
    try (JournalReader r = JournalReader.open(dir)) {
      meta = r.meta();
      acked = r.ackedSeq();
    }
    JournalDump d = new JournalDump(out, json);
    d.run(dir, meta, acked);
    out.flush();
    return d.status;
  }

  private void run(Path dir, JournalMeta meta, long acked) {
    if (json) {
      out.println(
          "{\"type\":\"meta\",\"dir\":"
              + str(dir.toString())
              + ",\"volume\":"
              + str(meta.volume())
              + ",\"epoch\":"
              + meta.epoch()
              + ",\"partitions\":"
              + meta.partitions()
              + ",\"maxRecordBytes\":"
              + meta.maxRecordBytes()
              + ",\"format\":"
              + meta.formatVersion()
              + ",\"ackedSeq\":"
              + acked
              + "}");
    } else {
      out.println(
          "# journal "
              + dir
              + " volume="
              + meta.volume()
              + " epoch="
              + meta.epoch()
              + " partitions="
              + meta.partitions()
              + " maxRecordBytes="
              + meta.maxRecordBytes()
              + " format="
              + meta.formatVersion()
              + " ackedSeq="
              + acked);
    }
    List<Path> files;
    try {
      files = Format.listSegments(dir);
    } catch (IOException e) {
      throw new JournalException("cannot list " + dir + ": " + e, e);
    }
    int maxBody = Format.maxBody(meta.maxRecordBytes());
    for (int i = 0; i < files.size(); i++) {
      boolean newest = i == files.size() - 1;
      Path file = files.get(i);
      String name = file.getFileName().toString();
      try (SegmentReader r = SegmentReader.open(file, meta.partitions(), maxBody)) {
        segment(r);
        entries(r, newest);
      } catch (NoSuchFileException e) {
        // Deleted after acknowledgement while we were listing: nothing to show.
      } catch (JournalCorruptException e) {
        error(name, e.position(), e.getMessage());
      } catch (IOException e) {
        error(name, -1, "cannot read: " + e);
      }
    }
  }

  private void segment(SegmentReader r) throws IOException {
    if (json) {
      out.println(
          "{\"type\":\"segment\",\"name\":"
              + str(r.name)
              + ",\"firstSeq\":"
              + r.header.firstSeq
              + ",\"bytes\":"
              + r.length()
              + "}");
    } else {
      out.println(
          "# segment " + r.name + " firstSeq=" + r.header.firstSeq + " bytes=" + r.length());
    }
    if (r.header.epoch <= 0) {
      error(r.name, 0, "header epoch " + r.header.epoch + " is not positive");
    }
  }

  private void entries(SegmentReader r, boolean newest) throws IOException {
    long pos = r.headerBytes();
    while (true) {
      SegmentReader.Status st = r.read(pos);
      if (st == SegmentReader.Status.END) {
        return;
      }
      if (st != SegmentReader.Status.ENTRY) {
        String problem = r.problem;
        if (newest && (st == SegmentReader.Status.SHORT || r.validEntryAfter(pos) < 0)) {
          unfinished(r.name, pos, problem);
        } else {
          error(r.name, pos, "damaged entry: " + problem);
        }
        return;
      }
      switch (r.type) {
        case Format.OP:
          op(r, pos);
          break;
        case Format.INTENT:
          intent(r, pos);
          break;
        default:
          if (json) {
            out.println(
                "{\"type\":\"abort\",\"id\":"
                    + r.intentId
                    + ",\"segment\":"
                    + str(r.name)
                    + ",\"position\":"
                    + pos
                    + "}");
          } else {
            out.println("abort " + r.intentId);
          }
          break;
      }
      pos = r.next;
    }
  }

  private void op(SegmentReader r, long pos) {
    byte[] value = r.value();
    OpRecord op;
    try {
      op = codec.decode(value);
    } catch (OpDecodeException e) {
      error(r.name, pos, "seq " + r.seq + " does not decode: " + e.getMessage());
      return;
    }
    if (json) {
      out.println(
          "{\"type\":\"op\",\"seq\":"
              + r.seq
              + ",\"kind\":"
              + str(OpKind.of(op).label())
              + ",\"path\":"
              + str(OpPaths.display(r.key()))
              + ",\"partition\":"
              + r.partition
              + ",\"partitionPrevSeq\":"
              + op.getPartitionPrevSeq()
              + ",\"time\":"
              + op.getTime()
              + ",\"intent\":"
              + r.intentId
              + ",\"valueBytes\":"
              + value.length
              + ",\"describe\":"
              + str(Ops.describe(op))
              + ",\"segment\":"
              + str(r.name)
              + ",\"position\":"
              + pos
              + "}");
    } else {
      out.println(
          Ops.describe(op)
              + " partition="
              + r.partition
              + " prev="
              + op.getPartitionPrevSeq()
              + (r.intentId != 0 ? " intent=" + r.intentId : ""));
    }
  }

  private void intent(SegmentReader r, long pos) {
    IntentRecord rec;
    try {
      rec = r.intent();
    } catch (IllegalArgumentException e) {
      error(r.name, pos, "intent " + r.intentId + " does not decode: " + e.getMessage());
      return;
    }
    if (json) {
      out.println(
          "{\"type\":\"intent\",\"id\":"
              + r.intentId
              + ",\"kind\":"
              + str(rec.kind().label())
              + ",\"path\":"
              + str(OpPaths.display(rec.path()))
              + ",\"describe\":"
              + str(rec.toString())
              + ",\"segment\":"
              + str(r.name)
              + ",\"position\":"
              + pos
              + "}");
    } else {
      out.println("intent " + r.intentId + " " + rec);
    }
  }

  private void unfinished(String segment, long pos, String problem) {
    if (json) {
      out.println(
          "{\"type\":\"unfinished\",\"segment\":"
              + str(segment)
              + ",\"position\":"
              + pos
              + ",\"message\":"
              + str(problem)
              + "}");
    } else {
      out.println(
          "# unfinished entry at "
              + segment
              + ":"
              + pos
              + " ("
              + problem
              + "): being written, or torn by a crash (cut when the writer reopens)");
    }
  }

  private void error(String segment, long pos, String message) {
    status = DAMAGED;
    if (json) {
      out.println(
          "{\"type\":\"error\",\"segment\":"
              + str(segment)
              + ",\"position\":"
              + pos
              + ",\"message\":"
              + str(message)
              + "}");
    } else {
      out.println("# ERROR at " + segment + ":" + pos + ": " + message);
    }
  }

  /** A JSON string literal. */
  static String str(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    return sb.append('"').toString();
  }
}
