package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.T0;
import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.entryPositions;
import static dev.tfs.journal.TestSupport.flipByte;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.segments;
import static dev.tfs.journal.TestSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.SnapshotBegin;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpTest {
  @TempDir Path dir;
  private JournalMeta meta;
  private String seg;

  @BeforeEach
  void smallJournal() {
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      meta = w.meta();
      w.commit(0, new OpDraft(new byte[0], T0, new SnapshotBegin(0L, 0L), null, null));
      long mk = w.intent(IntentRecord.of(OpKind.MKDIR, bytes("d")));
      w.commit(mk, new OpDraft(bytes("d"), T0, new Mkdir(0755, 0, 0), null, T0));
      long wr = w.intent(IntentRecord.write(new byte[] {'d', '/', (byte) 0xff}, 0, 5));
      OpDraft x = write("x", 0, bytes("hello"));
      w.commit(
          wr, new OpDraft(new byte[] {'d', '/', (byte) 0xff}, x.timeNanos(), x.body(), null, null));
      long ab = w.intent(IntentRecord.rename(bytes("d"), bytes("e")));
      w.abort(ab);
      w.acknowledge(1);
    }
    seg = Format.segmentName(1);
  }

  private static String run(Path dir, boolean json, int expectedStatus) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    assertThat(JournalDump.dump(dir, out, json)).isEqualTo(expectedStatus);
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void textDumpHasOneLinePerEntry() {
    String[] lines = run(dir, false, JournalDump.OK).split("\n");
    int pm = KafkaPartitioner.partition(bytes("d"), 4);
    int pw = KafkaPartitioner.partition(new byte[] {'d', '/', (byte) 0xff}, 4);
    assertThat(lines)
        .containsExactly(
            "# journal "
                + dir
                + " volume=vol epoch="
                + meta.epoch()
                + " partitions=4 maxRecordBytes=524288 format=1 ackedSeq=1",
            "# segment " + seg + " firstSeq=1 bytes=" + segments(dir).get(0).toFile().length(),
            "1 snapshot_begin (root) partition="
                + KafkaPartitioner.partition(new byte[0], 4)
                + " prev=0",
            "intent 1 mkdir d",
            "2 mkdir d partition=" + pm + " prev=" + (pm == 1 ? 1 : 0) + " intent=1",
            "intent 2 write d/\\xff offset=0 length=5",
            "3 write d/\\xff offset=0 bytes=5 partition="
                + pw
                + " prev="
                + (pw == pm ? 2 : pw == 1 ? 1 : 0)
                + " intent=2",
            "intent 3 rename d -> e",
            "abort 3");
  }

  @Test
  void jsonDumpHasOneObjectPerLine() throws Exception {
    List<String> lines = run(dir, true, JournalDump.OK).lines().toList();
    ObjectMapper json = new ObjectMapper();
    assertThat(lines).hasSize(9);
    JsonNode m = json.readTree(lines.get(0));
    assertThat(m.get("type").asText()).isEqualTo("meta");
    assertThat(m.get("epoch").asLong()).isEqualTo(meta.epoch());
    assertThat(m.get("ackedSeq").asLong()).isEqualTo(1);
    assertThat(json.readTree(lines.get(1)).get("name").asText()).isEqualTo(seg);
    JsonNode op = json.readTree(lines.get(6));
    assertThat(op.get("type").asText()).isEqualTo("op");
    assertThat(op.get("seq").asLong()).isEqualTo(3);
    assertThat(op.get("kind").asText()).isEqualTo("write");
    assertThat(op.get("path").asText()).isEqualTo("d/\\xff");
    assertThat(op.get("intent").asLong()).isEqualTo(2);
    assertThat(op.get("segment").asText()).isEqualTo(seg);
    JsonNode intent = json.readTree(lines.get(7));
    assertThat(intent.get("type").asText()).isEqualTo("intent");
    assertThat(intent.get("describe").asText()).isEqualTo("rename d -> e");
    JsonNode abort = json.readTree(lines.get(8));
    assertThat(abort.get("type").asText()).isEqualTo("abort");
    assertThat(abort.get("id").asLong()).isEqualTo(3);
  }

  @Test
  void anUnfinishedTailIsShownAndDamageIsReported() throws Exception {
    Path file = segments(dir).get(0);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(raf.length());
      raf.write(new byte[] {0, 0, 1});
    }
    String text = run(dir, false, JournalDump.OK);
    assertThat(text).contains("# unfinished entry at " + seg + ":");
    assertThat(text).contains("abort 3"); // everything before the tail is shown
  }

  @Test
  void damageInTheMiddleIsAnError() throws Exception {
    Path file = segments(dir).get(0);
    long pos = entryPositions(file, meta).get(1);
    flipByte(file, pos + 12);
    String text = run(dir, false, JournalDump.DAMAGED);
    assertThat(text).contains("# ERROR at " + seg + ":" + pos + ": damaged entry");
    assertThat(run(dir, true, JournalDump.DAMAGED)).contains("\"type\":\"error\"");
  }

  @Test
  void commandLine() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertThat(JournalDump.run(new String[] {"--json", dir.toString()}, o, e))
        .isEqualTo(JournalDump.OK);
    assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("{\"type\":\"meta\"");
    assertThat(JournalDump.run(new String[] {}, o, e)).isEqualTo(JournalDump.USAGE);
    assertThat(JournalDump.run(new String[] {dir.resolve("none").toString()}, o, e))
        .isEqualTo(JournalDump.USAGE);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not exist yet");
  }
}
