package dev.tfs.capture;

import dev.tfs.capture.StoreOps.AttrFields;
import dev.tfs.journal.Intent;
import dev.tfs.journal.IntentRecord;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.OpKind;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the intents a crash left unresolved, before the mount serves anything ("redo or
 * reconcile"): each one is compared with the store and either committed with what the store now
 * holds, or aborted when the op evidently did not happen.
 *
 * <p>Why this is enough: an intent is recorded before the store is touched and the caller hears of
 * success only after the commit, and the ordering locks make an unresolved intent the last op on
 * its object (and, for namespace ops, the last op at all). So logging the store's current state for
 * that object cannot reorder anything, and when the op did not happen the logged state equals what
 * the journal already implies (a no-op on replay).
 *
 * <ul>
 *   <li>write: the store's current bytes of the range (clipped to the file size), or abort when the
 *       file is gone or ends before the range;
 *   <li>truncate: the store's current size; fallocate: redone (it is idempotent);
 *   <li>create, mkdir, mknod, symlink: logged with the store's mode/owner/target (a device node:
 *       its device number) when the object exists with the right type (mknod: the type its intent
 *       names, FIFO, socket, char or block device);
 *   <li>unlink, rmdir: logged when the name is gone; rename: when the source is gone and the target
 *       present; link: when both names are the same inode;
 *   <li>setattr: the store's current values of the fields the intent named; setxattr: the current
 *       value when set; removexattr: logged when the attribute is absent.
 * </ul>
 */
public final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  /** Outcome counts, for the log and tests. */
  public record Result(int committed, int aborted) {}

  /** Resolves every unresolved intent of {@code journal} against the store at {@code root}. */
  public static Result reconcile(JournalWriter journal, int root) throws PosixException {
    int committed = 0;
    int aborted = 0;
    for (Intent in : journal.unresolvedIntents()) {
      List<OpDraft> ops = opsFor(journal, root, in.record());
      if (ops.isEmpty()) {
        journal.abort(in.id());
        aborted++;
        LOG.info("recovery: {} did not take effect; aborted", in);
      } else {
        journal.commit(in.id(), ops);
        committed++;
        LOG.info("recovery: {} is on the store; committed as {} op(s)", in, ops.size());
      }
    }
    if (committed + aborted > 0) {
      journal.sync();
    }
    return new Result(committed, aborted);
  }

  private static Stat st(int root, byte[] p) throws PosixException {
    return Posix.statOrNull(root, p, false);
  }

  /**
   * The ops an unresolved intent became on the store, or none when it evidently did not happen. One
   * arm per {@link OpKind}, no default: a new kind does not compile until its recovery is decided
   * (an intent silently aborted after a crash would lose a change the store has, G1).
   */
  static List<OpDraft> opsFor(JournalWriter journal, int root, IntentRecord r)
      throws PosixException {
    StoreOps store = new StoreOps(journal, root);
    byte[] p = r.path();
    Stat s = p.length == 0 ? Posix.stat(root, p, false) : st(root, p);
    return switch (r.kind()) {
      case WRITE -> s == null ? List.of() : store.writtenOnStore(p, s, r.offset(), r.length());
      case TRUNCATE -> s != null && s.isRegular() ? List.of(store.truncate(p, s)) : List.of();
      case FALLOCATE -> {
        if (s == null || !s.isRegular()) {
          yield List.of();
        }
        // Redone: fallocate is idempotent, and redoing it is simpler than finding out.
        int fd = Posix.openat(root, p, Flags.O_WRONLY | Flags.O_NOFOLLOW, 0);
        try {
          Posix.fallocate(fd, r.mode(), r.offset(), r.length());
        } finally {
          Posix.closeQuietly(fd);
        }
        yield List.of(
            store.fallocate(p, r.mode(), r.offset(), r.length(), Posix.stat(root, p, false)));
      }
      case CREATE, MKDIR, MKNOD, SYMLINK -> {
        // Logged when the object exists with the type the intent makes.
        List<OpDraft> ops = store.created(p, s, null);
        boolean sameType =
            !ops.isEmpty()
                && ops.get(0).kind() == r.kind()
                && (r.kind() != OpKind.MKNOD
                    || r.mode() == null
                    || (r.mode() & Flags.S_IFMT) == s.type());
        yield sameType ? ops : List.of();
      }
      case UNLINK -> s == null ? List.of(store.unlink(p)) : List.of();
      case RMDIR -> s == null ? List.of(store.rmdir(p)) : List.of();
      case RENAME ->
          s == null && st(root, r.to()) != null ? List.of(store.rename(p, r.to())) : List.of();
      case LINK -> {
        Stat t = st(root, r.to());
        yield s != null && t != null && s.ino() == t.ino() && s.dev() == t.dev()
            ? List.of(store.link(p, r.to()))
            : List.of();
      }
      case SETATTR -> s != null ? List.of(store.setAttr(p, s, AttrFields.of(r))) : List.of();
      case SETXATTR -> {
        byte[] v = s == null ? null : Posix.getxattr(root, p, r.xattrName());
        yield v != null ? List.of(store.setXattr(p, r.xattrName(), v)) : List.of();
      }
      case REMOVEXATTR ->
          s != null && Posix.getxattr(root, p, r.xattrName()) == null
              ? List.of(store.removeXattr(p, r.xattrName()))
              : List.of();
      case SNAPSHOT_BEGIN, SNAPSHOT_END ->
          // Bootstrap commits its ops without intents: such an intent was never written by tfs.
          throw new IllegalStateException(
              "unexpected " + r.kind().label() + " intent in the journal: " + r);
    };
  }
}
