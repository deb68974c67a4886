#!/usr/bin/env python3
"""Conformance case runner: runs every case of cases.CASES (or only the ids given after DIR) in a
fresh subdirectory of DIR and prints one line per case: "<id>\t<json>".

    sudo python3 runner.py DIR [case-id ...]

ConformanceTest runs it on a plain directory and on a tfs-capture mount and compares the lines;
the plain directory is the oracle.

Run as root. A case marked U (unprivileged) runs its steps with effective uid/gid 65534 (no
supplementary groups, no effective capabilities: the kernel clears them when the euid leaves 0); a
step prefixed "root:" (or "user:" in a root case) switches identity for that step only, so root can
change a file between two steps of the unprivileged user. The prep of a case runs as root (its
commands may take a "user:" prefix too); the case directory of a U case belongs to 65534.
Switching the effective ids, rather than starting a setpriv child per case, keeps a case's open
fds across identity switches; access() is asked with AT_EACCESS so it checks the effective ids.

What one step records: its result ("ok", "ok:<value>" or the errno name), then for every watched
name (the path arguments of the case, in order of appearance, plus every open fd as "#name") the
lstat/fstat as seen by the case's identity: type, mode, nlink, uid, gid, size (rdev for devices)
and which of atime/mtime/ctime moved during the step ("amc", "-" for unmoved, "new" when the name
did not exist before, "repl" when it names another inode now). Before each step the runner waits
until the kernel's coarse clock has passed every timestamp it observed, so "moved" never depends on
two changes landing in one clock tick.
"""
import ctypes
import errno
import json
import os
import stat
import sys
import time

USER_UID = 65534
USER_GID = 65534
NAME256 = "n" * 256
NAME255 = "m" * 255
# 4096 bytes: one more than the longest path the kernel accepts (PATH_MAX counts the NUL).
PATHMAX = ("d" * 200 + "/") * 20 + "e" * 76
assert len(PATHMAX) == 4096
CROSS = "/dev/shm/tfs-oracle-%d" % os.getpid()  # on another file system: for EXDEV
LATIN1 = os.fsdecode(b"caf\xe9")  # a name that is not UTF-8: names are bytes
BIG = "x" * 300000  # more than one 128 KiB FUSE write
SPECIAL = {"NAME256": NAME256, "NAME255": NAME255, "PATHMAX": PATHMAX, "CROSS": CROSS,
           "LATIN1": LATIN1, "BIG": BIG}
UNWATCHED = ("NAME256", "PATHMAX", "CROSS")

libc = ctypes.CDLL(None, use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
CLOCK_REALTIME_COARSE = 5
libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(Timespec), ctypes.c_int]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
libc.futimens.argtypes = [ctypes.c_int, ctypes.POINTER(Timespec)]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def check(r):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def ts(tok):
    if tok == "NOW":
        return Timespec(0, UTIME_NOW)
    if tok == "OMIT":
        return Timespec(0, UTIME_OMIT)
    if tok == "BAD":
        return Timespec(0, 2_000_000_000)  # tv_nsec out of range
    return Timespec(int(tok), 0)


def utimensat(path, a, m, flags):
    times = (Timespec * 2)(ts(a), ts(m))
    check(libc.utimensat(AT_FDCWD, os.fsencode(path), times, flags))


def futimens(fd, a, m):
    check(libc.futimens(fd, (Timespec * 2)(ts(a), ts(m))))


OPEN_FLAGS = {"RDONLY": os.O_RDONLY, "WRONLY": os.O_WRONLY, "RDWR": os.O_RDWR,
              "CREAT": os.O_CREAT, "EXCL": os.O_EXCL, "TRUNC": os.O_TRUNC,
              "APPEND": os.O_APPEND, "DIRECTORY": os.O_DIRECTORY, "NOFOLLOW": os.O_NOFOLLOW,
              "NONBLOCK": os.O_NONBLOCK, "TMPFILE": os.O_TMPFILE}
