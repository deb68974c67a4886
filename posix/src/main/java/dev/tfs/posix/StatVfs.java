package dev.tfs.posix;

/** File system statistics as statvfs(3) reports them. */
public record StatVfs(
    long bsize,
    long frsize,
    long blocks,
    long bfree,
    long bavail,
    long files,
    long ffree,
    long favail,
    long fsid,
    long flag,
    long namemax) {}
