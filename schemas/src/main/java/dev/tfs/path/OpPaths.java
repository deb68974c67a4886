package dev.tfs.path;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one set of rules for op paths, used by every reader and writer of ops.
 *
 * <p>An op path names a file relative to the volume root. It is carried as raw bytes (Avro {@code
 * bytes}), exactly as the name appears on the source file system, so names that are not valid UTF-8
 * survive byte for byte. Segments are joined by {@code '/'}. A valid path:
 *
 * <ul>
 *   <li>is empty (the root itself) or a sequence of segments joined by single {@code '/'} bytes;
 *   <li>has no leading or trailing {@code '/'} and no empty segment ({@code a//b});
 *   <li>has no {@code .} or {@code ..} segment;
 *   <li>contains no NUL byte;
 *   <li>has segments of at most {@link #MAX_SEGMENT_BYTES} bytes and at most {@link
 *       #MAX_PATH_BYTES} bytes in all (Linux NAME_MAX and PATH_MAX - 1).
 * </ul>
 *
 * <p>Validation never decodes the bytes as text, so a non-UTF-8 name is as valid as any other.
 */
public final class OpPaths {
  /** Longest allowed segment, in bytes (Linux NAME_MAX). */
  public static final int MAX_SEGMENT_BYTES = 255;

  /** Longest allowed path, in bytes (Linux PATH_MAX minus the terminating NUL). */
  public static final int MAX_PATH_BYTES = 4095;

  /** The root path: the empty byte string. */
  public static final byte[] ROOT = new byte[0];

  private OpPaths() {}

  /**
   * Checks {@code path} against the rules above.
   *
   * @throws OpPathException naming the first rule the path breaks
   */
  public static byte[] validate(byte[] path) {
    String problem = problem(path);
    if (problem != null) {
      throw new OpPathException(path, problem);
    }
    return path;
  }

  /** True when {@link #validate} would accept {@code path}. */
  public static boolean isValid(byte[] path) {
    return problem(path) == null;
  }

  /** The first rule {@code path} breaks, or null when it is valid. */
  public static String problem(byte[] path) {
    if (path == null) {
      return "path is missing";
    }
    if (path.length == 0) {
      return null;
    }
    if (path.length > MAX_PATH_BYTES) {
      return "path is " + path.length + " bytes, longer than " + MAX_PATH_BYTES;
    }
    if (path[0] == '/') {
      return "path is absolute (starts with '/'); op paths are relative to the volume root";
    }
    if (path[path.length - 1] == '/') {
      return "path ends with '/'";
    }
    int start = 0;
    for (int i = 0; i <= path.length; i++) {
      if (i < path.length && path[i] == 0) {
        return "path contains a NUL byte at offset " + i;
      }
      if (i == path.length || path[i] == '/') {
        int len = i - start;
        if (len == 0) {
          return "path has an empty segment at offset " + start;
        }
        if (len > MAX_SEGMENT_BYTES) {
          return "segment at offset "
              + start
              + " is "
              + len
              + " bytes, longer than "
              + MAX_SEGMENT_BYTES;
        }
        if (path[start] == '.' && (len == 1 || (len == 2 && path[start + 1] == '.'))) {
          return "path has a '" + (len == 1 ? "." : "..") + "' segment at offset " + start;
        }
        start = i + 1;
      }
    }
    return null;
  }

  /** The segments of a valid path; the root has none. */
  public static List<byte[]> segments(byte[] path) {
    validate(path);
    List<byte[]> out = new ArrayList<>();
    if (path.length == 0) {
      return out;
    }
    int start = 0;
    for (int i = 0; i <= path.length; i++) {
      if (i == path.length || path[i] == '/') {
        out.add(Arrays.copyOfRange(path, start, i));
        start = i + 1;
      }
    }
    return out;
  }

  /** The parent of a valid non-root path (the root for a single segment). */
  public static byte[] parent(byte[] path) {
    validate(path);
    if (path.length == 0) {
      throw new OpPathException(path, "the root has no parent");
    }
    for (int i = path.length - 1; i >= 0; i--) {
      if (path[i] == '/') {
        return Arrays.copyOf(path, i);
      }
    }
    return ROOT;
  }

  /** The last segment of a valid non-root path. */
  public static byte[] name(byte[] path) {
    validate(path);
    if (path.length == 0) {
      throw new OpPathException(path, "the root has no name");
    }
    for (int i = path.length - 1; i >= 0; i--) {
      if (path[i] == '/') {
        return Arrays.copyOfRange(path, i + 1, path.length);
      }
    }
    return path.clone();
  }

  /** {@code parent/name}, validated. */
  public static byte[] child(byte[] parent, byte[] name) {
    byte[] out;
    if (parent.length == 0) {
      out = name.clone();
    } else {
      out = Arrays.copyOf(parent, parent.length + 1 + name.length);
      out[parent.length] = '/';
      System.arraycopy(name, 0, out, parent.length + 1, name.length);
    }
    return validate(out);
  }

  /** True when {@code descendant} is {@code ancestor} or lies beneath it. */
  public static boolean isSelfOrDescendant(byte[] ancestor, byte[] descendant) {
    if (ancestor.length == 0) {
      return true;
    }
    if (descendant.length < ancestor.length) {
      return false;
    }
    for (int i = 0; i < ancestor.length; i++) {
      if (ancestor[i] != descendant[i]) {
        return false;
      }
    }
    return descendant.length == ancestor.length || descendant[ancestor.length] == '/';
  }

  /** A validated path from a Java string, encoded as UTF-8. */
  public static byte[] of(String path) {
    return validate(path.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A printable, unambiguous form for messages and dumps: valid UTF-8 stays as is, every other byte
   * (and backslash, and control characters) appears as {@code \xNN}; the root prints as {@code
   * (root)}. Never use it to name a file: it is for humans.
   */
  public static String display(byte[] path) {
    if (path == null) {
      return "(null)";
    }
    if (path.length == 0) {
      return "(root)";
    }
    return escape(path);
  }

  /** Escapes arbitrary bytes the way {@link #display} does, without the root special case. */
  public static String escape(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length + 8);
    int i = 0;
    while (i < bytes.length) {
      int b = bytes[i] & 0xff;
      if (b >= 0x80) {
        int len = utf8Length(bytes, i);
        if (len > 0) {
          sb.append(new String(bytes, i, len, StandardCharsets.UTF_8));
          i += len;
          continue;
        }
      }
      if (b < 0x20 || b == 0x7f || b == '\\' || b >= 0x80) {
        sb.append(String.format("\\x%02x", b));
      } else {
        sb.append((char) b);
      }
      i++;
    }
    return sb.toString();
  }

  /** Length of the valid UTF-8 sequence starting at {@code i}, or 0 when there is none. */
  private static int utf8Length(byte[] bytes, int i) {
    for (int len = 2; len <= 4 && i + len <= bytes.length; len++) {
      try {
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes, i, len));
        return len;
      } catch (CharacterCodingException e) {
        // try a longer sequence
      }
    }
    return 0;
  }

  /** True when the bytes are valid UTF-8. */
  public static boolean isUtf8(byte[] bytes) {
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }
}
