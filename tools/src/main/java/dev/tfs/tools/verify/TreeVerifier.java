package dev.tfs.tools.verify;

import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * Compares two directory trees the way a tfs mirror must equal its source (guarantee G4): the same
 * names (byte for byte), and for each entry the same file type, permission bits, owner, mtime,
 * content, symlink target, device number and xattrs, and the same hard-link groups. Access times
 * are never compared (reading changes them). Symlinks are never followed.
 *
 * <p>A char or block device that is in the source but not in the mirror is what a mirror with
 * {@code tfs.special.files=skip} (the sink's default) leaves: it is reported in its own category,
 * {@link Result#skippedDevices()}, as {@value #SKIPPED_DEVICE}, and counts as a difference unless
 * {@link Options#withSkippedDevicesAccepted} treats it as identical.
 *
 * <p>The comparison is read-only. It walks depth first with an explicit stack (any depth), merging
 * the two sorted listings of one directory at a time, and compares file contents in 1 MiB chunks on
 * a worker pool (one thread per core) while the walk goes on. Memory is bounded independent of the
 * tree's size and depth except for: the listings of the directories on the current path (for one
 * huge directory, proportional to its entry count, about 100 bytes an entry), the frames of the
 * path (a few dozen bytes a level), and the hard-link map (one entry per multiply-linked file).
 * Open fds are bounded too: deep frames give theirs back and reopen from an ancestor when needed.
 *
 * <p>A failure that stops the comparison (an unreadable directory, an I/O error) is thrown, never
 * reported as a difference.
 */
public final class TreeVerifier {
  private static final byte[] EMPTY = new byte[0];

  /** What a device node only in the source is reported as. */
  public static final String SKIPPED_DEVICE =
      "device node skipped by the mirror's policy (tfs.special.files=skip)";

  /**
   * What to compare.
   *
   * @param skippedDevicesAccepted device nodes in the source that the mirror lacks (a sink with
   *     {@code tfs.special.files=skip}) count as identical; they are still listed in {@link
   *     Result#skippedDevices()}
   */
  public record Options(
      boolean times,
      boolean owners,
      boolean rootAttributes,
      List<String> ignoredXattrPrefixes,
      Set<String> excluded,
      boolean skippedDevicesAccepted) {
    public Options {
      ignoredXattrPrefixes = List.copyOf(ignoredXattrPrefixes);
      excluded = Set.copyOf(excluded);
    }

    /** Skipped device nodes count as differences. */
    public Options(
        boolean times,
        boolean owners,
        boolean rootAttributes,
        List<String> ignoredXattrPrefixes,
        Set<String> excluded) {
      this(times, owners, rootAttributes, ignoredXattrPrefixes, excluded, false);
    }

    /**
     * True: a device node in the source that the mirror lacks is treated as identical (the mirror
     * skips device nodes by policy); false (the default): it is a difference.
     */
    public Options withSkippedDevicesAccepted(boolean on) {
      return new Options(times, owners, rootAttributes, ignoredXattrPrefixes, excluded, on);
    }

    /** Everything, as G4 requires; {@code security.} xattrs (set by LSMs per host) ignored. */
    public static Options all() {
      return new Options(true, true, true, List.of("security."), Set.of());
    }

    public Options withTimes(boolean on) {
      return new Options(
          on, owners, rootAttributes, ignoredXattrPrefixes, excluded, skippedDevicesAccepted);
    }

    public Options withOwners(boolean on) {
      return new Options(
          times, on, rootAttributes, ignoredXattrPrefixes, excluded, skippedDevicesAccepted);
    }

    public Options withRootAttributes(boolean on) {
      return new Options(times, owners, on, ignoredXattrPrefixes, excluded, skippedDevicesAccepted);
    }

    /**
     * Leaves out these entries (relative paths in their printable form, e.g. {@code repo/.git}) and
     * everything below them, on both sides.
     */
    public Options withExcluded(String... relativePaths) {
      return new Options(
          times,
          owners,
          rootAttributes,
          ignoredXattrPrefixes,
          Set.of(relativePaths),
          skippedDevicesAccepted);
    }
  }

  /** One difference, on the path (printable form) where it was found. */
  public record Difference(String path, String what) {
    @Override
    public String toString() {
      return path + ": " + what;
    }
  }

  /**
   * One directory on the walker's path: its name in the parent, both sides' sorted listings and
   * where the merge of the two stands. The stack of frames is the only per-level state.
   */
  static final class Frame {
    final Frame parent;
    final byte[] name;
    final int depth;
    final long inoA;
    final long inoB;
    final DirEntry[] listA;
    final DirEntry[] listB;
    int i;
    int j;
    // Null while a deep, non-anchor frame has released its fds for its subtree (see walk()).
    DirPair dirs;

    Frame(Frame parent, byte[] name, long inoA, long inoB, DirPair dirs) throws PosixException {
      this.parent = parent;
      this.name = name;
      this.depth = parent == null ? 0 : parent.depth + 1;
      this.inoA = inoA;
      this.inoB = inoB;
      this.dirs = dirs;
      this.listA = sorted(Posix.list(dirs.a));
      this.listB = sorted(Posix.list(dirs.b));
    }

    boolean done() {
      return i >= listA.length && j >= listB.length;
    }

    /** The relative path of {@code child} (empty: this directory), raw bytes; built on demand. */
    byte[] path(byte[] child) {
      int len = child.length;
      int parts = child.length > 0 ? 1 : 0;
      for (Frame f = this; f.parent != null; f = f.parent) {
        len += f.name.length;
        parts++;
      }
      byte[] out = new byte[Math.max(0, len + parts - 1)];
      int end = out.length;
      if (child.length > 0) {
        end -= child.length;
        System.arraycopy(child, 0, out, end, child.length);
      }
      for (Frame f = this; f.parent != null; f = f.parent) {
        if (end < out.length) {
          out[--end] = '/';
        }
        end -= f.name.length;
        System.arraycopy(f.name, 0, out, end, f.name.length);
      }
      return out;
    }

    String show(byte[] child) {
      byte[] p = path(child);
      return p.length == 0 ? "(root)" : Posix.show(p);
    }
  }

  // Frames this deep or shallower keep their fds while their subtree is walked; deeper ones keep
  // them only every ANCHOR_EVERY levels, so a tree of any depth needs a bounded number of fds.
  private static final int FD_DEPTH = 128;
  private static final int ANCHOR_EVERY = 64;
  private static final int DIR_OPEN = Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW;

  private final Options options;
  private final int maxDifferences;
  private final int workers;
  private final List<Difference> differences = new ArrayList<>();
  private long differenceCount;
  private final List<Difference> skippedDevices = new ArrayList<>();
  private long skippedDeviceCount;
  private long entries;
  private final LongAdder bytes = new LongAdder();
  // Hard-link groups: inode -> sorted paths, for each side, of entries with nlink > 1.
  private final Map<Long, Set<String>> linksA = new HashMap<>();
  private final Map<Long, Set<String>> linksB = new HashMap<>();

  public TreeVerifier(Options options, int maxDifferences) {
    this(options, maxDifferences, Runtime.getRuntime().availableProcessors());
  }

  /** With an explicit number of content-comparing worker threads (at least 1). */
  TreeVerifier(Options options, int maxDifferences, int workers) {
    this.options = options;
    this.maxDifferences = maxDifferences;
    this.workers = Math.max(1, workers);
  }

  /**
   * The outcome of one comparison.
   *
   * @param differences the differences found (at most the verifier's limit), skipped device nodes
   *     not among them
   * @param differenceCount every difference, including the skipped device nodes unless {@link
   *     Options#skippedDevicesAccepted()}
   * @param skippedDevices device nodes in the source that the mirror lacks ({@value
   *     #SKIPPED_DEVICE}), at most the verifier's limit
   * @param skippedDeviceCount all of them
   * @param skippedDevicesAccepted whether they were treated as identical
   */
  public record Result(
      List<Difference> differences,
      long differenceCount,
      long entries,
      long bytes,
      List<Difference> skippedDevices,
      long skippedDeviceCount,
      boolean skippedDevicesAccepted) {
    public Result {
      differences = List.copyOf(differences);
      skippedDevices = List.copyOf(skippedDevices);
    }

    /** A result without skipped device nodes. */
    public Result(List<Difference> differences, long differenceCount, long entries, long bytes) {
      this(differences, differenceCount, entries, bytes, List.of(), 0, false);
    }

    public boolean identical() {
      return differenceCount == 0;
    }

    /** The differences other than skipped device nodes, listed or not. */
    public long otherDifferenceCount() {
      return differenceCount - (skippedDevicesAccepted ? 0 : skippedDeviceCount);
    }
  }

  /** Compares the trees under {@code a} (the source) and {@code b} (the mirror). */
  public static Result compare(Path a, Path b, Options options) throws PosixException {
    return new TreeVerifier(options, 1000).run(a, b);
  }

  /**
   * Runs the comparison; a verifier is used once. Throws when the comparison cannot finish (an
   * unreadable directory, an I/O error): that is not a difference.
   */
  public Result run(Path a, Path b) throws PosixException {
    int fa = Posix.openDirectory(a);
    int fb;
    try {
      fb = Posix.openDirectory(b);
    } catch (PosixException e) {
      Posix.closeQuietly(fa);
      throw e;
    }
    DirPair root = new DirPair(fa, fb);
    try (ContentComparer content = new ContentComparer(this::differ, bytes, workers)) {
      Stat sa = Posix.stat(fa, EMPTY, false);
      Stat sb = Posix.stat(fb, EMPTY, false);
      Frame top = new Frame(null, EMPTY, sa.ino(), sb.ino(), root);
      if (options.rootAttributes()) {
        compareAttributes(top, EMPTY, sa, sb);
      }
      compareXattrs(top, EMPTY, fa, fb);
      walk(top, content);
      content.finish();
    } finally {
      root.release();
    }
    compareLinkGroups();
    synchronized (this) {
      return new Result(
          differences,
          differenceCount,
          entries,
          bytes.sum(),
          skippedDevices,
          skippedDeviceCount,
          options.skippedDevicesAccepted());
    }
  }

  private synchronized void differ(Frame dir, byte[] name, String what) {
    differenceCount++;
    if (differences.size() < maxDifferences) {
      differences.add(new Difference(dir.show(name), what));
    }
  }

  /** A device node only in the source: what a mirror with tfs.special.files=skip leaves out. */
  private synchronized void skippedDevice(Frame dir, byte[] name) {
    skippedDeviceCount++;
    if (!options.skippedDevicesAccepted()) {
      differenceCount++;
    }
    if (skippedDevices.size() < maxDifferences) {
      skippedDevices.add(new Difference(dir.show(name), SKIPPED_DEVICE));
    }
  }

  private synchronized void differ(String path, String what) {
    differenceCount++;
    if (differences.size() < maxDifferences) {
      differences.add(new Difference(path, what));
    }
  }

  /**
   * Depth first, with an explicit stack (no recursion): at each step the two sorted listings of the
   * top frame are merged by one name. Memory: the listings of the directories on the current path
   * (so proportional to the largest directories met on one path, not to the tree), the hard-link
   * map, and a bounded queue of content comparisons.
   */
  private void walk(Frame top, ContentComparer content) throws PosixException {
    ArrayList<Frame> stack = new ArrayList<>();
    stack.add(top);
    try {
      while (!stack.isEmpty()) {
        Frame f = stack.get(stack.size() - 1);
        if (f.done()) {
          stack.remove(stack.size() - 1);
          if (f.dirs != null && f != top) {
            f.dirs.release();
          }
          f.dirs = null;
          continue;
        }
        if (f.dirs == null && !reopen(stack)) {
          continue;
        }
        int c;
        if (f.i >= f.listA.length) {
          c = 1;
        } else if (f.j >= f.listB.length) {
          c = -1;
        } else {
          c = Arrays.compareUnsigned(f.listA[f.i].name(), f.listB[f.j].name());
        }
        if (c < 0) {
          DirEntry e = f.listA[f.i++];
          byte[] name = e.name();
          if (excluded(f, name)) {
            continue;
          }
          if (isDevice(f, e)) {
            skippedDevice(f, name);
          } else {
            differ(f, name, "only in source");
          }
          continue;
        }
        if (c > 0) {
          byte[] name = f.listB[f.j++].name();
          if (!excluded(f, name)) {
            differ(f, name, "only in mirror");
          }
          continue;
        }
        byte[] name = f.listA[f.i++].name();
        f.j++;
        if (excluded(f, name)) {
          continue;
        }
        Frame child = compareEntry(f, name, content);
        if (child != null) {
          if (f.depth > FD_DEPTH && f.depth % ANCHOR_EVERY != 0) {
            f.dirs.release();
            f.dirs = null;
          }
          stack.add(child);
        }
      }
    } finally {
      for (Frame f : stack) {
        if (f.dirs != null && f != top) {
          f.dirs.release();
        }
      }
    }
  }

  /**
   * Reopens the top frame's directories from the nearest ancestor still holding fds, one component
   * at a time without following symlinks. False (with a difference) when a directory on the way was
   * replaced during the comparison; the rest of that directory is then skipped.
   */
  private boolean reopen(List<Frame> stack) throws PosixException {
    int k = stack.size() - 1;
    while (stack.get(k).dirs == null) {
      k--;
    }
    int a = stack.get(k).dirs.a;
    int b = stack.get(k).dirs.b;
    boolean ownA = false;
    boolean ownB = false;
    try {
      for (int n = k + 1; n < stack.size(); n++) {
        Frame g = stack.get(n);
        int na = Posix.openat(a, g.name, DIR_OPEN, 0);
        if (ownA) {
          Posix.closeQuietly(a);
        }
        a = na;
        ownA = true;
        int nb = Posix.openat(b, g.name, DIR_OPEN, 0);
        if (ownB) {
          Posix.closeQuietly(b);
        }
        b = nb;
        ownB = true;
        if (Posix.stat(a, EMPTY, false).ino() != g.inoA
            || Posix.stat(b, EMPTY, false).ino() != g.inoB) {
          throw new PosixException("reopen", g.show(EMPTY), dev.tfs.posix.Errno.ENOENT);
        }
      }
    } catch (PosixException e) {
      if (ownA) {
        Posix.closeQuietly(a);
      }
      if (ownB) {
        Posix.closeQuietly(b);
      }
      Frame f = stack.get(stack.size() - 1);
      differ(f, EMPTY, "directory replaced during the comparison");
      f.i = f.listA.length;
      f.j = f.listB.length;
      return false;
    }
    stack.get(stack.size() - 1).dirs = new DirPair(a, b);
    return true;
  }

  /** True when the source entry {@code e} of {@code f} is a char or block device. */
  private static boolean isDevice(Frame f, DirEntry e) throws PosixException {
    if (e.type() != DirEntry.DT_UNKNOWN) {
      return e.type() == DirEntry.DT_CHR || e.type() == DirEntry.DT_BLK;
    }
    Stat s = Posix.statOrNull(f.dirs.a, e.name(), false);
    return s != null && (s.type() == Flags.S_IFCHR || s.type() == Flags.S_IFBLK);
  }

  private boolean excluded(Frame f, byte[] name) {
    return !options.excluded().isEmpty() && options.excluded().contains(Posix.show(f.path(name)));
  }

  /** Compares one entry present on both sides; returns the frame to descend into, if any. */
  private Frame compareEntry(Frame f, byte[] name, ContentComparer content) throws PosixException {
    entries++;
    int da = f.dirs.a;
    int db = f.dirs.b;
    Stat sa = Posix.statOrNull(da, name, false);
    Stat sb = Posix.statOrNull(db, name, false);
    if (sa == null || sb == null) {
      differ(f, name, "vanished during the comparison");
      return null;
    }
    if (sa.type() != sb.type()) {
      differ(f, name, "type " + typeName(sa) + " in source, " + typeName(sb) + " in mirror");
      return null;
    }
    compareAttributes(f, name, sa, sb);
    compareXattrs(f, name, da, db);
    if (!sa.isDirectory() && sa.nlink() > 1) {
      linksA.computeIfAbsent(sa.ino(), k -> new TreeSet<>()).add(f.show(name));
    }
    if (!sb.isDirectory() && sb.nlink() > 1) {
      linksB.computeIfAbsent(sb.ino(), k -> new TreeSet<>()).add(f.show(name));
    }
    if (sa.isRegular()) {
      if (sa.size() == sb.size() && sa.size() > 0) {
        content.add(f, f.dirs, name, sa.size());
      }
    } else if (sa.isSymlink()) {
      byte[] ta = Posix.readlink(da, name);
      byte[] tb = Posix.readlink(db, name);
      if (!Arrays.equals(ta, tb)) {
        differ(
            f,
            name,
            "symlink target " + Posix.show(ta) + " in source, " + Posix.show(tb) + " in mirror");
      }
    } else if ((sa.type() == Flags.S_IFCHR || sa.type() == Flags.S_IFBLK)
        && sa.rdev() != sb.rdev()) {
      differ(
          f,
          name,
          "device number "
              + sa.rdevMajor()
              + ":"
              + sa.rdevMinor()
              + " in source, "
              + sb.rdevMajor()
              + ":"
              + sb.rdevMinor()
              + " in mirror");
    } else if (sa.isDirectory()) {
      int ca = Posix.openat(da, name, DIR_OPEN, 0);
      int cb;
      try {
        cb = Posix.openat(db, name, DIR_OPEN, 0);
      } catch (PosixException e) {
        Posix.closeQuietly(ca);
        throw e;
      }
      DirPair pair = new DirPair(ca, cb);
      try {
        return new Frame(f, name, sa.ino(), sb.ino(), pair);
      } catch (PosixException | RuntimeException e) {
        pair.release();
        throw e;
      }
    }
    return null;
  }

  private void compareAttributes(Frame f, byte[] name, Stat sa, Stat sb) {
    if (sa.permissions() != sb.permissions() && !sa.isSymlink()) {
      differ(
          f,
          name,
          String.format("mode %04o in source, %04o in mirror", sa.permissions(), sb.permissions()));
    }
    if (options.owners() && (sa.uid() != sb.uid() || sa.gid() != sb.gid())) {
      differ(
          f,
          name,
          "owner "
              + sa.uid()
              + ":"
              + sa.gid()
              + " in source, "
              + sb.uid()
              + ":"
              + sb.gid()
              + " in mirror");
    }
    if (options.times() && sa.mtimeNs() != sb.mtimeNs()) {
      differ(f, name, "mtime " + sa.mtimeNs() + " in source, " + sb.mtimeNs() + " in mirror");
    }
    if (sa.isRegular() && sa.size() != sb.size()) {
      differ(f, name, "size " + sa.size() + " in source, " + sb.size() + " in mirror");
    }
  }

  private void compareXattrs(Frame f, byte[] name, int da, int db) throws PosixException {
    if (!f.dirs.mayHaveXattrs(true, name) && !f.dirs.mayHaveXattrs(false, name)) {
      return; // the common case, two cheap calls
    }
    List<byte[]> la = Posix.listxattr(da, name);
    List<byte[]> lb = Posix.listxattr(db, name);
    if (la.isEmpty() && lb.isEmpty()) {
      return; // only ignored names
    }
    NavigableMap<byte[], byte[]> xa = xattrs(da, name, la);
    NavigableMap<byte[], byte[]> xb = xattrs(db, name, lb);
    for (Map.Entry<byte[], byte[]> e : xa.entrySet()) {
      byte[] other = xb.get(e.getKey());
      if (other == null) {
        differ(f, name, "xattr " + Posix.show(e.getKey()) + " only in source");
      } else if (!Arrays.equals(other, e.getValue())) {
        differ(f, name, "xattr " + Posix.show(e.getKey()) + " differs");
      }
    }
    for (byte[] k : xb.keySet()) {
      if (!xa.containsKey(k)) {
        differ(f, name, "xattr " + Posix.show(k) + " only in mirror");
      }
    }
  }

  private NavigableMap<byte[], byte[]> xattrs(int dir, byte[] name, List<byte[]> names)
      throws PosixException {
    TreeMap<byte[], byte[]> out = new TreeMap<>(Arrays::compareUnsigned);
    for (byte[] attr : names) {
      String a = new String(attr, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (options.ignoredXattrPrefixes().stream().anyMatch(a::startsWith)) {
        continue;
      }
      byte[] v = Posix.getxattr(dir, name, attr);
      if (v != null) {
        out.put(attr, v);
      }
    }
    return out;
  }

  private void compareLinkGroups() {
    Set<Set<String>> groupsA = new java.util.HashSet<>(linksA.values());
    Set<Set<String>> groupsB = new java.util.HashSet<>(linksB.values());
    for (Set<String> g : groupsA) {
      if (g.size() > 1 && !groupsB.contains(g)) {
        differ(
            g.iterator().next(), "hard-link group " + g + " in source is not one group in mirror");
      }
    }
    for (Set<String> g : groupsB) {
      if (g.size() > 1 && !groupsA.contains(g)) {
        differ(
            g.iterator().next(), "hard-link group " + g + " in mirror is not one group in source");
      }
    }
  }

  private static DirEntry[] sorted(List<DirEntry> list) {
    DirEntry[] out = list.toArray(new DirEntry[0]);
    Arrays.sort(out, (x, y) -> Arrays.compareUnsigned(x.name(), y.name()));
    return out;
  }

  private static String typeName(Stat s) {
    switch (s.type()) {
      case Flags.S_IFREG:
        return "file";
      case Flags.S_IFDIR:
        return "directory";
      case Flags.S_IFLNK:
        return "symlink";
      case Flags.S_IFIFO:
        return "fifo";
      case Flags.S_IFSOCK:
        return "socket";
      case Flags.S_IFCHR:
        return "char device";
      case Flags.S_IFBLK:
        return "block device";
      default:
        return "type " + Integer.toOctalString(s.type());
    }
  }
}
