# Open a file, remove its name (keeping a second hard link when argv[2] is 1), then use the fd:
# prints one line per call (its result and the fd's stat), the same on any POSIX file system.
import os
import sys

d, keep_link = sys.argv[1], sys.argv[2] == "1"
p, q = os.path.join(d, "f"), os.path.join(d, "g")
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"hello world")
if keep_link:
    os.link(p, q)
os.unlink(p)
T = 1_000_000_000 * 1_000_000_000


def step(tag, call, show_mtime=True):
    try:
        r = call()
        s = os.fstat(fd)
        mtime = s.st_mtime_ns if show_mtime else ("moved" if s.st_mtime_ns != T else "same")
        print(tag, repr(r), oct(s.st_mode), s.st_nlink, s.st_uid, s.st_gid, s.st_size, mtime)
    except OSError as e:
        print(tag, "errno", e.errno)


step("fstat", lambda: None, False)
step("fchmod", lambda: os.fchmod(fd, 0o600), False)
step("fchown", lambda: os.fchown(fd, 1234, 5678), False)
step("ftruncate", lambda: os.ftruncate(fd, 5), False)
step("futimens", lambda: os.utime(fd, ns=(T, T)))
step("fsync", lambda: os.fsync(fd))
step("fdatasync", lambda: os.fdatasync(fd))
step("read", lambda: os.pread(fd, 100, 0))
step("write", lambda: os.pwrite(fd, b"XY", 3), False)
step("read-after-write", lambda: os.pread(fd, 100, 0), False)
step("append", lambda: os.pwrite(fd, b"!", os.fstat(fd).st_size), False)
step("fsetxattr", lambda: os.setxattr(fd, "user.t", b"v"), False)
step("fgetxattr", lambda: os.getxattr(fd, "user.t"), False)
step("flistxattr", lambda: sorted(os.listxattr(fd)), False)
step("fremovexattr", lambda: os.removexattr(fd, "user.t"), False)
step("fgetxattr-gone", lambda: os.getxattr(fd, "user.t"), False)
print("names-open", sorted(os.listdir(d)))
os.close(fd)
print("names-closed", sorted(os.listdir(d)))
if keep_link:
    s = os.stat(q)
    print("link", oct(s.st_mode), s.st_nlink, s.st_uid, s.st_gid, s.st_size)
    with open(q, "rb") as f:
        print("link-data", f.read())
