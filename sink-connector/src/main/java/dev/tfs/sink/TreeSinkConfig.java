package dev.tfs.sink;

import dev.tfs.connect.ConfigValidation;
import dev.tfs.connect.ConfigValidation.Problem;
import dev.tfs.op.Volumes;
import dev.tfs.posix.Posix;
import dev.tfs.registry.SchemaRegistryClient;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

/**
 * Configuration of {@link TreeSinkConnector}. Every key has a group, an order, a width, a display
 * name and documentation; {@code dev.tfs.connect.ConfigMarkdown} renders them into {@code
 * sink-connector/README.md}. Each key's own rules are its validator; the rules between keys (and
 * Connect's {@code topics} and {@code value.converter}) are {@link #crossFieldProblems}, which the
 * connector's {@code validate()} and {@code start()} apply through {@link ConfigValidation}.
 */
public final class TreeSinkConfig extends AbstractConfig {
  public static final String GROUP_MIRROR = "Mirror";
  public static final String GROUP_REPLAY = "Point in time";
  public static final String GROUP_DECODING = "Decoding";
  public static final String GROUP_RESOURCES = "Resources";

  public static final String MIRROR_ROOT_CONFIG = "tfs.mirror.root";
  public static final String MIRROR_ROOT_DOC =
      "Absolute path of the directory the mirror is materialized in. Created if absent; must be a"
          + " writable directory (not a symlink). One mirror root per connector: a fresh root starts"
          + " from the first record of the topic, and a root that holds files but has no state is"
          + " refused (rebuild into an empty root).";
  public static final String MIRROR_ROOT_DISPLAY = "Mirror root";

  public static final String STATE_DIR_CONFIG = "tfs.state.dir";
  public static final String STATE_DIR_DEFAULT = "/var/lib/tfs/sink";
  public static final String STATE_DIR_DOC =
      "Directory holding the mirror's applied position (volume, epoch, seq, per-partition offsets)"
          + " and its status file <connector>-<roothash>.status.json. Must lie outside the mirror"
          + " root (and not contain it). The default is under /var/lib because the position must"
          + " live as long as the mirror: a state dir under a tmpfs /tmp would be wiped at reboot"
          + " and force a rebuild. Workers that do not run as root should set a writable"
          + " directory.";
  public static final String STATE_DIR_DISPLAY = "State directory";

  public static final String FSYNC_CONFIG = "tfs.fsync";
  public static final String FSYNC_NONE = "none";
  public static final String FSYNC_COMMIT = "commit";
  public static final String FSYNC_DEFAULT = FSYNC_COMMIT;
  public static final String FSYNC_DOC =
      "When the mirror and its state are forced to disk. 'commit': at every offset commit the"
          + " mirror's file system is synced (syncfs) and the state file forced before the offsets"
          + " are handed to Connect, so a power loss never leaves offsets ahead of the data. 'none':"
          + " rely on the page cache; the state survives a killed worker either way.";
  public static final String FSYNC_DISPLAY = "Fsync policy";

  public static final String REPLAY_UNTIL_SEQ_CONFIG = "tfs.replay.until.seq";
  public static final String REPLAY_UNTIL_SEQ_DOC =
      "Point in time by sequence number: apply ops up to and including this seq, then pause all"
          + " partitions and stay idle (status 'replay target reached'). Unset: follow the topic. A"
          + " target below the mirror's applied seq fails the task (ops cannot be un-applied; use a"
          + " fresh root).";
  public static final String REPLAY_UNTIL_SEQ_DISPLAY = "Replay until seq";

  public static final String REPLAY_UNTIL_TIME_CONFIG = "tfs.replay.until.time";
  public static final String REPLAY_UNTIL_TIME_DOC =
      "Point in time by op time: an ISO-8601 instant (2026-01-31T12:00:00Z) or epoch"
          + " milliseconds. Ops are applied in seq order until the first op whose time is later;"
          + " then the connector pauses as for tfs.replay.until.seq. Exclusive with"
          + " tfs.replay.until.seq.";
  public static final String REPLAY_UNTIL_TIME_DISPLAY = "Replay until time";

  public static final String OWNER_POLICY_CONFIG = "tfs.owner.policy";
  public static final String OWNER_POLICY_DEFAULT = "auto";
  public static final String OWNER_POLICY_DOC =
      "Ownership of mirrored files. 'auto': set the source's uid/gid when the worker runs as root,"
          + " otherwise files belong to the worker's user. 'preserve': always set them and fail"
          + " when not permitted (needs root). 'ignore': never set them.";
  public static final String OWNER_POLICY_DISPLAY = "Owner policy";

