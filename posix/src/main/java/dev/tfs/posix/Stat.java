package dev.tfs.posix;

/**
 * The attributes of a file as statx(2) reports them. Times are nanoseconds since the Unix epoch;
 * {@code mode} includes the file type bits.
 */
public record Stat(
    int mode,
    long ino,
    long dev,
    long nlink,
    int uid,
    int gid,
    long rdev,
    long size,
    long blocks,
    int blksize,
    long atimeNs,
    long mtimeNs,
    long ctimeNs) {

  /** File type bits ({@link Flags#S_IFMT} part of mode). */
  public int type() {
    return mode & Flags.S_IFMT;
  }

  /** Permission bits including setuid, setgid and sticky (mode &amp; 07777). */
  public int permissions() {
    return mode & 07777;
  }

  public boolean isRegular() {
    return type() == Flags.S_IFREG;
  }

  public boolean isDirectory() {
    return type() == Flags.S_IFDIR;
  }

  public boolean isSymlink() {
    return type() == Flags.S_IFLNK;
  }

  public boolean isFifo() {
    return type() == Flags.S_IFIFO;
  }

  public boolean isSocket() {
    return type() == Flags.S_IFSOCK;
  }

  /** Major device number of rdev. */
  public int rdevMajor() {
    return (int) ((rdev >>> 8) & 0xfff) | (int) ((rdev >>> 32) & ~0xfff);
  }

  /** Minor device number of rdev. */
  public int rdevMinor() {
    return (int) (rdev & 0xff) | (int) ((rdev >>> 12) & ~0xff);
  }
}
