package dev.tfs.sink;

import dev.tfs.op.schema.OpRecord;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * In-order application of a history, for the integration tests, whose class path deliberately lacks
 * the main classes: the packaged connector jar is loaded in a child class loader, so the reference
 * is built by the same {@code MirrorApplier} the worker runs (op classes come from the test's
 * tfs-schemas, shared through the parent loader).
 */
final class ReferenceTree {
  private ReferenceTree() {}

  static Path build(Iterable<OpRecord> ops, Path dir) throws Exception {
    Files.createDirectories(dir);
    Path jar =
        Path.of(
            System.getProperty("tfs.plugin.path"),
            "tfs-sink-connector",
            "lib",
            "tfs-sink-connector-" + System.getProperty("tfs.version", "0.1.0-SNAPSHOT") + ".jar");
    try (URLClassLoader cl =
        new URLClassLoader(new URL[] {jar.toUri().toURL()}, ReferenceTree.class.getClassLoader())) {
      Class<?> applierClass = cl.loadClass("dev.tfs.sink.MirrorApplier");
      @SuppressWarnings({"unchecked", "rawtypes"})
      Object auto =
          Enum.valueOf((Class) cl.loadClass("dev.tfs.sink.MirrorApplier$OwnerPolicy"), "AUTO");
      Object applier =
          applierClass.getConstructor(Path.class, auto.getClass()).newInstance(dir, auto);
      try {
        var apply = applierClass.getMethod("apply", OpRecord.class);
        for (OpRecord op : ops) {
          try {
            apply.invoke(applier, op);
          } catch (InvocationTargetException e) {
            throw new AssertionError("reference apply failed: " + e.getCause(), e.getCause());
          }
        }
      } finally {
        ((AutoCloseable) applier).close();
      }
    }
    return dir;
  }
}
