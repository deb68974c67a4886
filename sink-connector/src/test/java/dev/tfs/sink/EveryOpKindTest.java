package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.OpCodec;
import dev.tfs.op.OpFixtures;
import dev.tfs.op.OpKind;
import dev.tfs.op.OpRules;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.OpRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@link OpKind} from the producer's side to the mirror: encoded, decoded back to the same
 * record, valid under {@link OpRules}, applied, and applied once more without changing the tree
 * (G3: recording after applying is enough only because one re-application is harmless). The
 * journal's {@code EveryOpKindTest} takes every kind through intents, commits and the dump;
 * capture-fs's {@code RecoveryTest} through crash recovery. A new kind fails compilation in {@link
 * #role} until this test says what it does, and fails the test until the fixtures hold one.
 */
class EveryOpKindTest {
  @TempDir Path tmp;

  /** What an op of this kind does to a mirror. */
  private static String role(OpKind k) {
    return switch (k) {
      case CREATE, MKDIR, MKNOD, SYMLINK, LINK -> "adds a name";
      case UNLINK, RMDIR, RENAME -> "removes or moves a name";
      case WRITE, TRUNCATE, FALLOCATE -> "changes content";
      case SETATTR, SETXATTR, REMOVEXATTR -> "changes attributes";
      case SNAPSHOT_BEGIN, SNAPSHOT_END -> "marks the mirror's state, not its tree";
    };
  }

  @Test
  void everyKindRoundTripsPassesTheRulesAndAppliesIdempotently() throws Exception {
    OpCodec codec = new OpCodec();
    List<OpRecord> ops = OpFixtures.everyKind();
    Set<OpKind> seen = EnumSet.noneOf(OpKind.class);
    Path mirror = Files.createDirectories(tmp.resolve("mirror"));
    try (MirrorApplier applier = new MirrorApplier(mirror, MirrorApplier.OwnerPolicy.PRESERVE)) {
      int step = 0;
      for (OpRecord op : ops) {
        OpKind kind = OpKind.of(op);
        String what = Ops.describe(op) + " (" + role(kind) + ")";
        seen.add(kind);
        assertThat(OpRules.problem(op)).as(what).isNull();
        assertThat(codec.decode(codec.encode(op))).as(what).isEqualTo(op);
        applier.apply(op);
        Path once = Trees.snapshot(mirror, tmp.resolve("after-" + step++));
        applier.apply(op);
        assertThat(Trees.compare(once, mirror, true).differences())
            .as(what + " applied twice")
            .isEmpty();
      }
    }
    assertThat(seen).containsExactlyInAnyOrder(OpKind.values());
  }
}