  public static final String SPECIAL_FILES_CONFIG = "tfs.special.files";
  public static final String SPECIAL_FILES_SKIP = "skip";
  public static final String SPECIAL_FILES_CREATE = "create";
  public static final String SPECIAL_FILES_DEFAULT = SPECIAL_FILES_SKIP;
  public static final String SPECIAL_FILES_DOC =
      "What the mirror does with the source's char and block device nodes (FIFOs and sockets are"
          + " always created). 'skip': no device node is created; the mirror's status counts them"
          + " (skippedSpecialFiles), the worker log names each one once, and later ops on such a"
          + " name follow the skip (unlink forgets it, rename moves it, link adds the new name,"
          + " attribute and xattr changes do nothing), so the mirror neither fails nor diverges;"
          + " tfs verify reports them as skipped by this policy. 'create': the same node is made"
          + " (type, major:minor, mode, owner); this needs the worker to run as root (CAP_MKNOD),"
          + " otherwise the task fails at the first device node and says so. Skip is the default"
          + " because a device node in a mirror gives whoever can open it raw access to a device"
          + " of the mirror host (a copy of a disk's node with mode 0666 is that host's whole"
          + " disk), and the mirror's readers and its host are not the source's. Changing skip"
          + " to create later does not create the nodes skipped so far: rebuild the mirror for"
          + " them.";
  public static final String SPECIAL_FILES_DISPLAY = "Device nodes";

  public static final String VOLUME_CONFIG = "tfs.volume";
  public static final String VOLUME_DOC =
      "Expected volume name. When set, a record of another volume stops the task (G7). Unset: the"
          + " mirror adopts the volume of the first op it applies and refuses any other afterwards.";
  public static final String VOLUME_DISPLAY = "Volume";

  public static final String EPOCH_CONFIG = "tfs.epoch";
  public static final String EPOCH_DOC =
      "The capture journal epoch this mirror holds. Unset: the mirror adopts the epoch of the first"
          + " op it applies and stops on any other (G7). Set it to rebuild a mirror after the"
          + " capture journal was created anew: records of other epochs are skipped (they are"
          + " another history) and the mirror applies this epoch from its seq 1. A mirror root"
          + " that already holds another epoch is refused.";
  public static final String EPOCH_DISPLAY = "Journal epoch";

  public static final String SCHEMA_REGISTRY_URL_CONFIG = "tfs.schema.registry.url";
  public static final String SCHEMA_REGISTRY_URL_DOC =
      "Confluent-API schema registry URL(s), comma-separated, optionally with user:secret@."
          + " Needed only when the shipper writes Confluent-framed values; single-object encoded"
          + " values decode with the schemas bundled in the plugin.";
  public static final String SCHEMA_REGISTRY_URL_DISPLAY = "Schema registry URL";

  public static final String BUFFER_MAX_BYTES_CONFIG = "tfs.buffer.max.bytes";
  public static final long BUFFER_MAX_BYTES_DEFAULT = 64L * 1024 * 1024;
  public static final String BUFFER_MAX_BYTES_DOC =
      "Bound on record bytes held while waiting for an earlier seq from another partition (G6)."
          + " Above it the partitions that run ahead are paused, never the ones that can hold the"
          + " next seq; they are resumed as the buffer drains. Memory can exceed it by at most one"
          + " consumer poll.";
  public static final String BUFFER_MAX_BYTES_DISPLAY = "Reorder buffer bound (bytes)";

  public static final String GAP_TIMEOUT_MS_CONFIG = "tfs.gap.timeout.ms";
  public static final long GAP_TIMEOUT_MS_DEFAULT = 60_000L;
  public static final String GAP_TIMEOUT_MS_DOC =
      "How long the task waits for a seq that no partition can deliver before it stops (G7)."
          + " The wait starts when records are buffered but none is the next seq; it is given up"
          + " when, for this long, no record arrived in a partition that could still hold that seq"
          + " (every such partition was read to its end). The task then fails naming the missing"
          + " seq and each partition's newest record.";
  public static final String GAP_TIMEOUT_MS_DISPLAY = "Unreachable seq timeout (ms)";

