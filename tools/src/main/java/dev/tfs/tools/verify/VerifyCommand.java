package dev.tfs.tools.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tfs.posix.PosixException;
import dev.tfs.tools.Tfs;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tfs verify SRC MIRROR}: exit 0 when identical, 1 with the differences listed, 2 on usage
 * errors, 3 when the comparison could not finish (an unreadable directory, an I/O error, the JVM
 * out of memory): an internal error is never reported as "different".
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Compares two trees the way a mirror must equal its source: names (byte for byte), file"
          + " type, mode, owner, mtime, content, symlink targets, device numbers, hard-link groups"
          + " and xattrs. Device nodes in SRC that MIRROR lacks are listed apart, as skipped by"
          + " the mirror's policy (tfs.special.files=skip), and are differences unless"
          + " --accept-skipped-devices.",
      "Exit status: 0 identical, 1 different (differences listed), 2 usage error, 3 error (the"
          + " comparison could not finish, e.g. an unreadable directory or an I/O error)."
    })
public final class VerifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "SRC",
      description = "The source tree (e.g. the store or the mount).")
  Path source;

  @Parameters(index = "1", paramLabel = "MIRROR", description = "The mirror tree.")
  Path mirror;

  @Option(names = "--ignore-times", description = "Do not compare mtimes.")
  boolean ignoreTimes;

  @Option(names = "--ignore-owner", description = "Do not compare uid/gid.")
  boolean ignoreOwner;

  @Option(
      names = "--ignore-root",
      description = "Do not compare the attributes of the two top directories themselves.")
  boolean ignoreRoot;

  @Option(
      names = "--ignore-xattr",
      paramLabel = "PREFIX",
      description = "Ignore xattrs whose name starts with PREFIX (repeatable; default: security.).")
  List<String> ignoredXattrs = new ArrayList<>(List.of("security."));

  @Option(
      names = "--max-differences",
      description = "List at most this many (default ${DEFAULT-VALUE}).")
  int maxDifferences = 200;

  @Option(
      names = "--accept-skipped-devices",
      description =
          "Treat device nodes in SRC that MIRROR lacks (a mirror with tfs.special.files=skip) as"
              + " identical; they are still listed.")
  boolean acceptSkippedDevices;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    for (Path p : List.of(source, mirror)) {
      if (!Files.isDirectory(p)) {
        throw new ParameterException(spec.commandLine(), p + " is not a directory");
      }
    }
    TreeVerifier.Options options =
        new TreeVerifier.Options(
                !ignoreTimes, !ignoreOwner, !ignoreRoot, List.copyOf(ignoredXattrs), Set.of())
            .withSkippedDevicesAccepted(acceptSkippedDevices);
    TreeVerifier.Result r;
    try {
      r = new TreeVerifier(options, maxDifferences).run(source, mirror);
    } catch (PosixException | RuntimeException | VirtualMachineError e) {
      // Not "different": the comparison did not finish, so nothing is known about the trees.
      spec.commandLine()
          .getErr()
          .println("tfs verify: cannot compare " + source + " and " + mirror + ": " + e);
      spec.commandLine().getErr().flush();
      return Tfs.ENVIRONMENT;
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper m = new ObjectMapper();
      ObjectNode o = m.createObjectNode();
      o.put("identical", r.identical());
      o.put("entries", r.entries());
      o.put("bytes", r.bytes());
      o.put("differenceCount", r.differenceCount());
      ArrayNode d = o.putArray("differences");
      r.differences().forEach(x -> d.addObject().put("path", x.path()).put("what", x.what()));
      o.put("skippedDeviceCount", r.skippedDeviceCount());
      o.put("skippedDevicesAccepted", r.skippedDevicesAccepted());
      ArrayNode sd = o.putArray("skippedDevices");
      r.skippedDevices().forEach(x -> sd.addObject().put("path", x.path()).put("what", x.what()));
      out.println(o);
    } else {
      r.differences().forEach(out::println);
      long more = r.otherDifferenceCount() - r.differences().size();
      if (more > 0) {
        out.println("... and " + more + " more");
      }
      if (r.skippedDeviceCount() > 0) {
        out.println(
            r.skippedDeviceCount()
                + " device node(s) skipped by the mirror's policy (tfs.special.files=skip)"
                + (r.skippedDevicesAccepted() ? ", accepted:" : ":"));
        r.skippedDevices().forEach(x -> out.println("  " + x.path()));
        long moreDevices = r.skippedDeviceCount() - r.skippedDevices().size();
        if (moreDevices > 0) {
          out.println("  ... and " + moreDevices + " more");
        }
      }
      if (r.identical()) {
        out.println("identical: " + r.entries() + " entries, " + r.bytes() + " bytes compared");
      } else {
        out.println(r.differenceCount() + " difference(s) between " + source + " and " + mirror);
      }
    }
    out.flush();
    return r.identical() ? Tfs.OK : Tfs.DIFFERENT;
  }
}
