package dev.tfs.capture.fs;

import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.PosixException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseStubFS;

/**
 * Mounts a {@link PassthroughFs} with the options tfs needs, waits until the kernel shows the
 * mount, and unmounts it.
 *
 * <p>Options, each measured or required here:
 *
 * <ul>
 *   <li>{@code big_writes,max_write=131072}: jnr-fuse (libfuse2) otherwise gets 4 KiB writes.
 *   <li>{@code use_ino}: st_ino from the store, so hard links show one inode through the mount.
 *   <li>No {@code hard_remove}; {@code flag_nullpath_ok}: with hard_remove the library drops the
 *       path of a file unlinked while open, and then answers fstat, fchmod, fchown and futimens on
 *       it ENOENT itself (the kernel sends those without a file handle, and the high-level library
 *       needs a path for every call without one). Without it the library keeps the file under a
 *       {@code .fuse_hiddenNNN} name, which {@link PassthroughFs} serves from an fd of the file and
 *       never creates in the store ({@link HiddenFiles}): nothing hidden is captured or replicated,
 *       and the unlink is captured as an unlink, as before.
 *   <li>{@code default_permissions} (the kernel checks modes against the caller: the daemon is
 *       root) and {@code allow_other} (other users may use the mount; needs default_permissions).
 *   <li>{@code auto_unmount}: after a SIGKILL the kernel mount is removed by fusermount instead of
 *       staying dead ("Transport endpoint is not connected") until someone unmounts it.
 *   <li>{@code attr_timeout=0}, {@code entry_timeout}/{@code negative_timeout} = 10 s. Names may be
 *       cached: the daemon is the only writer of its store, so a name changes only through the
 *       mount, and the kernel updates its dentries for every such change. Attributes may not: the
 *       high-level libfuse2 library gives every <em>name</em> its own FUSE node, so the hard links
 *       of one file are several kernel inodes, and a chmod, chown, utimens, truncate, write, link
 *       or unlink through one name would leave the others' cached mode, owner, times, size and link
 *       count stale for the whole attribute timeout; with {@code default_permissions} the kernel
 *       would check access against the stale mode (a permission revoked through one name still
 *       granted through another). With attr_timeout=0 every stat and permission check asks the
 *       store, so all names agree at once, as on ext4. Kernel invalidation of just the other names
 *       and per-reply timeouts were ruled out (libfuse2's high-level API has neither a way to learn
 *       the other names' node ids nor per-reply timeouts): capture-fs/README.md says why, and
 *       docs/bench/tuning.md what it costs.
 * </ul>
 *
 * <p>{@code flag_utime_omit_ok}: libfuse2 drops a utimens that sets only one of atime/mtime unless
 * this bit of {@code struct fuse_operations} is set; jnr-fuse maps the C bitfield word as four
 * padding bytes and never sets it, so {@link #setOperationFlags} writes the bits (nullpath_ok = bit
 * 0, utime_omit_ok = bit 2 of the word, little-endian) into the struct memory before fuse_main_real
 * reads it.
 */