  private static void defineGapTimeout(ConfigDef d) {
    d.define(
        GAP_TIMEOUT_MS_CONFIG,
        ConfigDef.Type.LONG,
        GAP_TIMEOUT_MS_DEFAULT,
        ConfigDef.Range.atLeast(0L),
        Importance.LOW,
        GAP_TIMEOUT_MS_DOC,
        GROUP_RESOURCES,
        2,
        Width.SHORT,
        GAP_TIMEOUT_MS_DISPLAY);
  }

  /** How long a seq no partition can deliver is waited for, in ms. */
  public long gapTimeoutMs() {
    return getLong(GAP_TIMEOUT_MS_CONFIG);
  }

  /** The one definition of the connector's own keys. */
  public static final ConfigDef CONFIG_DEF = define();

  private static ConfigDef define() {
    ConfigDef d = new ConfigDef();
    int o = 0;
    d.define(
        MIRROR_ROOT_CONFIG,
        ConfigDef.Type.STRING,
        ConfigDef.NO_DEFAULT_VALUE,
        new AbsolutePath(),
        Importance.HIGH,
        MIRROR_ROOT_DOC,
        GROUP_MIRROR,
        ++o,
        Width.LONG,
        MIRROR_ROOT_DISPLAY);
    d.define(
        STATE_DIR_CONFIG,
        ConfigDef.Type.STRING,
        STATE_DIR_DEFAULT,
        new AbsolutePath(),
        Importance.HIGH,
        STATE_DIR_DOC,
        GROUP_MIRROR,
        ++o,
        Width.LONG,
        STATE_DIR_DISPLAY);
    d.define(
        VOLUME_CONFIG,
        ConfigDef.Type.STRING,
        null,
        new VolumeName(),
        Importance.MEDIUM,
        VOLUME_DOC,
        GROUP_MIRROR,
        ++o,
        Width.MEDIUM,
        VOLUME_DISPLAY);
    d.define(
        EPOCH_CONFIG,
        ConfigDef.Type.LONG,
        null,
        new PositiveOrNull(),
        Importance.LOW,
        EPOCH_DOC,
        GROUP_MIRROR,
        ++o,
        Width.MEDIUM,
        EPOCH_DISPLAY);
    d.define(
        OWNER_POLICY_CONFIG,
        ConfigDef.Type.STRING,
        OWNER_POLICY_DEFAULT,
        ConfigDef.CaseInsensitiveValidString.in("auto", "preserve", "ignore"),
        Importance.MEDIUM,
        OWNER_POLICY_DOC,
        GROUP_MIRROR,
        ++o,
        Width.SHORT,
        OWNER_POLICY_DISPLAY,
        new Choices("auto", "preserve", "ignore"));
    d.define(
        FSYNC_CONFIG,
        ConfigDef.Type.STRING,
        FSYNC_DEFAULT,
        ConfigDef.CaseInsensitiveValidString.in(FSYNC_NONE, FSYNC_COMMIT),
        Importance.MEDIUM,
        FSYNC_DOC,
        GROUP_MIRROR,
        ++o,
        Width.SHORT,
        FSYNC_DISPLAY,
        new Choices(FSYNC_NONE, FSYNC_COMMIT));
    d.define(
        SPECIAL_FILES_CONFIG,
        ConfigDef.Type.STRING,
        SPECIAL_FILES_DEFAULT,
        ConfigDef.CaseInsensitiveValidString.in(SPECIAL_FILES_SKIP, SPECIAL_FILES_CREATE),
        Importance.MEDIUM,
        SPECIAL_FILES_DOC,
        GROUP_MIRROR,
        ++o,
        Width.SHORT,
        SPECIAL_FILES_DISPLAY,
        new Choices(SPECIAL_FILES_SKIP, SPECIAL_FILES_CREATE));
    o = 0;
    d.define(
        REPLAY_UNTIL_SEQ_CONFIG,
        ConfigDef.Type.LONG,
        null,
        new PositiveOrNull(),
        Importance.LOW,
        REPLAY_UNTIL_SEQ_DOC,
        GROUP_REPLAY,
        ++o,
        Width.MEDIUM,
        REPLAY_UNTIL_SEQ_DISPLAY);
    d.define(
        REPLAY_UNTIL_TIME_CONFIG,
        ConfigDef.Type.STRING,
        null,
        new TimeOrNull(),
        Importance.LOW,
        REPLAY_UNTIL_TIME_DOC,
        GROUP_REPLAY,
        ++o,
        Width.MEDIUM,
        REPLAY_UNTIL_TIME_DISPLAY);
    d.define(
        SCHEMA_REGISTRY_URL_CONFIG,
        ConfigDef.Type.STRING,
        null,
        new RegistryUrl(),
        Importance.LOW,
        SCHEMA_REGISTRY_URL_DOC,
        GROUP_DECODING,
        1,
        Width.LONG,
        SCHEMA_REGISTRY_URL_DISPLAY);
    d.define(
        BUFFER_MAX_BYTES_CONFIG,
        ConfigDef.Type.LONG,
        BUFFER_MAX_BYTES_DEFAULT,
        ConfigDef.Range.atLeast(1024L * 1024),
        Importance.LOW,
        BUFFER_MAX_BYTES_DOC,
        GROUP_RESOURCES,
        1,
        Width.MEDIUM,
        BUFFER_MAX_BYTES_DISPLAY);
    defineGapTimeout(d);
    return d;
  }

