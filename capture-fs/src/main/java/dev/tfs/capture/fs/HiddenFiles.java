package dev.tfs.capture.fs;

import dev.tfs.posix.Posix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open files whose last name was removed, as libfuse2's high-level library sees them: under a
 * {@code .fuse_hidden<node><counter>} name it made up, which never exists in the store.
 *
 * <p><b>Why.</b> The high-level library asks for a path before every getattr, chmod, chown and
 * utimens it does not get a file handle for, and the kernel sends none with fstat, fchmod, fchown
 * or futimens. With {@code hard_remove} an unlinked open file has no path left, so the library
 * answered those calls ENOENT itself. Without it the library keeps the file's node under a hidden
 * name and renames the file to that name through our {@code rename} callback. The passthrough does
 * not make that rename in the store (it would be captured and replicated as a file named {@code
 * .fuse_hidden…}): it keeps an fd of the file here under the hidden name and serves every later
 * call on that name from the fd. The library removes the hidden name (our {@code unlink} callback)
 * when the last handle is released; the fd is closed then.
 *
 * <p><b>Unlink or rename over.</b> The library hides a file for two calls: unlink of an open file
 * (then the name must go from the store and be captured as an unlink, before the reply) and rename
 * over an open file (then the store name must stay until the rename replaces it, captured as one
 * rename, as before). The rename callback cannot tell which; the calling thread's system call can:
 * {@link #callerRenames} reads it from {@code /proc/<tid>/syscall}. When it is not a rename (or
 * cannot be read: another architecture, an io_uring worker), the hide is taken as an unlink, which
 * leaves the store right in both cases (a rename over is then captured as unlink + rename).
 *
 * <p>Names are keyed by their last component: libfuse's hidden names are unique in the process
 * (node id and a global counter) and stay the node's while its directory is renamed.
 */
public final class HiddenFiles {
  private static final byte[] PREFIX = ".fuse_hidden".getBytes(StandardCharsets.US_ASCII);
  private static final int HEX_DIGITS = 16;

  /** An open file without a name in the store: an fd of it (owned here) and its inode. */
  public record Orphan(int fd, long ino) {}

  private final Map<String, Orphan> byName = new ConcurrentHashMap<>();

  /** True when no file is hidden (the fast path of every getattr). */
  public boolean isEmpty() {
    return byName.isEmpty();
  }

  /** True when the last component of {@code rel} is a libfuse hidden name. */
  public static boolean isHiddenName(byte[] rel) {
    int start = lastComponent(rel);
    if (rel.length - start != PREFIX.length + HEX_DIGITS) {
      return false;
    }
    for (int i = 0; i < PREFIX.length; i++) {
      if (rel[start + i] != PREFIX[i]) {
        return false;
      }
    }
    for (int i = start + PREFIX.length; i < rel.length; i++) {
      byte b = rel[i];
      if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static int lastComponent(byte[] rel) {
    for (int i = rel.length - 1; i >= 0; i--) {
      if (rel[i] == '/') {
        return i + 1;
      }
    }
    return 0;
  }

  private static String key(byte[] rel) {
    int start = lastComponent(rel);
    return new String(rel, start, rel.length - start, StandardCharsets.ISO_8859_1);
  }

  /** The hidden file at {@code rel}, or null when {@code rel} is not one. */
  public Orphan get(byte[] rel) {
    if (byName.isEmpty() || !isHiddenName(rel)) {
      return null;
    }
    return byName.get(key(rel));
  }

  /** Keeps {@code fd} (now owned here) as the file hidden under {@code rel}. */
  public void add(byte[] rel, int fd, long ino) {
    Orphan old = byName.put(key(rel), new Orphan(fd, ino));
    if (old != null) {
      Posix.closeQuietly(old.fd());
    }
  }

  /** The library hid a hidden file again (someone unlinked its hidden name while it is open). */
  public boolean move(byte[] from, byte[] to) {
    Orphan o = get(from);
    if (o == null) {
      return false;
    }
    byName.remove(key(from), o);
    byName.put(key(to), o);
    return true;
  }

  /** Forgets the hidden file at {@code rel} and closes its fd; false when there is none. */
  public boolean remove(byte[] rel) {
    if (byName.isEmpty() || !isHiddenName(rel)) {
      return false;
    }
    Orphan o = byName.remove(key(rel));
    if (o == null) {
      return false;
    }
    Posix.closeQuietly(o.fd());
    return true;
  }

  /** rename, renameat, renameat2 by architecture (asm/unistd.h); none known: empty. */
  private static final Set<Integer> RENAME_SYSCALLS =
      switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> Set.of(82, 264, 316);
        case "aarch64" -> Set.of(38, 276);
        default -> Set.of();
      };

  /**
   * True when thread {@code tid} (the FUSE request's caller) is inside rename(2), renameat(2) or
   * renameat2(2). False when it is not, or when that cannot be told.
   */
  public static boolean callerRenames(long tid) {
    if (tid <= 0 || RENAME_SYSCALLS.isEmpty()) {
      return false;
    }
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(tid), "syscall"));
      String first = s.strip().split(" ", 2)[0];
      return RENAME_SYSCALLS.contains(Integer.parseInt(first));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
