package dev.tfs.sink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * The names of the device nodes a mirror holds no node for ({@code tfs.special.files=skip}), so
 * that later ops on those names follow the skip instead of finding the name missing: an unlink
 * drops the name, a rename moves it (a directory's rename moves every skipped name beneath it), a
 * link adds the new name, attribute and xattr changes of a skipped name are no-ops.
 *
 * <p>Durable when it has a file (the sink task's {@code <connector>-<roothash>.skipped} beside the
 * state): every change is written before {@link MirrorApplier#apply} returns (temp file, fsync,
 * atomic rename, fsync of the directory), so the set is never behind the mirror state, and at most
 * the one op the state has not recorded yet is ahead; each change is idempotent under that one
 * re-application (G3). File format: {@code "TFSK"}, format 1, count, then per name a length and its
 * raw bytes, then a CRC-32C of everything before it (all little-endian). Device nodes are few (a
 * container root file system has a few dozen), so the whole set is rewritten per change.
 *
 * <p>Not thread-safe: owned by one {@link MirrorApplier}.
 */
public final class SkippedNodes {
  private static final int MAGIC = 0x4b534654; // "TFSK" little-endian
  private static final int FORMAT = 1;

  private final Path file;
  private final NavigableSet<byte[]> names = new TreeSet<>(Arrays::compareUnsigned);
  private boolean dirty;

  private SkippedNodes(Path file) {
    this.file = file;
  }

  /** A set that lives only as long as its applier (tests, replays into a scratch directory). */
  public static SkippedNodes inMemory() {
    return new SkippedNodes(null);
  }

  /**
   * The set recorded in {@code file}; empty when the file does not exist. {@code fresh}: the mirror
   * starts empty (its state is new), so a file left by an earlier mirror of that root is deleted.
   *
   * @throws IOException when the file cannot be read or is damaged (the message says what to do)
   */
  public static SkippedNodes open(Path file, boolean fresh) throws IOException {
    SkippedNodes s = new SkippedNodes(file);
    if (fresh) {
      Files.deleteIfExists(file);
      return s;
    }
    if (!Files.exists(file)) {
      return s;
    }
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    try {
      if (b.remaining() < 16 || b.getInt() != MAGIC || b.getInt() != FORMAT) {
        throw damaged(file, "not a tfs skipped-nodes file");
      }
      int count = b.getInt();
      for (int i = 0; i < count; i++) {
        int len = b.getInt();
        if (len <= 0 || len > b.remaining()) {
          throw damaged(file, "name " + i + " has length " + len);
        }
        byte[] name = new byte[len];
        b.get(name);
        s.names.add(name);
      }
      int end = b.position();
      int crc = b.getInt();
      CRC32C c = new CRC32C();
      c.update(b.array(), 0, end);
      if ((int) c.getValue() != crc) {
        throw damaged(file, "checksum mismatch");
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw damaged(file, "truncated");
    }
    return s;
  }

  private static IOException damaged(Path file, String why) {
    return new IOException(
        "the list of device nodes this mirror skipped, "
            + file
            + ", is damaged ("
            + why
            + "): without it later ops on those names cannot be told from divergence. Rebuild the"
            + " mirror into a new empty tfs.mirror.root");
  }

  /** True when {@code path} names a skipped device node. */
  public boolean contains(byte[] path) {
    return names.contains(path);
  }

  /** How many names of skipped device nodes the mirror holds now. */
  public int size() {
    return names.size();
  }

  /** The skipped names, in unsigned byte order (copies). */
  public List<byte[]> names() {
    List<byte[]> out = new ArrayList<>(names.size());
    for (byte[] n : names) {
      out.add(n.clone());
    }
    return out;
  }

  /** Adds {@code path}; true when it was not skipped yet. */
  boolean add(byte[] path) {
    boolean added = names.add(path.clone());
    dirty |= added;
    return added;
  }

  /** Drops {@code path}; true when it was skipped. */
  boolean remove(byte[] path) {
    boolean removed = names.remove(path);
    dirty |= removed;
    return removed;
  }

  /** Drops every skipped name beneath the directory {@code dir} (not {@code dir} itself). */
  void removeBeneath(byte[] dir) {
    NavigableSet<byte[]> sub = beneath(dir);
    if (!sub.isEmpty()) {
      sub.clear();
      dirty = true;
    }
  }

  /**
   * A rename from {@code from} to {@code to} that took effect: whatever was skipped at or beneath
   * {@code to} was replaced, and what was skipped at or beneath {@code from} is now at or beneath
   * {@code to}.
   */
  void renamed(byte[] from, byte[] to) {
    remove(to);
    removeBeneath(to);
    List<byte[]> moved = new ArrayList<>();
    if (remove(from)) {
      moved.add(to);
    }
    NavigableSet<byte[]> sub = beneath(from);
    for (byte[] n : sub) {
      byte[] m = new byte[to.length + n.length - from.length];
      System.arraycopy(to, 0, m, 0, to.length);
      System.arraycopy(n, from.length, m, to.length, n.length - from.length);
      moved.add(m);
    }
    if (!sub.isEmpty()) {
      sub.clear();
      dirty = true;
    }
    for (byte[] m : moved) {
      add(m);
    }
  }

  /** The names strictly beneath {@code dir}: {@code [dir + "/", dir + "0")} ('0' follows '/'). */
  private NavigableSet<byte[]> beneath(byte[] dir) {
    byte[] lo = Arrays.copyOf(dir, dir.length + 1);
    lo[dir.length] = '/';
    byte[] hi = lo.clone();
    hi[dir.length] = '/' + 1;
    return names.subSet(lo, true, hi, false);
  }

  /** Writes the set when it changed since the last save (no-op for an in-memory set). */
  void save() throws IOException {
    if (!dirty || file == null) {
      dirty = false;
      return;
    }
    int size = 16;
    for (byte[] n : names) {
      size += 4 + n.length;
    }
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).putInt(FORMAT).putInt(names.size());
    for (byte[] n : names) {
      b.putInt(n.length).put(n);
    }
    CRC32C c = new CRC32C();
    c.update(b.array(), 0, b.position());
    b.putInt((int) c.getValue());
    b.flip();
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
    dirty = false;
  }
}