  public TreeSinkConfig(Map<?, ?> props) {
    super(CONFIG_DEF, props);
  }

  public Path mirrorRoot() {
    return Path.of(getString(MIRROR_ROOT_CONFIG)).toAbsolutePath().normalize();
  }

  public Path stateDir() {
    return Path.of(getString(STATE_DIR_CONFIG)).toAbsolutePath().normalize();
  }

  public boolean fsyncAtCommit() {
    return FSYNC_COMMIT.equalsIgnoreCase(getString(FSYNC_CONFIG));
  }

  /** The replay target seq, or null. */
  public Long replayUntilSeq() {
    return getLong(REPLAY_UNTIL_SEQ_CONFIG);
  }

  /** The replay target time in ns since the Unix epoch, or null. */
  public Long replayUntilTimeNs() {
    String t = getString(REPLAY_UNTIL_TIME_CONFIG);
    return t == null ? null : parseTimeNs(t);
  }

  public MirrorApplier.OwnerPolicy ownerPolicy() {
    return MirrorApplier.OwnerPolicy.valueOf(
        getString(OWNER_POLICY_CONFIG).toUpperCase(Locale.ROOT));
  }

  /** What the mirror does with device nodes ({@code tfs.special.files}). */
  public MirrorApplier.SpecialFiles specialFiles() {
    return MirrorApplier.SpecialFiles.valueOf(
        getString(SPECIAL_FILES_CONFIG).toUpperCase(Locale.ROOT));
  }

  /** The expected volume, or null. */
  public String volume() {
    return getString(VOLUME_CONFIG);
  }

  /** The journal epoch this mirror is pinned to, or null to adopt the first one seen. */
  public Long epoch() {
    return getLong(EPOCH_CONFIG);
  }

  /** The registry URL(s), or null. */
  public String schemaRegistryUrl() {
    String u = getString(SCHEMA_REGISTRY_URL_CONFIG);
    return u == null || u.isBlank() ? null : u;
  }

  public long bufferMaxBytes() {
    return getLong(BUFFER_MAX_BYTES_CONFIG);
  }

  /**
   * Parses an ISO-8601 instant or epoch milliseconds into ns since the Unix epoch.
   *
   * @throws IllegalArgumentException when it is neither
   */
  public static long parseTimeNs(String text) {
    String t = text.strip();
    if (t.matches("-?\\d+")) {
      return Math.multiplyExact(Long.parseLong(t), 1_000_000L);
    }
    try {
      Instant i = Instant.parse(t);
      return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is neither an ISO-8601 instant (2026-01-31T12:00:00Z) nor epoch ms");
    }
  }

  // ------------------------------------------------------------------ cross-field rules