ACCESS = {"F": os.F_OK, "R": os.R_OK, "W": os.W_OK, "X": os.X_OK}
WHENCE = {"SET": os.SEEK_SET, "CUR": os.SEEK_CUR, "END": os.SEEK_END, "DATA": os.SEEK_DATA,
          "HOLE": os.SEEK_HOLE}
KINDS = {"f": stat.S_IFREG, "c": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO,
         "s": stat.S_IFSOCK}


def bits(table, tok):
    v = 0
    for t in tok.split(","):
        v |= table[t]
    return v


class Ctx:
    def __init__(self):
        self.fds = {}


def fd_of(c, name):
    if name not in c.fds:
        raise OSError(errno.EBADF, "no fd " + name)
    return c.fds[name]


def c_open(c, f, p, flags, mode="0644"):
    c.fds[f] = os.open(p, bits(OPEN_FLAGS, flags), int(mode, 8))


def c_close(c, f):
    os.close(fd_of(c, f))
    del c.fds[f]


def c_creat(c, p, mode="0644"):
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(mode, 8)))


def c_mknod(c, p, kind, mode, major="0", minor="0"):
    os.mknod(p, KINDS[kind] | int(mode, 8), os.makedev(int(major), int(minor)))


def c_rename2(c, a, b, flags):
    fl = {"NOREPLACE": 1, "EXCHANGE": 2}[flags]
    check(libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), fl))


def c_read(c, f, n):
    return os.read(fd_of(c, f), int(n)).decode("latin-1")


def c_pread(c, f, n, off):
    return os.pread(fd_of(c, f), int(n), int(off)).decode("latin-1")


def c_write(c, f, data):
    return os.write(fd_of(c, f), data.encode("latin-1"))


def c_pwrite(c, f, data, off):
    return os.pwrite(fd_of(c, f), data.encode("latin-1"), int(off))


def c_fallocate(c, f, mode, off, ln):
    check(libc.fallocate(fd_of(c, f), int(mode), int(off), int(ln)))


def c_acl(c, p, uid, perm, other="0"):
    """Sets a POSIX access ACL: owner rw, group none, user <uid> <perm>, mask rwx, other.

    The mask is rwx because the kernel consults the ACL only when the mode's group bits (the mask)
    are not all zero."""
    none = 0xFFFFFFFF
    entries = [(0x01, 6, none), (0x02, int(perm), int(uid)), (0x04, 0, none),
               (0x10, 7, none), (0x20, int(other), none)]
    value = (2).to_bytes(4, "little") + b"".join(
        t.to_bytes(2, "little") + pm.to_bytes(2, "little") + i.to_bytes(4, "little")
        for t, pm, i in entries)
    os.setxattr(p, "system.posix_acl_access", value)


def c_copy(c, f, g, n):
    return os.copy_file_range(fd_of(c, f), fd_of(c, g), int(n), 0, 0)


def c_stat(c, p):
    return describe(os.stat(p))


def c_fstat(c, f):
    return describe(os.fstat(fd_of(c, f)))


def c_access(c, p, modes):
    return "yes" if os.access(p, bits(ACCESS, modes), effective_ids=True) else "no"


def c_xset(c, p, name, value, flags="0"):
    fl = {"0": 0, "CREATE": os.XATTR_CREATE, "REPLACE": os.XATTR_REPLACE}[flags]
    os.setxattr(p, name, value.encode(), fl, follow_symlinks=False)


