package dev.tfs.op;

import dev.tfs.op.schema.OpRecord;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every released version of the op schema, as bundled in this jar under {@code
 * dev/tfs/op/schema/versions/}, and the current (reader) schema.
 *
 * <p>A released version is never edited or removed: a topic written years ago still replays. A new
 * version is added as {@code vN.avsc}, listed in {@code index}, and becomes {@link #current()}.
 */
public final class OpSchemas {
  private static final String DIR = "/dev/tfs/op/schema/versions/";

  private static final List<Schema> VERSIONS;
  private static final Map<Long, Schema> BY_FINGERPRINT;

  static {
    List<Schema> versions = new ArrayList<>();
    Map<Long, Schema> byFp = new LinkedHashMap<>();
    for (String file : index()) {
      Schema s = load(DIR + file);
      versions.add(s);
      byFp.put(fingerprint(s), s);
    }
    VERSIONS = Collections.unmodifiableList(versions);
    BY_FINGERPRINT = Collections.unmodifiableMap(byFp);
  }

  private OpSchemas() {}

  /** The schema this code reads into and writes with: the generated {@link OpRecord} schema. */
  public static Schema current() {
    return OpRecord.getClassSchema();
  }

  /** All bundled versions, oldest first. */
  public static List<Schema> versions() {
    return VERSIONS;
  }

  /** The bundled version with this CRC-64-AVRO fingerprint, or null. */
  public static Schema byFingerprint(long fingerprint) {
    return BY_FINGERPRINT.get(fingerprint);
  }

  /** CRC-64-AVRO fingerprint of the schema's parsing canonical form, as single-object encoding. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  private static List<String> index() {
    try (InputStream in = OpSchemas.class.getResourceAsStream(DIR + "index")) {
      if (in == null) {
        throw new IllegalStateException("tfs-schemas jar lacks " + DIR + "index");
      }
      List<String> files = new ArrayList<>();
      try (BufferedReader r =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          line = line.strip();
          if (!line.isEmpty() && !line.startsWith("#")) {
            files.add(line);
          }
        }
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Schema load(String resource) {
    try (InputStream in = OpSchemas.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("tfs-schemas jar lacks " + resource);
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
