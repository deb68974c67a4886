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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares two directory trees the way a tfs mirror must equal its source (guarantee G4): the same
 * names (byte for byte), and for each entry the same file type, permission bits, owner, mtime,
 * content, symlink target and xattrs, and the same hard-link groups. Access times are never
 * compared (reading changes them). Symlinks are never followed.
 *
 * <p>The comparison is read-only and streams file contents in 1 MiB chunks, so it handles trees of
 * any size in bounded memory apart from the hard-link map (one entry per multiply-linked file).
 */
public final class TreeVerifier {
  private static final int CHUNK = 1 << 20;

  /** What to compare. */
  public record Options(
      boolean times,
      boolean owners,
      boolean rootAttributes,
      List<String> ignoredXattrPrefixes,
      Set<String> excluded) {
    public Options {
      ignoredXattrPrefixes = List.copyOf(ignoredXattrPrefixes);
      excluded = Set.copyOf(excluded);
    }

    /** Everything, as G4 requires; {@code security.} xattrs (set by LSMs per host) ignored. */
    public static Options all() {
      return new Options(true, true, true, List.of("security."), Set.of());
    }

    public Options withTimes(boolean on) {
      return new Options(on, owners, rootAttributes, ignoredXattrPrefixes, excluded);
    }

    public Options withOwners(boolean on) {
      return new Options(times, on, rootAttributes, ignoredXattrPrefixes, excluded);
    }

    public Options withRootAttributes(boolean on) {
      return new Options(times, owners, on, ignoredXattrPrefixes, excluded);
    }

    /**
     * Leaves out these entries (relative paths in their printable form, e.g. {@code repo/.git}) and
     * everything below them, on both sides.
     */
    public Options withExcluded(String... relativePaths) {
      return new Options(
          times, owners, rootAttributes, ignoredXattrPrefixes, Set.of(relativePaths));
    }
  }

  /** One difference, on the path (printable form) where it was found. */
  public record Difference(String path, String what) {
    @Override
    public String toString() {
      return path + ": " + what;
    }
  }

  private final Options options;
  private final int maxDifferences;
  private final List<Difference> differences = new ArrayList<>();
  private long differenceCount;
  private long entries;
  private long bytes;
  // Hard-link groups: inode -> sorted paths, for each side, of entries with nlink > 1.
  private final Map<Long, Set<String>> linksA = new HashMap<>();
  private final Map<Long, Set<String>> linksB = new HashMap<>();

  public TreeVerifier(Options options, int maxDifferences) {
    this.options = options;
    this.maxDifferences = maxDifferences;
  }

  /** The outcome of one comparison. */
  public record Result(
      List<Difference> differences, long differenceCount, long entries, long bytes) {
    public boolean identical() {
      return differenceCount == 0;
    }
  }

  /** Compares the trees under {@code a} (the source) and {@code b} (the mirror). */
  public static Result compare(Path a, Path b, Options options) throws PosixException {
    return new TreeVerifier(options, 1000).run(a, b);
  }

  /** Runs the comparison; a verifier is used once. */
  public Result run(Path a, Path b) throws PosixException {
    int fa = Posix.openDirectory(a);
    try {
      int fb = Posix.openDirectory(b);
      try {
        Stat sa = Posix.stat(fa, new byte[0], false);
        Stat sb = Posix.stat(fb, new byte[0], false);
        if (options.rootAttributes()) {
          compareAttributes("(root)", sa, sb, fa, fb, new byte[0]);
        }
        compareXattrs("(root)", fa, fb, new byte[0]);
        compareDirectory(fa, fb, new byte[0]);
        compareLinkGroups();
        return new Result(List.copyOf(differences), differenceCount, entries, bytes);
      } finally {
        Posix.closeQuietly(fb);
      }
    } finally {
      Posix.closeQuietly(fa);
    }
  }

  private void differ(String path, String what) {
    differenceCount++;
    if (differences.size() < maxDifferences) {
      differences.add(new Difference(path, what));
    }
  }

  private static byte[] child(byte[] dir, byte[] name) {
    if (dir.length == 0) {
      return name;
    }
    byte[] out = Arrays.copyOf(dir, dir.length + 1 + name.length);
    out[dir.length] = '/';
    System.arraycopy(name, 0, out, dir.length + 1, name.length);
    return out;
  }