public final class FuseMount implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FuseMount.class);

  /** Mount tuning. */
  public record Options(
      boolean singleThreaded,
      boolean allowOther,
      double attrTimeout,
      double entryTimeout,
      double negativeTimeout,
      boolean autoUnmount,
      boolean kernelCache) {
    /** The defaults tfs-capture mounts with (see the class comment and capture-fs/README.md). */
    public static Options defaults() {
      return new Options(false, true, 0.0, 10.0, 10.0, true, false);
    }
  }

  // Kept reachable for as long as the mount lives: the native side calls into it.
  @SuppressWarnings("UnusedVariable")
  private final FuseStubFS fs;

  private final Path mountPoint;
  private volatile boolean mounted;

  private FuseMount(FuseStubFS fs, Path mountPoint) {
    this.fs = fs;
    this.mountPoint = mountPoint;
  }

  /** The FUSE option list for {@code opts}. */
  public static List<String> fuseArgs(String fsName, Options opts) {
    List<String> o = new ArrayList<>();
    o.add("fsname=" + fsName.replace(",", "_"));
    o.add("subtype=tfs");
    o.add("big_writes");
    o.add("max_write=131072");
    o.add("max_read=131072");
    o.add("use_ino");
    o.add("default_permissions");
    if (opts.allowOther()) {
      o.add("allow_other");
    }
    if (opts.autoUnmount()) {
      o.add("auto_unmount");
    }
    if (opts.kernelCache()) {
      o.add("kernel_cache");
    }
    o.add("attr_timeout=" + opts.attrTimeout());
    o.add("entry_timeout=" + opts.entryTimeout());
    o.add("negative_timeout=" + opts.negativeTimeout());
    List<String> args = new ArrayList<>();
    if (opts.singleThreaded()) {
      args.add("-s");
    }
    args.add("-o");
    args.add(String.join(",", o));
    return args;
  }

  /** Sets flag_nullpath_ok and flag_utime_omit_ok in the fs's {@code struct fuse_operations}. */
  static void setOperationFlags(FuseStubFS fs) {
    try {
      java.lang.reflect.Field f =
          ru.serce.jnrfuse.AbstractFuseFS.class.getDeclaredField("fuseOperations");
      f.setAccessible(true);
      ru.serce.jnrfuse.struct.FuseOperations ops =
          (ru.serce.jnrfuse.struct.FuseOperations) f.get(fs);
      Object member = ops.getClass().getField("flag_nullpath_ok").get(ops);
      java.lang.reflect.Method offset =
          Class.forName("jnr.ffi.Struct$Member").getDeclaredMethod("offset");
      offset.setAccessible(true);
      long off = ((Number) offset.invoke(member)).longValue();
      // struct fuse_operations (FUSE_USE_VERSION 26): 38 function pointers, then the flag word.
      if (off != 38L * jnr.ffi.Runtime.getSystemRuntime().addressSize()) {
        throw new IllegalStateException(
            "unexpected fuse_operations layout in jnr-fuse: flag word at offset " + off);
      }
      jnr.ffi.Pointer mem = Struct.getMemory(ops);
      int word = mem.getInt(off);
      word |= 1; // flag_nullpath_ok
      word |= 1 << 2; // flag_utime_omit_ok
      mem.putInt(off, word);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot reach jnr-fuse's fuse_operations struct", e);
    }
  }

  /**
   * Mounts {@code fs} on {@code mountPoint} and returns once the kernel lists the mount.
   *
   * @throws IOException when the mount does not appear within {@code timeout}
   */
  public static FuseMount mount(
      FuseStubFS fs, Path mountPoint, String fsName, Options opts, Duration timeout)
      throws IOException {
    setOperationFlags(fs);
    FuseMount m = new FuseMount(fs, mountPoint.toAbsolutePath());
    List<String> args = fuseArgs(fsName, opts);
    LOG.info("mounting {} with {}", mountPoint, args);
    fs.mount(m.mountPoint, false, false, args.toArray(new String[0]));
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!isMounted(m.mountPoint)) {
      if (System.nanoTime() > deadline) {
        try {
          fs.umount();
        } catch (RuntimeException ignored) {
          // best effort
        }
        throw new IOException(
            "FUSE mount of "
                + mountPoint
                + " did not appear within "
                + timeout.toMillis()
                + " ms; check /dev/fuse, libfuse2 and that the mount point is an empty directory");
      }
      try {
        TimeUnit.MILLISECONDS.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while mounting", e);
      }
    }
    m.mounted = true;
    return m;
  }

  public Path mountPoint() {
    return mountPoint;
  }

  /** True when /proc/self/mountinfo lists a mount at {@code dir}. */
  public static boolean isMounted(Path dir) {
    return mountAt(dir) != null;
  }

  /** The fs type of the mount at {@code dir} (e.g. {@code fuse.tfs}), or null. */
  public static String mountType(Path dir) {
    Mount m = mountAt(dir);
    return m == null ? null : m.fsType();
  }

  /**
   * A mount as /proc/self/mountinfo lists it.
   *
   * @param fsType e.g. {@code fuse.tfs} (FUSE's {@code subtype=tfs}) or {@code ext4}
   * @param source e.g. {@code tfs:data} (FUSE's {@code fsname=}) or {@code /dev/sda1}
   */
  public record Mount(String mountPoint, String fsType, String source) {
    /** Mounted by tfs-capture: type {@code fuse.tfs} and source {@code tfs:<volume>}. */
    public boolean isTfs() {
      return fsType.equals("fuse.tfs") && source.startsWith(FSNAME_PREFIX);
    }
  }

  /** How tfs-capture names its mounts ({@code fsname=tfs:<volume>}). */
  public static final String FSNAME_PREFIX = "tfs:";

  /**
   * The mount at {@code dir} as /proc/self/mountinfo lists it, or null: the last of several stacked
   * on the same directory, the one a path lookup reaches.
   */
  public static Mount mountAt(Path dir) {
    String want = dir.toAbsolutePath().normalize().toString();
    Mount found = null;
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.ISO_8859_1)) {
        Mount m = parseMountInfo(line);
        if (m != null && m.mountPoint().equals(want)) {
          found = m;
        }
      }
    } catch (IOException e) {
      return null;
    }
    return found;
  }

  /**
   * One line of /proc/self/mountinfo ({@code ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] -
   * FSTYPE SOURCE SUPEROPTS}, proc(5)), or null when it does not parse.
   */
  static Mount parseMountInfo(String line) {
    String[] f = line.split(" ", -1);
    int dash = line.indexOf(" - ");
    if (f.length < 5 || dash < 0) {
      return null;
    }
    String[] tail = line.substring(dash + 3).split(" ", -1);
    return new Mount(unescape(f[4]), unescape(tail[0]), tail.length > 1 ? unescape(tail[1]) : "");
  }

  /** Linux errno of a FUSE mount whose daemon is gone: "Transport endpoint is not connected". */
  static final int ENOTCONN = 107;

  /**
   * True when the mount at {@code dir} is dead: its FUSE daemon is gone, so every access fails with
   * ENOTCONN. A mount that answers (or fails otherwise) is not dead.
   */
  public static boolean isDead(Path dir) {
    try {
      Posix.stat(
          Flags.AT_FDCWD,
          dir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.ISO_8859_1),
          true);
      return false;
    } catch (PosixException e) {
      return e.errno() == ENOTCONN;
    }
  }

  /**
   * Removes a dead mount at {@code dir}: {@code fusermount -u}, then lazily ({@code -z}) if that
   * did not remove it, then {@code umount -l}. Returns true when no mount is listed there any more.
   */
  public static boolean removeDead(Path dir, Duration timeout) {
    if (unmount(dir, false, timeout) || unmount(dir, true, timeout)) {
      return true;
    }
    run(List.of("umount", "-l", dir.toAbsolutePath().toString()), timeout);
    return awaitGone(dir, timeout);
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }

  /**
   * Unmounts with {@code fusermount -u} (lazily with {@code -z} when {@code lazy}), and waits for
   * the mount to disappear. Returns true when it is gone.
   */
  public static boolean unmount(Path dir, boolean lazy, Duration timeout) {
    List<String> cmd = new ArrayList<>(List.of("fusermount", "-u"));
    if (lazy) {
      cmd.add("-z");
    }
    cmd.add(dir.toAbsolutePath().toString());
    run(cmd, timeout);
    return awaitGone(dir, timeout);
  }

  private static void run(List<String> cmd, Duration timeout) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
      if (!out.isEmpty()) {
        LOG.debug("{}: {}", cmd.get(0), out);
      }
    } catch (IOException e) {
      LOG.warn("{} failed: {}", cmd.get(0), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean awaitGone(Path dir, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isMounted(dir)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !isMounted(dir);
      }
    }
    return true;
  }

  /** Unmounts; a busy mount is detached lazily after the timeout. */
  @Override
  public void close() {
    if (!mounted) {
      return;
    }
    mounted = false;
    if (!unmount(mountPoint, false, Duration.ofSeconds(5))) {
      LOG.warn("{} is busy; detaching it lazily", mountPoint);
      unmount(mountPoint, true, Duration.ofSeconds(5));
    }
  }
}
