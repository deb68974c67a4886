package dev.tfs.capture;

import static dev.tfs.capture.StoreOps.draft;

import dev.tfs.capture.StoreOps.AttrFields;
import dev.tfs.journal.JournalWriter;
import dev.tfs.journal.OpDraft;
import dev.tfs.op.OpKind;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.SnapshotBegin;
import dev.tfs.op.schema.SnapshotEnd;
import dev.tfs.op.schema.Truncate;
import dev.tfs.path.OpPaths;
import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Errno;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records a store that already holds files as snapshot ops, so a mirror that replays the topic from
 * its first seq gets everything:
 *
 * <ol>
 *   <li>{@code SnapshotBegin} with the entries and content bytes counted by a first walk;
 *   <li>the tree, parent before child: mkdir, create + writes (only the data regions of sparse
 *       files, found with SEEK_DATA/SEEK_HOLE, then a truncate to the full size), symlink, mknod
 *       (FIFO, socket, char and block devices with their device numbers), hard links (a
 *       non-directory with the same dev+ino as an earlier one) as link ops, then xattrs;
 *   <li>setattr with the store's mode, owner and times: files first, then directories deepest
 *       first, so recording children does not disturb their parents' times on a mirror;
 *   <li>{@code SnapshotEnd} with what was actually recorded.
 * </ol>
 *
 * <p>Runs before the mount, so the store does not change meanwhile. Device nodes are recorded like
 * any other entry (whether a mirror creates them is its own policy, {@code tfs.special.files}). An
 * entry of a type tfs does not know is skipped with a warning. A marker file in the journal
 * directory is present while a bootstrap runs: a journal holding a partial snapshot is refused at
 * the next start (delete the journal directory to start a new epoch and bootstrap again).
 */
