package dev.tfs.journal;

import static dev.tfs.journal.TestSupport.bytes;
import static dev.tfs.journal.TestSupport.decode;
import static dev.tfs.journal.TestSupport.draft;
import static dev.tfs.journal.TestSupport.options;
import static dev.tfs.journal.TestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpFixtures;
import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@link OpKind} through the journal: its intent, its commit, recovery of an unresolved
 * intent of it, reading it back and the dump. A new kind fails here until the journal handles it.
 */
class EveryOpKindTest {
  @TempDir Path dir;

  @Test
  void theFixturesCoverEveryKind() {
    Set<OpKind> kinds = EnumSet.noneOf(OpKind.class);
    for (OpRecord f : OpFixtures.everyKind()) {
      kinds.add(OpKind.of(f));
    }
    assertThat(kinds).containsExactlyInAnyOrder(OpKind.values());
  }

  @Test
  void everyKindIsRecordedCommittedRecoveredReadAndDumped() {
    List<OpRecord> fixtures = OpFixtures.everyKind();
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      for (OpRecord f : fixtures) {
        w.commit(w.intent(intentOf(f)), draft(f));
      }
      // one more intent of every kind, left unresolved as a crash would
      for (OpKind k : OpKind.values()) {
        w.intent(intentOf(k, bytes("pending/" + k.label())));
      }
    }
    try (JournalWriter w = JournalWriter.open(dir, options().build())) {
      List<Intent> pending = w.unresolvedIntents();
      assertThat(pending).extracting(i -> i.record().kind()).containsExactly(OpKind.values());
      for (Intent i : pending) {
        w.abort(i.id());
      }
    }
    List<JournalEntry> all = readAll(dir);
    assertThat(all).hasSize(fixtures.size());
    for (int i = 0; i < fixtures.size(); i++) {
      assertThat(OpKind.of(decode(all.get(i)))).isEqualTo(OpKind.of(fixtures.get(i)));
      assertThat(all.get(i).key()).isEqualTo(Ops.path(fixtures.get(i)));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status = JournalDump.dump(dir, new PrintStream(out, true, StandardCharsets.UTF_8), false);
    assertThat(status).isEqualTo(JournalDump.OK);
    String dump = out.toString(StandardCharsets.UTF_8);
    for (OpKind k : OpKind.values()) {
      assertThat(dump).contains(" " + k.label() + " ").contains("intent ");
    }
  }

  private static IntentRecord intentOf(OpRecord f) {
    return intentOf(OpKind.of(f), Ops.path(f));
  }

  /** An intent of {@code kind} with every field any kind may require. */
  private static IntentRecord intentOf(OpKind kind, byte[] path) {
    return IntentRecord.builder(kind, path)
        .to(bytes("to/" + kind.label()))
        .offset(0L)
        .length(1L)
        .size(1L)
        .build();
  }
}