COMMANDS = {
    # name: (argument kinds, function); P = path, F = fd name, anything else = a literal
    "creat": ("P?", c_creat),
    "mkdir": ("P?", lambda c, p, m="0755": os.mkdir(p, int(m, 8))),
    "rmdir": ("P", lambda c, p: os.rmdir(p)),
    "unlink": ("P", lambda c, p: os.unlink(p)),
    "link": ("PP", lambda c, a, b: os.link(a, b, follow_symlinks=False)),
    "symlink": ("-P", lambda c, t, p: os.symlink(t, p)),
    "readlink": ("P", lambda c, p: os.readlink(p)),
    "rename": ("PP", lambda c, a, b: os.rename(a, b)),
    "rename2": ("PP-", c_rename2),
    "mknod": ("P--??", c_mknod),
    "chmod": ("P-", lambda c, p, m: os.chmod(p, int(m, 8))),
    "chown": ("P--", lambda c, p, u, g: os.chown(p, int(u), int(g))),
    "lchown": ("P--", lambda c, p, u, g: os.chown(p, int(u), int(g), follow_symlinks=False)),
    "utimens": ("P--", lambda c, p, a, m: utimensat(p, a, m, 0)),
    "lutimens": ("P--", lambda c, p, a, m: utimensat(p, a, m, AT_SYMLINK_NOFOLLOW)),
    "truncate": ("P-", lambda c, p, n: os.truncate(p, int(n))),
    "stat": ("P", c_stat),
    "access": ("P-", c_access),
    "listdir": ("P", lambda c, p: ",".join(sorted(os.listdir(p)))),
    "statvfs": ("P", lambda c, p: "namemax=%d" % os.statvfs(p).f_namemax),
    "setxattr": ("P--?", c_xset),
    "getxattr": ("P-", lambda c, p, n: os.getxattr(p, n, follow_symlinks=False).decode()),
    "listxattr": ("P", lambda c, p: ",".join(sorted(os.listxattr(p, follow_symlinks=False)))),
    "removexattr": ("P-", lambda c, p, n: os.removexattr(p, n, follow_symlinks=False)),
    "fsetxattr": ("F--", lambda c, f, n, v: os.setxattr(fd_of(c, f), n, v.encode())),
    "fgetxattr": ("F-", lambda c, f, n: os.getxattr(fd_of(c, f), n).decode()),
    "acl": ("P--?", c_acl),
    "copy": ("FF-", c_copy),
    "open": ("FP-?", c_open),
    "close": ("F", c_close),
    "read": ("F-", c_read),
    "pread": ("F--", c_pread),
    "write": ("F-", c_write),
    "pwrite": ("F--", c_pwrite),
    "lseek": ("F--", lambda c, f, off, wh: os.lseek(fd_of(c, f), int(off), WHENCE[wh])),
    "fstat": ("F", c_fstat),
    "fchmod": ("F-", lambda c, f, m: os.fchmod(fd_of(c, f), int(m, 8))),
    "fchown": ("F--", lambda c, f, u, g: os.fchown(fd_of(c, f), int(u), int(g))),
    "ftruncate": ("F-", lambda c, f, n: os.ftruncate(fd_of(c, f), int(n))),
    "futimens": ("F--", lambda c, f, a, m: futimens(fd_of(c, f), a, m)),
    "fsync": ("F", lambda c, f: os.fsync(fd_of(c, f))),
    "fdatasync": ("F", lambda c, f: os.fdatasync(fd_of(c, f))),
    "fallocate": ("F---", c_fallocate),
}


def parse(cmd):
    """'[root:|user:] name args...' -> (who or None, name, args, path args)."""
    who = None
    cmd = cmd.strip()
    for w in ("root:", "user:"):
        if cmd.startswith(w):
            who, cmd = w[:-1], cmd[len(w):].strip()
    toks = cmd.split()
    name, args = toks[0], [SPECIAL.get(t, t) for t in toks[1:]]
    kinds = COMMANDS[name][0]
    if not (len(kinds.rstrip("?")) <= len(args) <= len(kinds)):
        raise SystemExit("bad arity: " + cmd)
    paths = [toks[1 + i] for i, k in enumerate(kinds[:len(args)]) if k == "P"]
    return who, name, args, paths


def describe(st):
    m = st.st_mode
    kind = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c",
            stat.S_IFBLK: "b", stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}[stat.S_IFMT(m)]
    d = "%s %04o n%d u%d g%d s%d" % (kind, stat.S_IMODE(m), st.st_nlink, st.st_uid, st.st_gid,
                                    st.st_size)
    if kind in "cb":
        d += " r%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return d


