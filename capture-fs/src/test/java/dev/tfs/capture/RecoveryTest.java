package dev.tfs.capture;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfs.journal.IntentRecord;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.OpKind;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.Write;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Recovery#opsFor} for every {@link OpKind}, without a mount: an intent whose op is on the
 * store becomes ops of its kind, one whose op did not happen becomes none.
 */
class RecoveryTest {
  @TempDir Path tmp;
  private Path store;
  private JournalWriter journal;
  private int root;

  @BeforeEach
  void open() throws Exception {
    store = Files.createDirectories(tmp.resolve("store"));
    journal = JournalWriter.open(tmp.resolve("journal"), CaptureFixture.options().build());
    root = Posix.openDirectory(store);
  }

  @AfterEach
  void close() {
    journal.close();
    Posix.closeQuietly(root);
  }

  private static byte[] b(String s) {
    return s.getBytes(ISO_8859_1);
  }

  private List<OpDraft> recover(IntentRecord r) throws Exception {
    return Recovery.opsFor(journal, root, r);
  }

  @Test
  void everyKindIsRecoveredWhenTheStoreShowsIt() throws Exception {
    Files.writeString(store.resolve("f"), "hello");
    for (OpKind kind : OpKind.values()) {
      // One arm per kind, no default: a new kind does not compile until it is covered here.
      IntentRecord intent =
          switch (kind) {
            case WRITE -> IntentRecord.write(b("f"), 1, 3);
            case TRUNCATE -> IntentRecord.truncate(b("f"), 5);
            case FALLOCATE ->
                IntentRecord.builder(kind, b("f")).mode(0).offset(0L).length(8192L).build();
            case CREATE -> {
              Files.writeString(store.resolve("new"), "");
              yield IntentRecord.builder(kind, b("new")).mode(0644).build();
            }
            case MKDIR -> {
              Files.createDirectory(store.resolve("d"));
              yield IntentRecord.builder(kind, b("d")).mode(0755).build();
            }
            case MKNOD -> {
              Posix.mknod(root, b("fifo"), Flags.S_IFIFO | 0644, 0);
              yield IntentRecord.builder(kind, b("fifo")).mode(Flags.S_IFIFO | 0644).build();
            }
            case UNLINK -> IntentRecord.of(kind, b("gone"));
            case RMDIR -> IntentRecord.of(kind, b("gone-dir"));
            case RENAME -> {
              Files.writeString(store.resolve("renamed"), "x");
              yield IntentRecord.rename(b("was"), b("renamed"));
            }
            case LINK -> {
              Files.createLink(store.resolve("g"), store.resolve("f"));
              yield IntentRecord.link(b("f"), b("g"));
            }
            case SYMLINK -> {
              Posix.symlink(b("target"), root, b("s"));
              yield IntentRecord.builder(kind, b("s")).target(b("target")).build();
            }
            case SETATTR -> IntentRecord.builder(kind, b("f")).mode(0600).build();
            case SETXATTR -> {
              Posix.setxattr(root, b("f"), b("user.a"), b("1"), 0);
              yield IntentRecord.builder(kind, b("f")).xattrName(b("user.a")).build();
            }
            case REMOVEXATTR -> IntentRecord.builder(kind, b("f")).xattrName(b("user.b")).build();
            case SNAPSHOT_BEGIN, SNAPSHOT_END -> null;
          };
      if (intent == null) {
        // Bootstrap commits without intents: such an intent is refused loudly, never aborted.
        IntentRecord marker = IntentRecord.of(kind, new byte[0]);
        assertThatThrownBy(() -> recover(marker)).isInstanceOf(IllegalStateException.class);
        continue;
      }
      List<OpDraft> ops = recover(intent);
      assertThat(ops).as("%s", kind).isNotEmpty();
      assertThat(ops.get(0).kind()).as("%s", kind).isEqualTo(kind);
      assertThat(ops.get(0).path()).as("%s", kind).isEqualTo(intent.path());
    }
  }

  /**
   * A mknod intent of a device: logged with the store's device number when the store holds a node
   * of the intent's type, aborted when the name holds another type.
   */
  @Test
  void aDeviceNodeIsRecoveredWithItsNumber() throws Exception {
    assumeTrue(Posix.geteuid() == 0, "mknod of a device needs root");
    Posix.mknod(root, b("sda"), Flags.S_IFBLK | 0660, Posix.makedev(8, 1));
    Posix.chmod(root, b("sda"), 0660); // past the umask
    Posix.mknod(root, b("fifo"), Flags.S_IFIFO | 0644, 0);
    List<OpDraft> ops =
        recover(IntentRecord.builder(OpKind.MKNOD, b("sda")).mode(Flags.S_IFBLK | 0660).build());
    assertThat(ops).hasSize(1);
    Mknod m = (Mknod) ops.get(0).body();
    assertThat(m.getMode()).isEqualTo(Flags.S_IFBLK | 0660);
    assertThat(m.getRdev()).isEqualTo(Posix.makedev(8, 1));
    assertThat(
            recover(
                IntentRecord.builder(OpKind.MKNOD, b("fifo")).mode(Flags.S_IFCHR | 0666).build()))
        .isEmpty();
  }

  @Test
  void opsThatDidNotHappenAreAborted() throws Exception {
    Files.createDirectory(store.resolve("d"));
    Files.writeString(store.resolve("f"), "hi");
    // The object is missing, has another type, or the name is still there.
    assertThat(recover(IntentRecord.write(b("missing"), 0, 3))).isEmpty();
    assertThat(recover(IntentRecord.write(b("f"), 2, 3))).isEmpty(); // ends before the range
    assertThat(recover(IntentRecord.builder(OpKind.CREATE, b("d")).mode(0644).build())).isEmpty();
    assertThat(recover(IntentRecord.builder(OpKind.MKDIR, b("f")).mode(0755).build())).isEmpty();
    assertThat(recover(IntentRecord.of(OpKind.UNLINK, b("f")))).isEmpty();
    assertThat(recover(IntentRecord.of(OpKind.RMDIR, b("d")))).isEmpty();
    assertThat(recover(IntentRecord.rename(b("f"), b("absent")))).isEmpty();
    assertThat(recover(IntentRecord.link(b("f"), b("absent")))).isEmpty();
    assertThat(
            recover(IntentRecord.builder(OpKind.SETXATTR, b("f")).xattrName(b("user.x")).build()))
        .isEmpty();
  }

  @Test
  void recoveredOpsCarryTheStoresValues() throws Exception {
    Files.writeString(store.resolve("f"), "hello");
    Posix.chmod(root, b("f"), 04755);
    // A write: the store's bytes of the range, clipped to the file.
    Write w = (Write) recover(IntentRecord.write(b("f"), 3, 10)).get(0).body();
    assertThat(w.getOffset()).isEqualTo(3);
    assertThat(Ops.bytes(w.getData())).isEqualTo(b("lo"));
    // A chown records the mode it left (it may clear set-ID bits), as the live capture does.
    SetAttr a =
        (SetAttr)
            recover(IntentRecord.builder(OpKind.SETATTR, b("f")).uid(0).build()).get(0).body();
    assertThat(a.getUid()).isZero();
    assertThat(a.getMode()).isEqualTo(04755);
    assertThat(a.getGid()).isNull();
  }
}
