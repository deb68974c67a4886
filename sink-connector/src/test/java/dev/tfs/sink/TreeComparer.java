package dev.tfs.sink;

import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Walks a tree with {@link Posix} (byte-exact names, no symlink followed) and describes every entry
 * by what G4 promises: type, permission bits, uid/gid, mtime, size and content digest, symlink
 * target, hard-link group and xattrs. Two trees are equal when their descriptions are.
 */
final class TreeComparer {
  private TreeComparer() {}

  /** Path (escaped) to description, sorted. */
  static Map<String, String> describe(Path root) throws Exception {
    return describe(root, true);
  }

  static Map<String, String> describe(Path root, boolean withRootAttrs) throws Exception {
    Map<String, String> out = new TreeMap<>();
    Map<Long, String> firstByIno = new TreeMap<>();
    int fd = Posix.openDirectory(root);
    try {
      walk(fd, new byte[0], out, firstByIno, withRootAttrs);
    } finally {
      Posix.closeQuietly(fd);
    }
    return out;
  }

  private static void walk(
      int rootFd,
      byte[] rel,
      Map<String, String> out,
      Map<Long, String> firstByIno,
      boolean rootAttrs)
      throws Exception {
    int dirFd =
        rel.length == 0
            ? rootFd
            : Posix.openBeneath(rootFd, rel, Flags.O_PATH | Flags.O_DIRECTORY, 0);
    try {
      if (rel.length > 0 || rootAttrs) {
        Stat s = Posix.stat(dirFd, new byte[0], false);
        out.put(show(rel), "dir " + attrs(s) + xattrs(dirFd, new byte[0]));
      }
      List<DirEntry> entries = new ArrayList<>(Posix.list(dirFd));
      entries.sort(Comparator.comparing(e -> HexFormat.of().formatHex(e.name())));
      for (DirEntry e : entries) {
        byte[] child = rel.length == 0 ? e.name() : concat(rel, e.name());
        Stat s = Posix.stat(dirFd, e.name(), false);
        if (s.isDirectory()) {
          walk(rootFd, child, out, firstByIno, rootAttrs);
          continue;
        }
        String name = show(child);
        StringBuilder d = new StringBuilder();
        if (s.isRegular()) {
          d.append("file ").append(attrs(s)).append(" size=").append(s.size());
          d.append(" sha=").append(digest(dirFd, e.name()));
        } else if (s.isSymlink()) {
          d.append("symlink uid=").append(s.uid()).append(" gid=").append(s.gid());
          d.append(" mtime=").append(s.mtimeNs());
          d.append(" target=").append(show(Posix.readlink(dirFd, e.name())));
        } else if (s.isFifo()) {
          d.append("fifo ").append(attrs(s));
        } else if (s.isSocket()) {
          d.append("socket ").append(attrs(s));
        } else {
          d.append("special ").append(Integer.toOctalString(s.mode()));
        }
        if (s.nlink() > 1 && !s.isDirectory()) {
          String first = firstByIno.putIfAbsent(s.ino(), name);
          d.append(" linkgroup=").append(first == null ? name : first);
        }
        if (!s.isSymlink()) {
          d.append(xattrs(dirFd, e.name()));
        }
        out.put(name, d.toString());
      }
    } finally {
      if (dirFd != rootFd) {
        Posix.closeQuietly(dirFd);
      }
    }
  }

  private static String attrs(Stat s) {
    return "mode="
        + Integer.toOctalString(s.permissions())
        + " uid="
        + s.uid()
        + " gid="
        + s.gid()
        + " mtime="
        + s.mtimeNs();
  }

  private static String xattrs(int dirFd, byte[] name) throws PosixException {
    Map<String, String> x = new TreeMap<>();
    for (byte[] a : Posix.listxattr(dirFd, name)) {
      if (new String(a, java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("security.")) {
        continue;
      }
      byte[] v = Posix.getxattr(dirFd, name, a);
      x.put(show(a), v == null ? "null" : HexFormat.of().formatHex(v));
    }
    return x.isEmpty() ? "" : " xattrs=" + x;
  }

  private static String digest(int dirFd, byte[] name) throws Exception {
    int fd = Posix.openat(dirFd, name, Flags.O_RDONLY | Flags.O_NOFOLLOW, 0);
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      long off = 0;
      int n;
      while ((n = Posix.pread(fd, buf, buf.length, off)) > 0) {
        md.update(buf, 0, n);
        off += n;
      }
      return HexFormat.of().formatHex(md.digest(), 0, 12);
    } finally {
      Posix.closeQuietly(fd);
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + 1 + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    out[a.length] = '/';
    System.arraycopy(b, 0, out, a.length + 1, b.length);
    return out;
  }

  static String show(byte[] b) {
    return Posix.show(b);
  }

  /** Lines that differ between two descriptions, for assertion messages. */
  static List<String> diff(Map<String, String> a, Map<String, String> b) {
    List<String> out = new ArrayList<>();
    TreeMap<String, String> all = new TreeMap<>(a);
    all.putAll(b);
    for (String k : all.keySet()) {
      String x = a.get(k);
      String y = b.get(k);
      if (x == null || !x.equals(y)) {
        out.add(k + ":\n  expected " + x + "\n  actual   " + y);
      }
    }
    return out;
  }
}