def become(who):
    if who == "user":
        if os.geteuid() != USER_UID:
            os.setegid(USER_GID)
            os.seteuid(USER_UID)
    elif os.geteuid() != 0:
        os.seteuid(0)
        os.setegid(0)


def err(e):
    return errno.errorcode.get(e.errno, str(e.errno))


class Watch:
    """The watched names of a case and their last stat, to tell what a step moved."""

    def __init__(self, names):
        self.names = names
        self.last = {}
        self.latest = 0

    def snapshot(self, c):
        out = {}
        now = {}
        keys = [(n, None) for n in self.names] + [("#" + f, fd) for f, fd in c.fds.items()]
        for key, fd in keys:
            try:
                st = os.fstat(fd) if fd is not None else os.lstat(SPECIAL.get(key, key))
            except OSError as e:
                out[key] = err(e)
                continue
            now[key] = st
            self.latest = max(self.latest, st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns)
            before = self.last.get(key)
            if before is None:
                moved = "new"
            elif before.st_ino != st.st_ino:
                moved = "repl"
            else:
                moved = "".join(
                    ch if getattr(st, f) != getattr(before, f) else "-"
                    for ch, f in (("a", "st_atime_ns"), ("m", "st_mtime_ns"),
                                  ("c", "st_ctime_ns")))
            out[key] = describe(st) + " " + moved
        self.last = now
        return out

    def tick(self):
        # Wait for the clock that stamps inodes to pass what was seen (a condition, not a delay).
        while time.clock_gettime_ns(CLOCK_REALTIME_COARSE) <= self.latest:
            time.sleep(0.0005)


def run(c, cmd, default_who):
    who, name, args, _ = parse(cmd)
    become(who or default_who)
    try:
        v = COMMANDS[name][1](c, *args)
        return "ok" if v is None else "ok:%s" % (v,)
    except OSError as e:
        return err(e)
    finally:
        become(default_who)


def run_case(base, index, case):
    cid, user, prep, steps, watch = case
    d = os.path.join(base, "c%03d" % index)
    os.mkdir(d, 0o755)
    if user:
        os.chown(d, USER_UID, USER_GID)
    os.chdir(d)
    c = Ctx()
    out = {"prep": [], "steps": []}
    try:
        os.umask(0)  # prep modes are exact; steps run under umask 022
        for cmd in prep:
            r = run(c, cmd, "root")
            if r.startswith("E"):
                out["prep"].append(cmd + " -> " + r)
        os.umask(0o022)
        who = "user" if user else "root"
        become(who)
        w = Watch(watch)
        w.snapshot(c)
        for cmd in steps:
            w.tick()
            r = run(c, cmd, who)
            out["steps"].append({"op": cmd, "res": r, "st": w.snapshot(c)})
    finally:
        become("root")
        for fd in c.fds.values():
            os.close(fd)
        os.chdir(base)
    return cid, out


def names_of(prep, steps):
    seen = []
    for cmd in prep + steps:
        for p in parse(cmd)[3]:
            if p not in seen and p not in UNWATCHED and not p.startswith("/"):
                seen.append(p)
    return seen


def main():
    base = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    os.setgroups([])
    import cases  # the table, next to this file
    seen = set()
    for i, (cid, user, prep, steps, *watch) in enumerate(cases.CASES):
        if cid in seen:
            raise SystemExit("duplicate case id " + cid)
        seen.add(cid)
        if only and cid not in only:
            continue
        prep = [s.strip() for s in prep.split(";") if s.strip()]
        steps = [s.strip() for s in steps.split(";") if s.strip()]
        names = watch[0].split() if watch else names_of(prep, steps)
        cid, out = run_case(base, i, (cid, user, prep, steps, names))
        print(cid + "\t" + json.dumps(out, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
