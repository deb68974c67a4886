package dev.tfs.posix;

/**
 * One directory entry: its raw name bytes, inode and d_type (DT_* value; {@link #DT_UNKNOWN} when
 * the file system does not say).
 */
// A value handed from a listing to its reader, never compared or hashed: the array is fine.
@SuppressWarnings("ArrayRecordComponent")
public record DirEntry(byte[] name, long ino, int type) {
  public static final int DT_UNKNOWN = 0;
  public static final int DT_FIFO = 1;
  public static final int DT_CHR = 2;
  public static final int DT_DIR = 4;
  public static final int DT_BLK = 6;
  public static final int DT_REG = 8;
  public static final int DT_LNK = 10;
  public static final int DT_SOCK = 12;
}
