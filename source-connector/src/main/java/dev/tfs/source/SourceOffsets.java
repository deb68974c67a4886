package dev.tfs.source;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The connector's source partitions and offsets, and their strict validation.
 *
 * <ul>
 *   <li>Source partition: {@code {"volume": <string>, "epoch": <long>}}, the journal's identity. A
 *       journal created anew gets a new epoch and is therefore a new source partition, with no
 *       offset: its seqs start at 1 again.
 *   <li>Source offset: {@code {"seq": <long>}}, the last seq emitted; the task resumes at {@code
 *       seq + 1}. {@code seq} 0 means "nothing shipped yet" (start from seq 1).
 * </ul>
 *
 * Through the REST API ({@code PATCH /connectors/<name>/offsets}):
 *
 * <pre>{@code
 * {"offsets": [{"partition": {"volume": "vol", "epoch": 1763769600000},
 *               "offset": {"seq": 41}}]}
 * }</pre>
 *
 * makes the task emit again from seq 42, provided the journal still holds it.
 */
public final class SourceOffsets {
  public static final String VOLUME = "volume";
  public static final String EPOCH = "epoch";
  public static final String SEQ = "seq";

  private SourceOffsets() {}

  /** The source partition of a journal. */
  public static Map<String, Object> partition(String volume, long epoch) {
    Map<String, Object> p = new HashMap<>(4);
    p.put(VOLUME, volume);
    p.put(EPOCH, epoch);
    return p;
  }

  /** The source offset after emitting {@code seq}. */
  public static Map<String, Object> offset(long seq) {
    return Map.of(SEQ, seq);
  }

  /**
   * Checks a source partition: exactly the keys {@code volume} (a string equal to {@code volume})
   * and {@code epoch} (a positive integer).
   *
   * @return the epoch
   * @throws IllegalArgumentException saying what is wrong
   */
  public static long checkPartition(Map<String, ?> partition, String volume) {
    if (partition == null) {
      throw new IllegalArgumentException("a source partition must not be null");
    }
    requireKeys("source partition " + partition, partition, Set.of(VOLUME, EPOCH));
    Object v = partition.get(VOLUME);
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(
          "source partition "
              + partition
              + ": '"
              + VOLUME
              + "' must be a string, got "
              + describe(v));
    }
    if (!v.equals(volume)) {
      throw new IllegalArgumentException(
          "source partition "
              + partition
              + " names volume '"
              + v
              + "', but this connector ships volume '"
              + volume
              + "' (tfs.volume)");
    }
    long epoch = integral("source partition " + partition, EPOCH, partition.get(EPOCH));
    if (epoch <= 0) {
      throw new IllegalArgumentException(
          "source partition " + partition + ": '" + EPOCH + "' must be positive, got " + epoch);
    }
    return epoch;
  }

  /**
   * Checks a source offset: null (no offset: start from seq 1) or exactly {@code {"seq": n}} with n
   * a non-negative integer.
   *
   * @return the seq, or null for a null offset
   * @throws IllegalArgumentException saying what is wrong
   */
  public static Long checkOffset(Map<String, ?> offset) {
    if (offset == null) {
      return null;
    }
    requireKeys("source offset " + offset, offset, Set.of(SEQ));
    long seq = integral("source offset " + offset, SEQ, offset.get(SEQ));
    if (seq < 0) {
      throw new IllegalArgumentException(
          "source offset " + offset + ": '" + SEQ + "' must not be negative, got " + seq);
    }
    return seq;
  }

  private static void requireKeys(String what, Map<String, ?> m, Set<String> keys) {
    if (!m.keySet().equals(keys)) {
      Set<String> missing = new TreeSet<>(keys);
      missing.removeAll(m.keySet());
      Set<String> extra = new TreeSet<>(m.keySet());
      extra.removeAll(keys);
      StringBuilder sb = new StringBuilder(what).append(" must have exactly the keys ");
      sb.append(new TreeSet<>(keys));
      if (!missing.isEmpty()) {
        sb.append("; missing ").append(missing);
      }
      if (!extra.isEmpty()) {
        sb.append("; unexpected ").append(extra);
      }
      throw new IllegalArgumentException(sb.toString());
    }
  }

  /** An integer of any width (JSON numbers arrive as Integer or Long); nothing else. */
  private static long integral(String what, String key, Object v) {
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    throw new IllegalArgumentException(
        what + ": '" + key + "' must be an integer, got " + describe(v));
  }

  private static String describe(Object v) {
    return v == null ? "null" : v.getClass().getSimpleName() + " " + v;
  }
}
