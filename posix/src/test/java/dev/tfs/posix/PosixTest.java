package dev.tfs.posix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixTest {
  private static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xe9, (byte) 0xff};

  @TempDir Path tmp;
  private Path rootDir;
  private int root;

  @BeforeEach
  void open() throws Exception {
    rootDir = Files.createDirectory(tmp.resolve("root"));
    root = Posix.openDirectory(rootDir);
  }

  @AfterEach
  void close() throws Exception {
    Posix.close(root);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private int create(int dir, byte[] name) throws PosixException {
    return Posix.openat(dir, name, Flags.O_CREAT | Flags.O_EXCL | Flags.O_RDWR, 0644);
  }

  @Test
  void nonUtf8NamesAreCreatedListedAndStatedByteExactly() throws Exception {
    Posix.close(create(root, LATIN1));
    List<DirEntry> entries = Posix.list(root);
    assertThat(entries)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name()).isEqualTo(LATIN1);
              assertThat(e.type()).isEqualTo(DirEntry.DT_REG);
            });
    Stat s = Posix.stat(root, LATIN1, false);
    assertThat(s.isRegular()).isTrue();
    assertThat(s.permissions()).isEqualTo(0644 & ~currentUmask());
  }

  @Test
  void openBeneathRefusesEverySymlinkAndEscape() throws Exception {
    Posix.mkdir(root, b("a"), 0755);
    int a = Posix.openBeneath(root, b("a"), Flags.O_PATH | Flags.O_DIRECTORY, 0);
    Posix.close(create(a, b("f")));
    Posix.symlink(b(tmp.toString()), a, b("up"));
    Posix.symlink(b("f"), a, b("tof"));
    Posix.close(a);

    int f = Posix.openBeneath(root, b("a/f"), Flags.O_RDONLY, 0);
    Posix.close(f);
    int self = Posix.openBeneath(root, b(""), Flags.O_PATH | Flags.O_DIRECTORY, 0);
    assertThat(Posix.stat(self, b(""), false).ino())
        .isEqualTo(Posix.stat(root, b(""), false).ino());
    Posix.close(self);

    assertErrno(() -> Posix.openBeneath(root, b("a/up/x"), Flags.O_RDONLY, 0), Errno.ELOOP);
    assertErrno(() -> Posix.openBeneath(root, b("a/tof"), Flags.O_RDONLY, 0), Errno.ELOOP);
    assertErrno(() -> Posix.openBeneath(root, b("a/../../x"), Flags.O_RDONLY, 0), Errno.EXDEV);
    assertErrno(() -> Posix.openBeneath(root, b("/etc/passwd"), Flags.O_RDONLY, 0), Errno.EXDEV);
    assertErrno(() -> Posix.openBeneath(root, b("a/f/g"), Flags.O_RDONLY, 0), Errno.ENOTDIR);
    // Creating through a symlinked directory must not create anything outside.
    assertErrno(
        () -> Posix.openBeneath(root, b("a/up/planted"), Flags.O_CREAT | Flags.O_WRONLY, 0644),
        Errno.ELOOP);
    assertThat(tmp.resolve("planted")).doesNotExist();
  }

  @Test
  void theWalkFallbackForOldKernelsRefusesTheSame() throws Exception {
    Posix.forceWalkFallback(true);
    try {
      openBeneathRefusesEverySymlinkAndEscape();
    } finally {
      Posix.forceWalkFallback(false);
    }
  }

  @Test
  void symlinksKeepTheirTargetBytesAndAreNeverFollowed() throws Exception {
    byte[] target = {'.', '.', '/', (byte) 0xfe, 'x'};
    Posix.symlink(target, root, b("ln"));
    assertThat(Posix.readlink(root, b("ln"))).isEqualTo(target);
    Stat s = Posix.stat(root, b("ln"), false);
    assertThat(s.isSymlink()).isTrue();
    assertThat(s.size()).isEqualTo(target.length);
    assertThat(Posix.statOrNull(root, b("ln"), true)).isNull();
  }

  @Test
  void fifosHardLinksAndRenames() throws Exception {
    Posix.mknod(root, b("fifo"), Flags.S_IFIFO | 0600, 0);
    assertThat(Posix.stat(root, b("fifo"), false).isFifo()).isTrue();

    Posix.close(create(root, b("f")));
    Posix.link(root, b("f"), root, b("g"));
    Stat f = Posix.stat(root, b("f"), false);
    Stat g = Posix.stat(root, b("g"), false);
    assertThat(g.ino()).isEqualTo(f.ino());
    assertThat(f.nlink()).isEqualTo(2);

    Posix.rename(root, b("g"), root, LATIN1, 0);
    assertThat(Posix.statOrNull(root, b("g"), false)).isNull();
    assertThat(Posix.stat(root, LATIN1, false).ino()).isEqualTo(f.ino());
    assertErrno(
        () -> Posix.rename(root, b("f"), root, b("fifo"), Flags.RENAME_NOREPLACE), Errno.EEXIST);

    Posix.unlink(root, LATIN1);
    Posix.mkdir(root, b("d"), 0700);
    assertErrno(() -> Posix.unlink(root, b("d")), Errno.EISDIR);
    Posix.rmdir(root, b("d"));
    assertThat(Posix.list(root))
        .extracting(e -> new String(e.name(), StandardCharsets.UTF_8))
        .containsExactlyInAnyOrder("fifo", "f");
  }

  @Test
  void timesModesAndOwners() throws Exception {
    Posix.close(create(root, b("f")));
    Posix.symlink(b("f"), root, b("ln"));
    long t = 1_600_000_000_123_456_789L;

    Stat before = Posix.stat(root, b("f"), false);
    Posix.utimens(root, b("f"), Posix.OMIT, t);
    Stat after = Posix.stat(root, b("f"), false);
    assertThat(after.mtimeNs()).isEqualTo(t);
    assertThat(after.atimeNs()).isEqualTo(before.atimeNs());

    Posix.utimens(root, b("ln"), t - 5, t + 7);
    assertThat(Posix.stat(root, b("ln"), false).mtimeNs()).isEqualTo(t + 7);
    assertThat(Posix.stat(root, b("f"), false).mtimeNs()).isEqualTo(t);

    Posix.utimens(root, b(""), Posix.OMIT, t + 9);
    assertThat(Posix.stat(root, b(""), false).mtimeNs()).isEqualTo(t + 9);

    Posix.chmod(root, b("f"), 04751);
    assertThat(Posix.stat(root, b("f"), false).permissions()).isEqualTo(04751);
    Posix.chmod(root, b(""), 0711);
    assertThat(Files.getPosixFilePermissions(rootDir)).hasSize(5);

    assumeTrue(Posix.geteuid() == 0, "chown needs root");
    Posix.chown(root, b("ln"), 1234, 5678);
    Stat ln = Posix.stat(root, b("ln"), false);
    assertThat(ln.uid()).isEqualTo(1234);
    assertThat(ln.gid()).isEqualTo(5678);
    assertThat(Posix.stat(root, b("f"), false).uid()).isEqualTo(0);
  }

  @Test
  void sparseWritesReadsTruncateAndHoles() throws Exception {
    int fd = create(root, b("sparse"));
    try {
      byte[] data = b("tail bytes");
      Posix.pwriteFully(fd, data, data.length, 10L << 20);
      Stat s = Posix.stat(root, b("sparse"), false);
      assertThat(s.size()).isEqualTo((10L << 20) + data.length);
      assertThat(s.blocks() * 512).isLessThan(1 << 20);
      byte[] back = new byte[data.length];
      assertThat(Posix.pread(fd, back, back.length, 10L << 20)).isEqualTo(data.length);
      assertThat(back).isEqualTo(data);
      assertThat(Posix.lseek(fd, 0, Flags.SEEK_DATA)).isGreaterThanOrEqualTo(9L << 20);

      byte[] ones = new byte[8192];
      java.util.Arrays.fill(ones, (byte) 1);
      Posix.pwriteFully(fd, ones, ones.length, 0);
      Posix.fallocate(fd, Flags.FALLOC_FL_PUNCH_HOLE | Flags.FALLOC_FL_KEEP_SIZE, 0, 4096);
      byte[] head = new byte[8192];
      Posix.pread(fd, head, head.length, 0);
      assertThat(head[0]).isZero();
      assertThat(head[4096]).isEqualTo((byte) 1);

      Posix.ftruncate(fd, 5);
      assertThat(Posix.stat(root, b("sparse"), false).size()).isEqualTo(5);
      Posix.fsync(fd);
    } finally {
      Posix.close(fd);
    }
  }

  @Test
  void xattrsOnFilesDirectoriesAndSymlinks() throws Exception {
    Posix.close(create(root, b("f")));
    byte[] value = {0, 1, 2, (byte) 0xff};
    Posix.setxattr(root, b("f"), b("user.tfs"), value, 0);
    assertThat(Posix.getxattr(root, b("f"), b("user.tfs"))).isEqualTo(value);
    assertThat(Posix.listxattr(root, b("f"))).extracting(String::new).contains("user.tfs");
    assertThat(Posix.getxattr(root, b("f"), b("user.none"))).isNull();

    byte[] big = new byte[3000];
    Posix.setxattr(root, b("f"), b("user.big"), big, 0);
    assertThat(Posix.getxattr(root, b("f"), b("user.big"))).hasSize(3000);

    assertThat(Posix.removexattr(root, b("f"), b("user.tfs"))).isTrue();
    assertThat(Posix.removexattr(root, b("f"), b("user.tfs"))).isFalse();

    Posix.setxattr(root, b(""), b("user.rootattr"), value, 0);
    assertThat(Posix.getxattr(root, b(""), b("user.rootattr"))).isEqualTo(value);

    assumeTrue(Posix.geteuid() == 0, "xattrs on symlinks need the trusted namespace (root)");
    Posix.symlink(b("f"), root, b("ln"));
    Posix.setxattr(root, b("ln"), b("trusted.tfs"), value, 0);
    assertThat(Posix.getxattr(root, b("ln"), b("trusted.tfs"))).isEqualTo(value);
    assertThat(Posix.getxattr(root, b("f"), b("trusted.tfs"))).isNull();
  }

  @Test
  void errorsNameTheCallThePathAndErrno() {
    assertThatThrownBy(() -> Posix.openat(root, LATIN1, Flags.O_RDONLY, 0))
        .isInstanceOfSatisfying(
            PosixException.class,
            e -> {
              assertThat(e.errno()).isEqualTo(Errno.ENOENT);
              assertThat(e.call()).isEqualTo("openat");
            })
        .hasMessage("openat(caf\\xe9\\xff): No such file or directory (errno 2 ENOENT)");
    assertThatThrownBy(() -> Posix.cstr(b("a\0b"))).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void statvfsAndAccess() throws Exception {
    StatVfs v = Posix.statvfs(root);
    assertThat(v.bsize()).isPositive();
    assertThat(v.blocks()).isPositive();
    assertThat(v.namemax()).isEqualTo(255);
    assertThat(Posix.access(root, b(""), Flags.W_OK)).isTrue();
    assertThat(Posix.access(root, b("missing"), Flags.F_OK)).isFalse();
  }

  @Test
  void devicesAreEncodedLikeGlibc() {
    assertThat(Posix.makedev(8, 1)).isEqualTo(0x801);
    Stat s = new Stat(0, 0, 0, 0, 0, 0, Posix.makedev(259, 70000), 0, 0, 0, 0, 0, 0);
    assertThat(s.rdevMajor()).isEqualTo(259);
    assertThat(s.rdevMinor()).isEqualTo(70000);
  }

  private static int currentUmask() {
    int m = Posix.libc().umask(022);
    Posix.libc().umask(m);
    return m;
  }

  private interface Call {
    void run() throws Exception;
  }

  private static void assertErrno(Call call, int errno) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            PosixException.class, e -> assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno));
  }
}
