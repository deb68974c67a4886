package dev.tfs.capture.fs;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Conversion between the {@link String}s jnr-fuse hands us and the raw name bytes of the store.
 *
 * <p>jnr-fuse decodes every {@code const char *} path with the JVM's default charset. Under UTF-8 a
 * name that is not valid UTF-8 would be decoded lossily (and then name a different file). The
 * daemon therefore runs with {@code -Dfile.encoding=ISO-8859-1}: every byte maps to exactly one
 * char and back, so a String is a lossless byte string. {@link #requireByteCharset} refuses to run
 * otherwise.
 */
public final class Names {
  private Names() {}

  /** The FUSE path ("/a/b", "/" for the root) as store-relative bytes ("a/b", empty for root). */
  public static byte[] rel(String fusePath) {
    int n = fusePath.length();
    int start = n > 0 && fusePath.charAt(0) == '/' ? 1 : 0;
    byte[] out = new byte[n - start];
    for (int i = start; i < n; i++) {
      out[i - start] = (byte) fusePath.charAt(i);
    }
    return out;
  }

  /** A jnr-fuse String (decoded as ISO-8859-1) as its raw bytes. */
  public static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Raw bytes as the String jnr-fuse would encode back to the same bytes. */
  public static String string(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  /** True when the JVM default charset maps every byte to one char and back. */
  public static boolean byteCharset() {
    return Charset.defaultCharset().equals(StandardCharsets.ISO_8859_1);
  }

  /**
   * Throws an {@link IllegalStateException} explaining the fix unless the default charset is
   * ISO-8859-1.
   */
  public static void requireByteCharset() {
    if (!byteCharset()) {
      throw new IllegalStateException(
          "the JVM default charset is "
              + Charset.defaultCharset()
              + ", but tfs-capture needs ISO-8859-1 so that file names that are not valid UTF-8"
              + " pass through unchanged; start the JVM with -Dfile.encoding=ISO-8859-1 (the"
              + " bin/tfs-capture launcher does)");
    }
  }
}
