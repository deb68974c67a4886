package dev.tfs.bench;

import dev.tfs.posix.PosixException;
import dev.tfs.tools.verify.TreeVerifier;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code tfs verify} against {@code rsync -anc} (a checksum dry run: it reads every file on both
 * sides, as verify does) on the same pair of identical trees, interleaved, warm cache. The goal is
 * verify within 2 × rsync's time.
 */
final class VerifyBench {
  static final String GROUP = "verify";
  static final String WORKLOAD = "identical trees";
  private static final Duration LONG = Duration.ofHours(1);

  private final Env env;

  VerifyBench(Env env) {
    this.env = env;
  }

  void run() throws IOException {
    Path base = env.work.resolve("verify");
    Path a = base.resolve("a");
    Path b = base.resolve("b");
    Trees.Spec spec = Trees.uniform(env.sizes.propFiles(), 1024, 100, 1 << 16);
    env.say("%s: writing two identical %,d-file trees", GROUP, spec.files());
    Trees.write(spec, a, 11);
    Procs.run(List.of("cp", "-a", a + "/.", b.toString()), LONG);
    Procs.sync();
    try {
      // A first pass of each warms the page cache and the JIT; it is not recorded.
      verify(a, b);
      rsync(a, b);
      for (int rep = 1; rep <= env.reps(3); rep++) {
        long t0 = System.nanoTime();
        TreeVerifier.Result r = verify(a, b);
        long t1 = System.nanoTime();
        rsync(a, b);
        long t2 = System.nanoTime();
        env.results.add(GROUP, WORKLOAD, "tfs verify", "seconds", "s", false, rep, (t1 - t0) / 1e9);
        env.results.add(GROUP, WORKLOAD, "rsync -anc", "seconds", "s", false, rep, (t2 - t1) / 1e9);
        env.results.add(
            GROUP,
            WORKLOAD,
            "tfs verify",
            "entries/s",
            "1/s",
            true,
            rep,
            r.entries() / ((t1 - t0) / 1e9));
        env.say(
            "%s rep %d: tfs verify %.2f s (%,d entries), rsync -anc %.2f s",
            GROUP, rep, (t1 - t0) / 1e9, r.entries(), (t2 - t1) / 1e9);
      }
    } finally {
      Data.deleteTree(base);
    }
  }

  private static TreeVerifier.Result verify(Path a, Path b) {
    try {
      TreeVerifier.Result r = TreeVerifier.compare(a, b, TreeVerifier.Options.all());
      if (!r.identical()) {
        throw new BenchException("verify found differences in identical trees: " + r.differences());
      }
      return r;
    } catch (PosixException e) {
      throw new BenchException("verify failed: " + e.getMessage(), e);
    }
  }

  private static void rsync(Path a, Path b) {
    Procs.run(List.of("rsync", "-anc", a + "/", b + "/"), LONG);
  }
}
