package dev.tfs.posix;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * The libc functions tfs calls, bound by jnr-ffi. Paths are NUL-terminated byte arrays (see {@link
 * Posix#cstr}); sizes and offsets are 64-bit (LP64 Linux only). Use {@link Posix} rather than this
 * interface unless a hot path needs raw return codes: every call here reports failure as -1 and
 * leaves errno in {@link Posix#errno()}.
 */
public interface LibC {
  int openat(int dirfd, @In byte[] path, int flags, int mode);

  int close(int fd);

  int dup(int fd);

  long pread(int fd, Pointer buf, long count, long offset);

  long pwrite(int fd, Pointer buf, long count, long offset);

  long pread(int fd, @Out byte[] buf, long count, long offset);

  long pwrite(int fd, @In byte[] buf, long count, long offset);

  long lseek(int fd, long offset, int whence);

  int statx(int dirfd, @In byte[] path, int flags, int mask, Pointer buf);

  int fstatvfs(int fd, Pointer buf);

  int mkdirat(int dirfd, @In byte[] path, int mode);

  int mknodat(int dirfd, @In byte[] path, int mode, long dev);

  int unlinkat(int dirfd, @In byte[] path, int flags);

  int renameat2(int olddirfd, @In byte[] oldpath, int newdirfd, @In byte[] newpath, int flags);

  int linkat(int olddirfd, @In byte[] oldpath, int newdirfd, @In byte[] newpath, int flags);

  int symlinkat(@In byte[] target, int newdirfd, @In byte[] linkpath);

  long readlinkat(int dirfd, @In byte[] path, @Out byte[] buf, long bufsiz);

  int fchmodat(int dirfd, @In byte[] path, int mode, int flags);

  int fchmod(int fd, int mode);

  int fchownat(int dirfd, @In byte[] path, int uid, int gid, int flags);

  int fchown(int fd, int uid, int gid);

  int utimensat(int dirfd, @In byte[] path, @In long[] times, int flags);

  int futimens(int fd, @In long[] times);

  int ftruncate(int fd, long length);

  int fallocate(int fd, int mode, long offset, long len);

  int fsync(int fd);

  int fdatasync(int fd);

  int syncfs(int fd);

  int faccessat(int dirfd, @In byte[] path, int mode, int flags);

  long getxattr(@In byte[] path, @In byte[] name, @Out byte[] value, long size);

  long lgetxattr(@In byte[] path, @In byte[] name, @Out byte[] value, long size);

  int setxattr(@In byte[] path, @In byte[] name, @In byte[] value, long size, int flags);

  int lsetxattr(@In byte[] path, @In byte[] name, @In byte[] value, long size, int flags);

  long listxattr(@In byte[] path, @Out byte[] list, long size);

  long llistxattr(@In byte[] path, @Out byte[] list, long size);

  int removexattr(@In byte[] path, @In byte[] name);

  int lremovexattr(@In byte[] path, @In byte[] name);

  Pointer fdopendir(int fd);

  Pointer readdir(Pointer dir);

  int closedir(Pointer dir);

  long syscall(long number, int dirfd, @In byte[] path, @In long[] how, long size);

  int geteuid();

  int getegid();

  int getpid();

  int umask(int mask);

  String strerror(int errnum);
}
