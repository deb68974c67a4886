package dev.tfs.capture;

import dev.tfs.path.OpPaths;
import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A byte-exact description of a directory tree for comparisons: per entry its type, permission
 * bits, owner, size and content digest (with the sparse data map), symlink target, xattrs, mtime,
 * and which entries are hard links of one another.
 */
public final class TreeSnapshot {
  /** One entry. {@code mtimeNs} is compared only when {@link #compare} is told to. */
  public record Entry(
      String path,
      int type,
      int perms,
      int uid,
      int gid,
      long size,
      String content,
      String target,
      Map<String, String> xattrs,
      long mtimeNs,
      String linkGroup) {
    String describe(boolean withTime, long explicitBefore) {
      boolean t = withTime && mtimeNs < explicitBefore;
      return String.format(
          "type=%o perms=%o owner=%d:%d size=%d content=%s target=%s xattrs=%s%s links=%s",
          type,
          perms,
          uid,
          gid,
          size,
          content,
          target,
          xattrs,
          t ? " mtime=" + mtimeNs : "",
          linkGroup);
    }
  }

  public final Map<String, Entry> entries = new TreeMap<>();

  /** Reads {@code dir}; names that start with an entry of {@code skip} are left out. */
  public static TreeSnapshot of(Path dir, String... skip) throws IOException {
    TreeSnapshot s = new TreeSnapshot();
    int fd = Posix.openDirectory(dir);
    Map<String, List<String>> byInode = new TreeMap<>();
    try {
      s.walk(fd, new byte[0], byInode, skip);
    } finally {
      Posix.closeQuietly(fd);
    }
    // Hard-link groups: name every group by its first path, so two trees compare equal when the
    // same names are linked together.
    Map<String, String> group = new TreeMap<>();
    for (List<String> names : byInode.values()) {
      if (names.size() > 1) {
        names.sort(null);
        for (String n : names) {
          group.put(n, names.get(0));
        }
      }
    }
    for (Map.Entry<String, Entry> e : s.entries.entrySet()) {
      Entry x = e.getValue();
      String g = group.get(e.getKey());
      if (g != null) {
        e.setValue(
            new Entry(
                x.path, x.type, x.perms, x.uid, x.gid, x.size, x.content, x.target, x.xattrs,
                x.mtimeNs, g));
      }
    }
    return s;
  }

  private void walk(int root, byte[] rel, Map<String, List<String>> byInode, String[] skip)
      throws IOException {
    int dir =
        rel.length == 0
            ? root
            : Posix.openat(root, rel, Flags.O_PATH | Flags.O_DIRECTORY | Flags.O_NOFOLLOW, 0);
    List<DirEntry> list;
    try {
      list = Posix.list(dir);
    } finally {
      if (dir != root) {
        Posix.closeQuietly(dir);
      }
    }
    for (DirEntry d : list) {
      byte[] p = rel.length == 0 ? d.name() : OpPaths.child(rel, d.name());
      String key = OpPaths.display(p);
      boolean skipped = false;
      for (String sk : skip) {
        skipped |= key.equals(sk) || key.startsWith(sk + "/");
      }
      if (skipped) {
        continue;
      }
      Stat st = Posix.stat(root, p, false);
      String content = null;
      String target = null;
      if (st.isRegular()) {
        content = digest(root, p, st.size());
        if (st.nlink() > 1) {
          byInode.computeIfAbsent(st.dev() + ":" + st.ino(), k -> new ArrayList<>()).add(key);
        }
      } else if (st.isSymlink()) {
        target = OpPaths.escape(Posix.readlink(root, p));
      }
      Map<String, String> x = new TreeMap<>();
      for (byte[] name : Posix.listxattr(root, p)) {
        String n = OpPaths.escape(name);
        if (n.startsWith("security.") || n.startsWith("system.")) {
          continue;
        }
        byte[] v = Posix.getxattr(root, p, name);
        x.put(n, v == null ? "null" : HexFormat.of().formatHex(v));
      }
      entries.put(
          key,
          new Entry(
              key,
              st.type(),
              st.isSymlink() ? 0 : st.permissions(),
              st.uid(),
              st.gid(),
              st.isDirectory() ? 0 : st.size(),
              content,
              target,
              x,
              st.mtimeNs(),
              null));
      if (st.isDirectory()) {
        walk(root, p, byInode, skip);
      }
    }
  }

  /** Content digest (a hole reads as zeros, so sparse and dense files with equal bytes match). */
  private static String digest(int root, byte[] p, long size) throws IOException {
    int fd = Posix.openat(root, p, Flags.O_RDONLY | Flags.O_NOFOLLOW, 0);
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      long off = 0;
      while (true) {
        int n = Posix.pread(fd, buf, buf.length, off);
        if (n <= 0) {
          break;
        }
        md.update(buf, 0, n);
        off += n;
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    } catch (PosixException e) {
      throw e;
    } finally {
      Posix.closeQuietly(fd);
    }
  }

  /**
   * Differences between two trees, one line per path ("" when equal). With {@code withTimes},
   * mtimes are compared for entries whose mtime (on either side) lies before {@code
   * explicitBefore}: those were set explicitly (touch -d, cp -a, tar x); times taken from the clock
   * differ between two runs of the same workload.
   */
  public static String diff(
      TreeSnapshot a, TreeSnapshot b, boolean withTimes, long explicitBefore) {
    StringBuilder sb = new StringBuilder();
    for (String k : union(a, b)) {
      Entry x = a.entries.get(k);
      Entry y = b.entries.get(k);
      if (x == null || y == null) {
        sb.append(k).append(": only in ").append(x == null ? "second" : "first").append('\n');
        continue;
      }
      long before = withTimes ? Math.max(explicitBefore, 0) : Long.MIN_VALUE;
      boolean timesMatter = withTimes && (x.mtimeNs < before || y.mtimeNs < before);
      String dx = x.describe(timesMatter, Long.MAX_VALUE);
      String dy = y.describe(timesMatter, Long.MAX_VALUE);
      if (!dx.equals(dy)) {
        sb.append(k).append(":\n  ").append(dx).append("\n  ").append(dy).append('\n');
      }
    }
    return sb.toString();
  }

  private static List<String> union(TreeSnapshot a, TreeSnapshot b) {
    java.util.TreeSet<String> s = new java.util.TreeSet<>(a.entries.keySet());
    s.addAll(b.entries.keySet());
    return new ArrayList<>(s);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Entry e : entries.values()) {
      sb.append(e.path).append(' ').append(e.describe(true, Long.MAX_VALUE)).append('\n');
    }
    return sb.toString();
  }

  static String hex(byte[] b) {
    return Arrays.toString(b);
  }
}