  /**
   * The rules between keys, each problem on the key to change: mirror root and state directory
   * apart, the root a writable directory when it exists, one point-in-time target, {@code preserve}
   * and {@code tfs.special.files=create} only as root, exactly one topic, values as raw bytes. The
   * task re-checks the paths with symlinks resolved.
   *
   * @param props a configuration whose every key passed its own validation
   */
  public static List<Problem> crossFieldProblems(Map<String, String> props) {
    List<Problem> out = new ArrayList<>();
    TreeSinkConfig c = new TreeSinkConfig(props);
    Path root = c.mirrorRoot();
    Path state = c.stateDir();
    if (within(root, state) || within(state, root)) {
      out.add(
          new Problem(
              STATE_DIR_CONFIG,
              "tfs.state.dir "
                  + state
                  + " and tfs.mirror.root "
                  + root
                  + " overlap; the applied position must live outside the mirrored tree and the"
                  + " mirror must not contain it"));
    }
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      out.add(
          new Problem(
              MIRROR_ROOT_CONFIG, root + " exists and is not a directory (or is a symlink)"));
    } else if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS) && !Files.isWritable(root)) {
      out.add(new Problem(MIRROR_ROOT_CONFIG, root + " is not writable by the worker's user"));
    }
    if (c.replayUntilSeq() != null && c.replayUntilTimeNs() != null) {
      out.add(
          new Problem(
              REPLAY_UNTIL_TIME_CONFIG,
              "set tfs.replay.until.seq or tfs.replay.until.time, not both"));
    }
    if (c.ownerPolicy() == MirrorApplier.OwnerPolicy.PRESERVE && Posix.geteuid() != 0) {
      out.add(
          new Problem(
              OWNER_POLICY_CONFIG,
              "preserve needs the worker to run as root (it runs as uid "
                  + Posix.geteuid()
                  + "); use auto or ignore"));
    }
    if (c.specialFiles() == MirrorApplier.SpecialFiles.CREATE && Posix.geteuid() != 0) {
      out.add(
          new Problem(
              SPECIAL_FILES_CONFIG,
              "create makes device nodes and needs the worker to run as root (it runs as uid "
                  + Posix.geteuid()
                  + "); run the worker as root or use skip"));
    }
    String topics = props.get("topics");
    String regex = props.get("topics.regex");
    if (regex != null && !regex.isBlank()) {
      out.add(
          new Problem(
              "topics.regex",
              "a mirror reads exactly one volume's topic: set topics=tfs.<volume>.ops, not"
                  + " topics.regex"));
    } else if (topics == null || topics.isBlank() || topics.contains(",")) {
      out.add(
          new Problem(
              "topics", "set exactly one topic (tfs.<volume>.ops): one mirror mirrors one volume"));
    }
    String vc = props.get("value.converter");
    if (vc != null && !vc.isBlank() && !vc.strip().equals(ConfigValidation.BYTE_ARRAY_CONVERTER)) {
      out.add(
          new Problem(
              "value.converter",
              "op records are decoded by tfs from raw bytes: set value.converter="
                  + ConfigValidation.BYTE_ARRAY_CONVERTER));
    }
    return out;
  }

  /**
   * True when {@code a} is {@code b} or lies beneath it (after normalization; symlinks are not
   * resolved here, the task re-checks with real paths).
   */
  static boolean within(Path a, Path b) {
    return a.toAbsolutePath().normalize().startsWith(b.toAbsolutePath().normalize());
  }

  // ------------------------------------------------------------------ validators

  static final class AbsolutePath implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null) {
        return;
      }
      String s = value.toString();
      if (s.isBlank() || !Path.of(s).isAbsolute()) {
        throw new ConfigException(name, value, "must be an absolute path");
      }
      if (s.indexOf('\0') >= 0) {
        throw new ConfigException(name, value, "must not contain NUL");
      }
    }

    @Override
    public String toString() {
      return "an absolute path";
    }
  }

  static final class VolumeName implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value != null && !Volumes.isValid(value.toString())) {
        throw new ConfigException(
            name, value, "a volume name is 1 to 200 characters from A-Z a-z 0-9 . _ -");
      }
    }

    @Override
    public String toString() {
      return "a volume name ([A-Za-z0-9._-]{1,200})";
    }
  }

  static final class PositiveOrNull implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value != null && (Long) value < 1) {
        throw new ConfigException(name, value, "must be at least 1");
      }
    }

    @Override
    public String toString() {
      return "a seq >= 1";
    }
  }

  static final class TimeOrNull implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null) {
        return;
      }
      try {
        parseTimeNs(value.toString());
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, value, e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "an ISO-8601 instant or epoch ms";
    }
  }

  static final class RegistryUrl implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      if (value == null || value.toString().isBlank()) {
        return;
      }
      try {
        new SchemaRegistryClient(value.toString());
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, "(hidden)", e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "http(s) URLs, comma-separated";
    }
  }

  /** Recommends a fixed set of values (shown by UIs that read /connector-plugins/../validate). */
  static final class Choices implements ConfigDef.Recommender {
    private final List<Object> values;

    Choices(String... values) {
      this.values = Arrays.asList((Object[]) values);
    }

    @Override
    public List<Object> validValues(String name, Map<String, Object> parsedConfig) {
      return values;
    }

    @Override
    public boolean visible(String name, Map<String, Object> parsedConfig) {
      return true;
    }
  }
}