  private void compareDirectory(int da, int db, byte[] rel) throws PosixException {
    TreeMap<byte[], DirEntry> ea = index(Posix.list(da));
    TreeMap<byte[], DirEntry> eb = index(Posix.list(db));
    if (!options.excluded().isEmpty()) {
      ea.keySet().removeIf(name -> options.excluded().contains(Posix.show(child(rel, name))));
      eb.keySet().removeIf(name -> options.excluded().contains(Posix.show(child(rel, name))));
    }
    for (byte[] name : ea.keySet()) {
      if (!eb.containsKey(name)) {
        differ(Posix.show(child(rel, name)), "only in source");
      }
    }
    for (byte[] name : eb.keySet()) {
      if (!ea.containsKey(name)) {
        differ(Posix.show(child(rel, name)), "only in mirror");
      }
    }
    for (byte[] name : ea.keySet()) {
      if (!eb.containsKey(name)) {
        continue;
      }
      entries++;
      byte[] path = child(rel, name);
      String shown = Posix.show(path);
      Stat sa = Posix.statOrNull(da, name, false);
      Stat sb = Posix.statOrNull(db, name, false);
      if (sa == null || sb == null) {
        differ(shown, "vanished during the comparison");
        continue;
      }
      if (sa.type() != sb.type()) {
        differ(shown, "type " + typeName(sa) + " in source, " + typeName(sb) + " in mirror");
        continue;
      }
      compareAttributes(shown, sa, sb, da, db, name);
      compareXattrs(shown, da, db, name);
      if (!sa.isDirectory() && sa.nlink() > 1) {
        linksA.computeIfAbsent(sa.ino(), k -> new TreeSet<>()).add(shown);
      }
      if (!sb.isDirectory() && sb.nlink() > 1) {
        linksB.computeIfAbsent(sb.ino(), k -> new TreeSet<>()).add(shown);
      }
      if (sa.isRegular()) {
        compareContent(shown, da, db, name, sa, sb);
      } else if (sa.isSymlink()) {
        byte[] ta = Posix.readlink(da, name);
        byte[] tb = Posix.readlink(db, name);
        if (!Arrays.equals(ta, tb)) {
          differ(
              shown,
              "symlink target " + Posix.show(ta) + " in source, " + Posix.show(tb) + " in mirror");
        }
      } else if (sa.isDirectory()) {
        int ca = Posix.openat(da, name, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
        try {
          int cb = Posix.openat(db, name, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
          try {
            compareDirectory(ca, cb, path);
          } finally {
            Posix.closeQuietly(cb);
          }
        } finally {
          Posix.closeQuietly(ca);
        }
      }
    }
  }

  private void compareAttributes(String shown, Stat sa, Stat sb, int da, int db, byte[] name) {
    if (sa.permissions() != sb.permissions() && !sa.isSymlink()) {
      differ(
          shown,
          String.format("mode %04o in source, %04o in mirror", sa.permissions(), sb.permissions()));
    }
    if (options.owners() && (sa.uid() != sb.uid() || sa.gid() != sb.gid())) {
      differ(
          shown,
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
      differ(shown, "mtime " + sa.mtimeNs() + " in source, " + sb.mtimeNs() + " in mirror");
    }
    if (sa.isRegular() && sa.size() != sb.size()) {
      differ(shown, "size " + sa.size() + " in source, " + sb.size() + " in mirror");
    }
  }

  private void compareXattrs(String shown, int da, int db, byte[] name) throws PosixException {
    TreeMap<byte[], byte[]> xa = xattrs(da, name);
    TreeMap<byte[], byte[]> xb = xattrs(db, name);
    for (Map.Entry<byte[], byte[]> e : xa.entrySet()) {
      byte[] other = xb.get(e.getKey());
      if (other == null) {
        differ(shown, "xattr " + Posix.show(e.getKey()) + " only in source");
      } else if (!Arrays.equals(other, e.getValue())) {
        differ(shown, "xattr " + Posix.show(e.getKey()) + " differs");
      }
    }
    for (byte[] k : xb.keySet()) {
      if (!xa.containsKey(k)) {
        differ(shown, "xattr " + Posix.show(k) + " only in mirror");
      }
    }
  }

  private TreeMap<byte[], byte[]> xattrs(int dir, byte[] name) throws PosixException {
    TreeMap<byte[], byte[]> out = new TreeMap<>(Arrays::compareUnsigned);
    for (byte[] attr : Posix.listxattr(dir, name)) {
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

  private void compareContent(String shown, int da, int db, byte[] name, Stat sa, Stat sb)
      throws PosixException {
    if (sa.size() != sb.size()) {
      return; // already reported
    }
    int fa = Posix.openat(da, name, Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK, 0);
    try {
      int fb = Posix.openat(db, name, Flags.O_RDONLY | Flags.O_NOFOLLOW | Flags.O_NONBLOCK, 0);
      try {
        byte[] ba = new byte[CHUNK];
        byte[] bb = new byte[CHUNK];
        long pos = 0;
        while (true) {
          // Short reads are allowed on either side: advance by what both returned.
          int na = Posix.pread(fa, ba, CHUNK, pos);
          int nb = Posix.pread(fb, bb, CHUNK, pos);
          int n = Math.min(na, nb);
          if (n == 0) {
            if (na != nb) {
              differ(shown, "content length differs (file changed during the comparison?)");
            }
            return;
          }
          int mismatch = Arrays.mismatch(ba, 0, n, bb, 0, n);
          if (mismatch >= 0) {
            differ(shown, "content differs at byte " + (pos + mismatch));
            return;
          }
          bytes += n;
          pos += n;
        }
      } finally {
        Posix.closeQuietly(fb);
      }
    } finally {
      Posix.closeQuietly(fa);
    }
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

  private static TreeMap<byte[], DirEntry> index(List<DirEntry> list) {
    TreeMap<byte[], DirEntry> out = new TreeMap<>(Arrays::compareUnsigned);
    for (DirEntry e : list) {
      out.put(e.name(), e);
    }
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
