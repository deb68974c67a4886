package dev.tfs.capture;

import dev.tfs.path.OpPaths;
import dev.tfs.posix.DirEntry;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import dev.tfs.posix.Stat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The capture's open files: per store fd, the file's inode and the name it has <em>now</em>, so a
 * write through an fd is recorded under the name the file has when the write takes effect, not the
 * name libfuse computed before a concurrent rename.
 *
 * <p><b>Contract with {@link CaptureLocks}.</b> A handle's name changes only in {@link #renamed}
 * (under the namespace write lock) and {@link #unlinked} (under the path lock of the removed name
 * and the file's inode lock). So a caller that holds the path lock of the name a handle shows sees
 * that name stay put; {@link Handle#lockName} takes exactly that lock. {@link #opened} runs under
 * the path lock of the opened name, so an unlink or rename cannot slip between opening the store
 * file and tracking it.
 *
 * <p>When a file loses the name its handle shows (unlink, or a rename over it) and other hard links
 * remain, the handle takes one of them: later writes through it change what those names show. A
 * handle of a file with no name left has a null name, and writes through it are not captured: no
 * name remains to record them under, or through which a mirror could show them.
 */
final class OpenHandles {
  private static final Logger LOG = LoggerFactory.getLogger(OpenHandles.class);

  private final int root;
  private final Map<Integer, Handle> byFd = new ConcurrentHashMap<>();

  /**
   * @param root the store root fd (the names are relative to it)
   */
  OpenHandles(int root) {
    this.root = root;
  }

  /** An open store fd: its file's inode and the name it has now (null once no name remains). */
  static final class Handle {
    final long ino;
    private volatile byte[] path;

    private Handle(long ino, byte[] path) {
      this.ino = ino;
      this.path = path;
    }

    /** The file's current name, or null (read without a lock it may change at once). */
    byte[] path() {
      return path;
    }

    /**
     * Takes the path lock of the name this handle has now, in {@code held} (which holds the shared
     * namespace lock and no path lock), and returns that name; it stays the handle's name until
     * {@code held} is released. Returns null, holding no path lock, when the file has no name.
     */
    byte[] lockName(CaptureLocks.Held held) {
      for (byte[] p = path; p != null; p = path) {
        held.paths(p);
        if (path == p) {
          return p;
        }
        held.releasePaths(); // an unlink moved the handle to another name meanwhile
      }
      return null;
    }
  }

  /** Tracks a newly opened fd under {@code rel} (call under that name's path lock). */
  void opened(int fd, byte[] rel) {
    long ino;
    try {
      ino = Posix.stat(fd, new byte[0], false).ino();
    } catch (PosixException e) {
      ino = -1;
    }
    byFd.put(fd, new Handle(ino, rel));
  }

  /** Forgets a released fd. */
  void released(int fd) {
    byFd.remove(fd);
  }

  /** The handle of {@code fd}, or null when it was not opened through the capture. */
  Handle get(int fd) {
    return byFd.get(fd);
  }

  /** True when a handle shows {@code rel} as its file's name now. */
  boolean anyAt(byte[] rel) {
    for (Handle h : byFd.values()) {
      if (Arrays.equals(h.path, rel)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A name of the file with inode {@code ino} that one of its handles shows now, path-locked in
   * {@code held} as {@link Handle#lockName} does; null (holding no path lock) when no handle of the
   * file has a name.
   */
  byte[] lockNameOf(long ino, CaptureLocks.Held held) {
    for (Handle h : byFd.values()) {
      if (h.ino == ino) {
        byte[] name = h.lockName(held);
        if (name != null) {
          return name;
        }
      }
    }
    return null;
  }

  /**
   * After a rename (under the namespace write lock): handles beneath {@code from} follow their
   * files to {@code to}; a file that was at {@code to} lost that name.
   */
  void renamed(byte[] from, byte[] to) {
    List<Map.Entry<Integer, Handle>> replaced = new ArrayList<>();
    for (Map.Entry<Integer, Handle> e : byFd.entrySet()) {
      if (Arrays.equals(e.getValue().path, to)) {
        replaced.add(e);
      }
    }
    for (Handle h : byFd.values()) {
      byte[] p = h.path;
      if (p != null && OpPaths.isSelfOrDescendant(from, p)) {
        byte[] np = new byte[to.length + p.length - from.length];
        System.arraycopy(to, 0, np, 0, to.length);
        System.arraycopy(p, from.length, np, to.length, p.length - from.length);
        h.path = np;
      }
    }
    for (Map.Entry<Integer, Handle> e : replaced) {
      if (Arrays.equals(e.getValue().path, to) && e.getValue().ino != inoOf(to)) {
        lostName(e.getKey(), e.getValue(), to);
      }
    }
  }

  /**
   * After an unlink of {@code rel} (under its path lock and the file's inode lock): handles that
   * showed it take another name of the file, or none.
   */
  void unlinked(byte[] rel) {
    for (Map.Entry<Integer, Handle> e : byFd.entrySet()) {
      if (Arrays.equals(e.getValue().path, rel)) {
        lostName(e.getKey(), e.getValue(), rel);
      }
    }
  }

  private long inoOf(byte[] rel) {
    try {
      Stat st = Posix.statOrNull(root, rel, false);
      return st == null ? -1 : st.ino();
    } catch (PosixException e) {
      return -1;
    }
  }

  /**
   * An open file lost the name its handle records. Runs under rename's namespace write lock, or
   * under unlink's locks of the removed name and of the file's inode: either way no name of this
   * file can appear or go while it searches.
   */
  private void lostName(int fd, Handle h, byte[] removed) {
    h.path = null;
    try {
      Stat st = Posix.stat(fd, new byte[0], false);
      if (st.nlink() == 0) {
        return;
      }
      byte[] other = findName(st, removed);
      h.path = other;
      if (other == null) {
        LOG.warn(
            "open file {} (inode {}) lost its name but has {} other link(s) that could not be"
                + " found; writes through it will not be captured",
            OpPaths.display(removed),
            st.ino(),
            st.nlink());
      }
    } catch (PosixException e) {
      LOG.warn("cannot look for other names of {}: {}", OpPaths.display(removed), e.getMessage());
    }
  }

  /** Another name of the file {@code st} describes: the old name's directory first, then all. */
  private byte[] findName(Stat st, byte[] removed) throws PosixException {
    byte[] dir = removed.length == 0 ? removed : OpPaths.parent(removed);
    byte[] found = searchDir(st, dir, false);
    return found != null ? found : searchDir(st, new byte[0], true);
  }

  private byte[] searchDir(Stat st, byte[] dir, boolean recurse) throws PosixException {
    int fd = Posix.openBeneath(root, dir, Flags.O_PATH | Flags.O_DIRECTORY, 0);
    try {
      for (DirEntry e : Posix.list(fd)) {
        byte[] child = dir.length == 0 ? e.name() : OpPaths.child(dir, e.name());
        if (e.ino() == st.ino()) {
          Stat s = Posix.statOrNull(fd, e.name(), false);
          if (s != null && s.ino() == st.ino() && s.dev() == st.dev()) {
            return child;
          }
        }
        if (recurse && e.type() == DirEntry.DT_DIR) {
          byte[] found = searchDir(st, child, true);
          if (found != null) {
            return found;
          }
        }
      }
      return null;
    } finally {
      Posix.closeQuietly(fd);
    }
  }
}