public final class Bootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);

  /** Marker file inside the journal directory while a bootstrap is incomplete. */
  public static final String MARKER = "capture-bootstrap.incomplete";

  private static final int CHUNK = 1 << 20;

  private final JournalWriter journal;
  private final StoreOps store;
  private final int root;
  private final PrintStream progress;
  private final CaptureMetrics metrics;
  private final Map<String, byte[]> firstNameOfInode = new HashMap<>();
  private final List<byte[]> dirs = new ArrayList<>();
  private final List<byte[]> files = new ArrayList<>();
  private long entries;
  private long bytes;
  private long totalEntries;
  private long totalBytes;
  private long started;
  private long lastPrint;

  private Bootstrap(JournalWriter journal, int root, PrintStream progress, CaptureMetrics m) {
    this.journal = journal;
    this.store = new StoreOps(journal, root);
    this.root = root;
    this.progress = progress;
    this.metrics = m;
  }

  /** What a bootstrap recorded. */
  public record Result(long entries, long bytes) {}

  /** True when the store root holds no entries. */
  public static boolean isEmpty(int root) throws PosixException {
    return Posix.list(root).isEmpty();
  }

  /** True when a bootstrap into this journal started and did not finish. */
  public static boolean incomplete(Path journalDir) {
    return Files.exists(journalDir.resolve(MARKER));
  }

  /**
   * Records the whole store. {@code progress} (may be null) gets a line updated in place.
   *
   * @throws IOException on a store or journal failure (the marker stays: see the class comment)
   */
  public static Result run(
      JournalWriter journal, int root, PrintStream progress, CaptureMetrics metrics)
      throws IOException {
    Path marker = journal.dir().resolve(MARKER);
    Files.write(marker, new byte[0]);
    Bootstrap b = new Bootstrap(journal, root, progress, metrics);
    Result r = b.record();
    journal.sync();
    Files.delete(marker);
    return r;
  }

  private Result record() throws PosixException {
    long[] count = new long[2];
    countTree(new byte[0], count, new java.util.HashSet<>());
    totalEntries = count[0];
    totalBytes = count[1];
    started = System.nanoTime();
    commit(List.of(draft(OpPaths.ROOT, new SnapshotBegin(totalEntries, totalBytes), null, null)));
    walk(new byte[0]);
    // Times last: files, then directories deepest first (a directory's mtime must be set after
    // every entry inside it was recorded).
    for (byte[] f : files) {
      setattr(f);
    }
    dirs.sort((a, b) -> Integer.compare(depth(b), depth(a)));
    for (byte[] d : dirs) {
      setattr(d);
    }
    setattr(OpPaths.ROOT);
    commit(List.of(draft(OpPaths.ROOT, new SnapshotEnd(entries, bytes), null, null)));
    metrics.capturedOther(OpKind.SNAPSHOT_BEGIN, 1);
    metrics.capturedOther(OpKind.SNAPSHOT_END, 1);
    print(true);
    return new Result(entries, bytes);
  }

  private static int depth(byte[] p) {
    int d = 0;
    for (byte b : p) {
      if (b == '/') {
        d++;
      }
    }
    return p.length == 0 ? -1 : d;
  }

  private void countTree(byte[] rel, long[] count, java.util.Set<String> linked)
      throws PosixException {
    for (DirEntry e : list(rel)) {
      byte[] p = rel.length == 0 ? e.name() : OpPaths.child(rel, e.name());
      Stat s = Posix.stat(root, p, false);
      count[0]++;
      // A hard-linked file's content is recorded once, under its first name.
      if (s.isRegular() && (s.nlink() == 1 || linked.add(s.dev() + ":" + s.ino()))) {
        count[1] += s.size();
      } else if (s.isDirectory()) {
        countTree(p, count, linked);
      }
    }
  }

  private List<DirEntry> list(byte[] rel) throws PosixException {
    if (rel.length == 0) {
      return Posix.list(root);
    }
    int fd = Posix.openat(root, rel, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
    try {
      return Posix.list(fd);
    } finally {
      Posix.closeQuietly(fd);
    }
  }

  private void walk(byte[] rel) throws PosixException {
    for (DirEntry e : list(rel)) {
      byte[] p = rel.length == 0 ? e.name() : OpPaths.child(rel, e.name());
      Stat s = Posix.stat(root, p, false);
      String key = s.dev() + ":" + s.ino();
      // Any non-directory can have further names (a hard-linked device node in a chroot's /dev).
      boolean linkable = !s.isDirectory() && s.nlink() > 1;
      byte[] first = linkable ? firstNameOfInode.get(key) : null;
      if (first != null) {
        // A further name of a file recorded already: a link (times come last, with setattr).
        commit(List.of(draft(first, new Link(ByteBuffer.wrap(p), null), null, null)));
        metrics.capturedOther(OpKind.LINK, 1);
        entries++;
        print(false);
        continue;
      }
      Object body = store.entryBody(p, s, null);
      if (body == null) {
        LOG.warn(
            "bootstrap skips {}: file type {} is not one tfs records",
            OpPaths.display(p),
            Integer.toOctalString(s.type()));
        print(false);
        continue;
      }
      commit(List.of(draft(p, body, null, null)));
      if (linkable) {
        firstNameOfInode.put(key, p);
      }
      if (s.isRegular()) {
        content(p, s);
      }
      xattrs(p);
      entries++;
      if (s.isDirectory()) {
        dirs.add(p);
        walk(p);
      } else {
        files.add(p);
      }
      print(false);
    }
  }

  /** The file's data regions as write ops, then its size (a trailing hole stays a hole). */
  private void content(byte[] p, Stat s) throws PosixException {
    if (s.size() == 0) {
      return;
    }
    int fd = Posix.openat(root, p, Flags.O_RDONLY | Flags.O_NOFOLLOW, 0);
    try {
      byte[] buf = new byte[CHUNK];
      long pos = 0;
      long end = 0;
      while (pos < s.size()) {
        long data = Posix.lseek(fd, pos, Flags.SEEK_DATA);
        if (data < 0) {
          break; // ENXIO: only a hole remains
        }
        long hole = Posix.lseek(fd, data, Flags.SEEK_HOLE);
        if (hole < 0) {
          hole = s.size();
        }
        for (long off = data; off < hole; ) {
          int n = Posix.pread(fd, buf, (int) Math.min(CHUNK, hole - off), off);
          if (n <= 0) {
            break;
          }
          commit(store.write(p, off, buf, 0, n, null));
          metrics.capturedOther(OpKind.WRITE, 1);
          off += n;
          bytes += n;
          end = off;
          print(false);
        }
        pos = hole;
      }
      if (end != s.size()) {
        commit(List.of(draft(p, new Truncate(s.size()), null, null)));
      }
    } catch (PosixException e) {
      if (e.is(Errno.EINVAL)) {
        throw new PosixException("lseek(SEEK_DATA)", Posix.show(p), Errno.EINVAL);
      }
      throw e;
    } finally {
      Posix.closeQuietly(fd);
    }
  }

  private void xattrs(byte[] p) throws PosixException {
    for (byte[] name : Posix.listxattr(root, p)) {
      byte[] v = Posix.getxattr(root, p, name);
      if (v != null) {
        commit(List.of(store.setXattr(p, name, v)));
      }
    }
  }

  /** The store's mode, owner and times of {@code p}. */
  private void setattr(byte[] p) throws PosixException {
    commit(List.of(store.setAttr(p, Posix.stat(root, p, false), AttrFields.ALL)));
  }

  private void commit(List<OpDraft> ops) {
    journal.commit(0, ops);
  }

  private void print(boolean last) {
    if (progress == null) {
      return;
    }
    long t = System.nanoTime();
    if (!last && t - lastPrint < 250_000_000L) {
      return;
    }
    lastPrint = t;
    double secs = Math.max(1e-3, (t - started) / 1e9);
    progress.printf(
        "\rtfs-capture: bootstrap %d/%d entries, %d/%d MiB, %.1f MiB/s%s",
        entries,
        totalEntries,
        bytes >> 20,
        totalBytes >> 20,
        bytes / 1048576.0 / secs,
        last ? "\n" : "");
    progress.flush();
  }
}
