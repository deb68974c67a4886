package dev.tfs.sink;

import dev.tfs.op.OpRules;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Link;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.Rmdir;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.SetXattr;
import dev.tfs.op.schema.Symlink;
import dev.tfs.op.schema.Truncate;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Generates a plausible random history over a model of the tree: mkdir then create inside, writes,
 * truncates, renames of files and whole directories, hard links, symlinks, FIFOs, unlink then
 * rmdir, chmod and xattrs. Every op is valid against the model, so in-order application never
 * fails; any reordering that breaks a dependency (rename, link, mkdir then create, unlink then
 * rmdir) would.
 */
final class HistoryGen {
  private final Random rnd;
  private final History h;
  private final int maxData;
  private final List<String> dirs = new ArrayList<>();
  private final Map<String, String> nodes = new TreeMap<>(); // path -> "file"/"symlink"/"fifo"
  private int names;

  private HistoryGen(long seed, History h, int maxData) {
    this.rnd = new Random(seed);
    this.h = h;
    this.maxData = maxData;
    dirs.add("");
  }

  static History generate(long seed, int ops, int partitions, int maxData) {
    History h = new History("vol-" + seed, 1_700_000_000_000L, partitions);
    HistoryGen g = new HistoryGen(seed, h, maxData);
    while (h.ops.size() < ops) {
      g.step();
    }
    g.drainOneDir();
    return h;
  }

  private String fresh(String dir, String prefix) {
    String n = prefix + (names++);
    return dir.isEmpty() ? n : dir + "/" + n;
  }

  private String anyDir() {
    return dirs.get(rnd.nextInt(dirs.size()));
  }

  private String anyOf(String type) {
    List<String> l = new ArrayList<>();
    for (Map.Entry<String, String> e : nodes.entrySet()) {
      if (type == null || e.getValue().equals(type)) {
        l.add(e.getKey());
      }
    }
    return l.isEmpty() ? null : l.get(rnd.nextInt(l.size()));
  }

  private byte[] data(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private void step() {
    int k = rnd.nextInt(100);
    if (k < 10 || dirs.size() < 3) {
      String d = fresh(anyDir(), "d");
      h.add(d, new Mkdir(0700 + rnd.nextInt(0100), 0, 0));
      dirs.add(d);
    } else if (k < 25) {
      String f = fresh(anyDir(), "f");
      h.add(f, new Create(0600 + rnd.nextInt(0100), 0, 0));
      nodes.put(f, "file");
      write(f);
    } else if (k < 45) {
      String f = anyOf("file");
      if (f != null) {
        write(f);
      }
    } else if (k < 48) {
      String f = anyOf("file");
      if (f != null) {
        h.add(b(f), new Truncate((long) rnd.nextInt(maxData + 1)), true, false);
      }
    } else if (k < 56) {
      String f = anyOf(null);
      if (f != null) {
        String to;
        String existing = rnd.nextInt(3) == 0 ? anyOf("file") : null;
        if (existing != null && !existing.equals(f)) {
          to = existing; // rename over an existing file
        } else {
          to = fresh(anyDir(), "r");
        }
        h.add(b(f), new Rename(ByteBuffer.wrap(b(to)), h.now() + 1_000_000L), false, true);
        String type = nodes.remove(f);
        nodes.put(to, type);
      }
    } else if (k < 60) {
      renameDir();
    } else if (k < 65) {
      String f = anyOf("file");
      if (f != null) {
        String to = fresh(anyDir(), "l");
        h.add(b(f), new Link(ByteBuffer.wrap(b(to)), h.now() + 1_000_000L), false, false);
        nodes.put(to, "file");
      }
    } else if (k < 70) {
      String s = fresh(anyDir(), "s");
      h.add(s, new Symlink(ByteBuffer.wrap(b("../target-" + rnd.nextInt(100))), 0, 0));
      nodes.put(s, "symlink");
    } else if (k < 72) {
      String s = fresh(anyDir(), "p");
      h.add(s, new Mknod(OpRules.S_IFIFO | 0644, 0, 0, 0L));
      nodes.put(s, "fifo");
    } else if (k < 80) {
      String f = anyOf(null);
      if (f != null) {
        h.add(b(f), new Unlink(), false, true);
        nodes.remove(f);
      }
    } else if (k < 84) {
      rmdirEmpty();
    } else if (k < 92) {
      String f = rnd.nextBoolean() ? anyOf("file") : anyDir();
      if (f != null && !f.isEmpty()) {
        h.add(
            b(f),
            new SetAttr(0600 + rnd.nextInt(0200), null, null, null, h.now() + 1_000_000L),
            true,
            false);
      }
    } else {
      String f = anyOf("file");
      if (f != null) {
        h.add(
            b(f),
            new SetXattr(
                ByteBuffer.wrap(b("user.k" + rnd.nextInt(3))),
                ByteBuffer.wrap(data(rnd.nextInt(40)))),
            false,
            false);
      }
    }
  }

  private void write(String f) {
    int n = 1 + rnd.nextInt(maxData);
    long off = rnd.nextInt(4) == 0 ? rnd.nextInt(maxData * 4) : 0;
    h.add(b(f), new Write(off, ByteBuffer.wrap(data(n))), true, false);
  }

  private void renameDir() {
    if (dirs.size() < 3) {
      return;
    }
    String d = dirs.get(1 + rnd.nextInt(dirs.size() - 1));
    String parent = anyDir();
    if (parent.equals(d) || parent.startsWith(d + "/")) {
      return;
    }
    String to = fresh(parent, "m");
    h.add(b(d), new Rename(ByteBuffer.wrap(b(to)), h.now() + 1_000_000L), false, true);
    for (int i = 0; i < dirs.size(); i++) {
      String x = dirs.get(i);
      if (x.equals(d) || x.startsWith(d + "/")) {
        dirs.set(i, to + x.substring(d.length()));
      }
    }
    Map<String, String> moved = new TreeMap<>();
    nodes
        .entrySet()
        .removeIf(
            e -> {
              if (e.getKey().startsWith(d + "/")) {
                moved.put(to + e.getKey().substring(d.length()), e.getValue());
                return true;
              }
              return false;
            });
    nodes.putAll(moved);
  }

  private boolean isEmpty(String d) {
    String prefix = d + "/";
    return nodes.keySet().stream().noneMatch(p -> p.startsWith(prefix))
        && dirs.stream().noneMatch(p -> p.startsWith(prefix));
  }

  private void rmdirEmpty() {
    for (int i = dirs.size() - 1; i >= 1; i--) {
      String d = dirs.get(i);
      if (isEmpty(d)) {
        h.add(b(d), new Rmdir(), false, true);
        dirs.remove(i);
        return;
      }
    }
  }

  /** Ends with unlink of everything in one directory and its rmdir: the unlink -> rmdir order. */
  private void drainOneDir() {
    for (int i = dirs.size() - 1; i >= 1; i--) {
      String d = dirs.get(i);
      boolean hasSubdir = dirs.stream().anyMatch(p -> p.startsWith(d + "/"));
      if (!hasSubdir) {
        for (String p : new ArrayList<>(nodes.keySet())) {
          if (p.startsWith(d + "/")) {
            h.add(b(p), new Unlink(), false, true);
            nodes.remove(p);
          }
        }
        h.add(b(d), new Rmdir(), false, true);
        dirs.remove(i);
        return;
      }
    }
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
