package dev.tfs.sink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The durable position of one mirror (guarantee G3): which (volume, epoch, seq) it has applied and,
 * per topic partition, the next offset to consume and the last seq seen there. Kept outside the
 * mirrored tree, in {@code tfs.state.dir}, in a file named after the connector and a hash of the
 * mirror root, so a fresh root never inherits another root's position.
 *
 * <p><b>Format.</b> A 128 KiB file, memory-mapped, holding two slots of 64 KiB. Each {@link
 * #save()} serializes the whole state into the slot not holding the newest copy, with a generation
 * number one higher and a CRC-32C over the slot; {@link #open} picks the valid slot with the
 * highest generation. A save is a memory copy into the page cache, so it survives a killed process
 * at any instant (the kernel owns the dirty pages); a torn slot after a power loss fails its
 * checksum and the other slot is used. {@link #force()} (called at commit when {@code
 * tfs.fsync=commit}) makes it durable across power loss.
 *
 * <pre>
 * slot := magic "TFSS" (4) | format 1 (int) | generation (long) | payload length (int)
 *         | payload | crc32c of all bytes before it (int)
 * payload := volume (str) | epoch (long) | appliedSeq (long) | appliedTimeNs (long)
 *         | topic (str) | partitions (int) { partition (int) nextOffset (long) lastSeq (long) }*
 *         | diverged (byte) | divergedReason (str) | snapshot (byte: 0 none 1 running 2 done)
 *         | snapshotBeginSeq (long) | mirrorRoot (str)
 *         | bootId (str) | committedSeq (long) | cleanStop (byte)
 * str := length (int) | UTF-8 bytes        all numbers little-endian
 * </pre>
 *
 * <p><b>Unclean host stops.</b> A killed worker loses nothing: the mapped pages belong to the
 * kernel. A power loss or kernel crash can lose page-cache data of the mirror and of this file in
 * any order, so after one the state may claim ops whose effects never reached the disk. Each save
 * records the kernel's boot id; {@link #committedSeq} is the seq made durable together with the
 * mirror at the last commit ({@code tfs.fsync=commit}); {@link #cleanStop} is set by an orderly
 * task stop after a sync. On open, a different boot id without a clean stop and with ops beyond the
 * committed seq means the mirror may have lost ops: the task marks it diverged (see {@link
 * #uncleanHostStop()}).
 *
 * <p>Not thread-safe: owned by the task thread.
 */
public final class MirrorState implements AutoCloseable {
  static final int SLOT_BYTES = 64 * 1024;
  static final int FILE_BYTES = 2 * SLOT_BYTES;
  private static final int MAGIC = 0x53534654; // "TFSS" little-endian
  private static final int FORMAT = 1;
  private static final int MAX_REASON_BYTES = 2048;

  /** Snapshot (bootstrap) status as recorded from SnapshotBegin/End ops. */
  public enum Snapshot {
    NONE(0),
    RUNNING(1),
    DONE(2);

    /** The byte that stands for it in the state file: fixed, whatever the declaration order. */
    final byte code;

    Snapshot(int code) {
      this.code = (byte) code;
    }

    static Snapshot ofCode(byte code) {
      for (Snapshot s : values()) {
        if (s.code == code) {
          return s;
        }
      }
      throw new IllegalStateException("unknown snapshot status " + code + " in the state file");
    }
  }

  /** Per-partition position. */
  public static final class PartitionPos {
    private long nextOffset;
    private long lastSeq;

    PartitionPos(long nextOffset, long lastSeq) {
      this.nextOffset = nextOffset;
      this.lastSeq = lastSeq;
    }

    /** Next offset to consume in this partition. */
    public long nextOffset() {
      return nextOffset;
    }

    /** seq of the last record of this partition that was applied or skipped (0: none). */
    public long lastSeq() {
      return lastSeq;
    }

    /** Moves forward (never back) to {@code nextOffset} and {@code seq}. */
    void advance(long nextOffset, long seq) {
      this.nextOffset = Math.max(this.nextOffset, nextOffset);
      this.lastSeq = Math.max(this.lastSeq, seq);
    }
  }

  private final Path file;
  private final FileChannel channel;
  private final MappedByteBuffer map;
  private final ByteBuffer scratch = ByteBuffer.allocate(SLOT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
  private final CRC32C crc = new CRC32C();
  private final boolean existed;
  private long generation;

  private String volume = "";
  private long epoch;
  private long appliedSeq;
  private long appliedTimeNs;
  private String topic = "";
  private final Map<Integer, PartitionPos> partitions = new TreeMap<>();
  private boolean diverged;
  private String divergedReason = "";
  private Snapshot snapshot = Snapshot.NONE;
  private long snapshotBeginSeq;
  private String mirrorRoot = "";
  private String bootId = "";
  private long committedSeq;
  private boolean cleanStop;

  /** The running kernel's boot id, or empty when it cannot be read. */
  public static final String BOOT_ID = readBootId();

  /** What {@link #save()} records as the boot id: the running kernel's, except in tests. */
  private String saveBootId = BOOT_ID;

  /** Test hook: pretend the saves happen during another boot. */
  void saveBootIdForTest(String id) {
    saveBootId = id;
  }

  private static String readBootId() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * True when the state was last saved during another boot, the task did not stop cleanly then, and
   * ops beyond the last commit were recorded: the host went down uncleanly and the mirror may lack
   * some of ops {@code committedSeq+1 .. appliedSeq}.
   */
  public boolean uncleanHostStop() {
    return existed
        && !bootId.isEmpty()
        && !BOOT_ID.isEmpty()
        && !bootId.equals(BOOT_ID)
        && !cleanStop
        && appliedSeq > committedSeq;
  }

  private MirrorState(Path file, FileChannel channel, MappedByteBuffer map, boolean existed) {
    this.file = file;
    this.channel = channel;
    this.map = map;
    this.existed = existed;
  }

  /**
   * The state file for connector {@code name} mirroring into {@code mirrorRoot}: {@code
   * <stateDir>/<name>-<first 16 hex digits of sha256(mirrorRoot)>.state}.
   */
  public static Path fileFor(Path stateDir, String name, Path mirrorRoot) {
    String safe = name.replaceAll("[^A-Za-z0-9._-]", "_");
    return stateDir.resolve(safe + "-" + rootHash(mirrorRoot) + ".state");
  }

  /** The status file written next to the state file. */
  public static Path statusFileFor(Path stateFile) {
    String n = stateFile.getFileName().toString();
    return stateFile.resolveSibling(
        n.substring(0, n.length() - ".state".length()) + ".status.json");
  }

  /**
   * The list of device nodes the mirror skipped ({@link SkippedNodes}) beside {@code stateFile}:
   * {@code <name>-<roothash>.skipped}.
   */
  public static Path skippedFileFor(Path stateFile) {
    String n = stateFile.getFileName().toString();
    return stateFile.resolveSibling(n.substring(0, n.length() - ".state".length()) + ".skipped");
  }

  static String rootHash(Path mirrorRoot) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256")
              .digest(
                  mirrorRoot
                      .toAbsolutePath()
                      .normalize()
                      .toString()
                      .getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Opens (creating if absent) the state file. A file whose both slots fail their checksum is an
   * error: the position is unknown, so the mirror must be rebuilt.
   */
  public static MirrorState open(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    boolean existed = Files.exists(file);
    FileChannel ch =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      if (ch.size() < FILE_BYTES) {
        if (existed && ch.size() > 0) {
          throw new IOException(
              "state file "
                  + file
                  + " is truncated ("
                  + ch.size()
                  + " bytes); the applied position is unknown: rebuild the mirror into a new empty"
                  + " root, or delete the file together with the mirror's content");
        }
        existed = false;
        ch.write(ByteBuffer.allocate(1), FILE_BYTES - 1);
      }
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, FILE_BYTES);
      map.order(ByteOrder.LITTLE_ENDIAN);
      MirrorState s = new MirrorState(file, ch, map, existed);
      if (existed) {
        s.load();
      }
      return s;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** True when the file held a valid state when opened (false: a fresh mirror). */
  public boolean existed() {
    return existed;
  }

  /** The state file. */
  public Path file() {
    return file;
  }

  // ------------------------------------------------------------------ reading

  /** The volume of the ops applied (empty: none yet). */
  public String volume() {
    return volume;
  }

  /** The journal epoch of the ops applied (0: none yet). */
  public long epoch() {
    return epoch;
  }

  /** The seq applied (or skipped) last; 0 when nothing was applied. */
  public long appliedSeq() {
    return appliedSeq;
  }

  /** The source time (ns) of the op applied last. */
  public long appliedTimeNs() {
    return appliedTimeNs;
  }

  /** The topic the mirror was built from (empty: unknown). */
  public String topic() {
    return topic;
  }

  /** True when an op was skipped or the tree may differ from the source. */
  public boolean diverged() {
    return diverged;
  }

  /** Why the mirror is diverged (empty when it is not). */
  public String divergedReason() {
    return divergedReason;
  }

  /** The snapshot (bootstrap) status. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** seq of the SnapshotBegin of the running or last snapshot. */
  public long snapshotBeginSeq() {
    return snapshotBeginSeq;
  }

  /** The mirror root this state was created for. */
  public String mirrorRoot() {
    return mirrorRoot;
  }

  /** The kernel boot id of the last save (empty: unknown). */
  public String bootId() {
    return bootId;
  }

  /** seq made durable together with the mirror at the last commit (tfs.fsync=commit). */
  public long committedSeq() {
    return committedSeq;
  }

  /** True when the last task stopped in order after syncing mirror and state. */
  public boolean cleanStop() {
    return cleanStop;
  }

  /** Every known partition's position, by partition. */
  public Map<Integer, PartitionPos> partitions() {
    return java.util.Collections.unmodifiableMap(partitions);
  }

  // ------------------------------------------------------------------ changing (then save())

  /** Binds a fresh state to its mirror root and topic. */
  public void bind(String mirrorRoot, String topic) {
    this.mirrorRoot = mirrorRoot;
    this.topic = topic;
  }

  /** Records the volume and epoch of the first op this mirror takes. */
  public void pinIdentity(String volume, long epoch) {
    this.volume = volume;
    this.epoch = epoch;
  }

  /** Records an op as applied. */
  public void recordApplied(long seq, long timeNs) {
    appliedSeq = seq;
    appliedTimeNs = timeNs;
  }

  /** Records a seq as skipped (a tolerated undecodable record); see {@link #markDiverged}. */
  public void recordSkipped(long seq) {
    appliedSeq = seq;
  }

  /** Records a SnapshotBegin at {@code seq}. */
  public void snapshotBegan(long seq) {
    snapshot = Snapshot.RUNNING;
    snapshotBeginSeq = seq;
  }

  /** Records a SnapshotEnd. */
  public void snapshotEnded() {
    snapshot = Snapshot.DONE;
  }

  /** Marks the mirror diverged: an op was skipped or the tree may differ from the source. */
  public void markDiverged(String reason) {
    diverged = true;
    divergedReason = reason;
  }

  /** Records that everything applied so far is durable with the mirror (after a sync). */
  public void committed() {
    committedSeq = appliedSeq;
  }

  /** Records whether the task stops in order now (true) or runs (false). */
  public void cleanStop(boolean clean) {
    cleanStop = clean;
  }

  /** The position of a partition, created at (offset 0, seq 0) when unknown. */
  public PartitionPos partition(int partition) {
    return partitions.computeIfAbsent(partition, p -> new PartitionPos(0, 0));
  }

  private void load() throws IOException {
    long best = -1;
    int bestSlot = -1;
    for (int slot = 0; slot < 2; slot++) {
      long gen = validGeneration(slot);
      if (gen > best) {
        best = gen;
        bestSlot = slot;
      }
    }
    if (bestSlot < 0) {
      if (isAllZero()) {
        return; // created but never saved
      }
      throw new IOException(
          "state file "
              + file
              + " has no valid slot (both checksums fail); the applied position is unknown: rebuild"
              + " the mirror into a new empty root");
    }
    generation = best;
    ByteBuffer b = map.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.position(bestSlot * SLOT_BYTES + 20);
    volume = str(b);
    epoch = b.getLong();
    appliedSeq = b.getLong();
    appliedTimeNs = b.getLong();
    topic = str(b);
    int n = b.getInt();
    partitions.clear();
    for (int i = 0; i < n; i++) {
      int p = b.getInt();
      partitions.put(p, new PartitionPos(b.getLong(), b.getLong()));
    }
    diverged = b.get() != 0;
    divergedReason = str(b);
    snapshot = Snapshot.ofCode(b.get());
    snapshotBeginSeq = b.getLong();
    mirrorRoot = str(b);
    bootId = str(b);
    committedSeq = b.getLong();
    cleanStop = b.get() != 0;
  }

  private boolean isAllZero() {
    for (int i = 0; i < FILE_BYTES; i += 8) {
      if (map.getLong(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private long validGeneration(int slot) {
    int base = slot * SLOT_BYTES;
    if (map.getInt(base) != MAGIC || map.getInt(base + 4) != FORMAT) {
      return -1;
    }
    long gen = map.getLong(base + 8);
    int len = map.getInt(base + 16);
    if (len < 0 || len > SLOT_BYTES - 24) {
      return -1;
    }
    crc.reset();
    ByteBuffer b = map.duplicate();
    b.position(base).limit(base + 20 + len);
    crc.update(b);
    return (int) crc.getValue() == map.getInt(base + 20 + len) ? gen : -1;
  }

  /** Writes the state into the older slot. Cheap: a serialization and a memory copy. */
  public void save() {
    ByteBuffer b = scratch;
    b.clear();
    b.putInt(MAGIC).putInt(FORMAT).putLong(generation + 1).putInt(0);
    putStr(b, volume, 256);
    b.putLong(epoch).putLong(appliedSeq).putLong(appliedTimeNs);
    putStr(b, topic, 512);
    int room = (SLOT_BYTES - 20 - 4 - 256 - 512 - MAX_REASON_BYTES - 4096 - 8192) / 20;
    if (partitions.size() > room) {
      throw new IllegalStateException(
          "too many partitions for the state file: " + partitions.size() + " > " + room);
    }
    b.putInt(partitions.size());
    for (Map.Entry<Integer, PartitionPos> e : partitions.entrySet()) {
      b.putInt(e.getKey()).putLong(e.getValue().nextOffset).putLong(e.getValue().lastSeq);
    }
    b.put((byte) (diverged ? 1 : 0));
    putStr(b, divergedReason, MAX_REASON_BYTES);
    b.put(snapshot.code);
    b.putLong(snapshotBeginSeq);
    putStr(b, mirrorRoot, 4096);
    putStr(b, saveBootId, 64);
    b.putLong(committedSeq);
    b.put((byte) (cleanStop ? 1 : 0));
    int len = b.position() - 20;
    b.putInt(16, len);
    crc.reset();
    crc.update(b.duplicate().flip());
    b.putInt((int) crc.getValue());
    generation++;
    int slot = (int) (generation & 1);
    map.put(slot * SLOT_BYTES, b, 0, b.position());
  }

  /** Flushes the mapped slots to disk (msync). */
  public void force() {
    map.force();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private static void putStr(ByteBuffer b, String s, int max) {
    byte[] bytes = s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    int n = Math.min(bytes.length, max);
    b.putInt(n).put(bytes, 0, n);
  }

  private static String str(ByteBuffer b) {
    int n = b.getInt();
    byte[] bytes = new byte[n];
    b.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
