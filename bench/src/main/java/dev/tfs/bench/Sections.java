package dev.tfs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The report's sections per group, beyond the generic capture tables. */
final class Sections {
  private Sections() {}

  static String captureIntro(String group, Env env) {
    Env.Sizes z = env.sizes;
    String sizes =
        String.format(
            Locale.ROOT,
            "After an untimed warm-up on each mount (128 MiB write, 2,000 create/stat/delete, 2,000"
                + " mixed ops, 1,000 parallel creates: JIT compilation of the JVM daemons is not"
                + " measured), the workloads run in this order, each in its own directory of the"
                + " freshly mounted, empty store: **seq-write** %s in 1 MiB writes of incompressible data, fsync at the"
                + " end (open to close); **tar-x** `tar -xf` of %,d × 4 KiB files in 100"
                + " directories (as root: owners and mtimes restored); **create / stat / delete**"
                + " %,d empty files in one directory, one phase each; **mixed-rw** %,d random 4 KiB"
                + " operations (60%% writes, 40%% reads) on a %s file, fsync every 256; **par-create**"
                + " 4 threads each creating %,d 4 KiB files in their own directory. Between"
                + " workloads: `sync`, and a shipping capture waits until Kafka has its journal"
                + " (both untimed).",
            size(z.seqBytes()),
            z.tarFiles(),
            z.metaFiles(),
            z.mixedOps(),
            size(z.mixedFileBytes()),
            z.metaFiles() / 4);
    StringBuilder sb = new StringBuilder(sizes);
    sb.append("\n\nSubjects:\n\n");
    List<Subject> subs =
        group.equals("tuning") ? TuningSubjects.list() : CaptureBench.defaultSubjects(true);
    for (Subject s : subs) {
      sb.append("- **").append(s.name).append("**: ").append(s.description).append('\n');
    }
    if (!group.equals("tuning")) {
      sb.append(
          "\nFUSE subjects other than bindfs mount with tfs-capture's options"
              + " (`FuseMount.fuseArgs`: big_writes, max_write=131072, use_ino,"
              + " default_permissions, allow_other, auto_unmount, attr_timeout=0,"
              + " entry/negative timeouts)"
              + " and its JVM flags (-Xms128m -Xmx512m). The broker and Connect worker of the"
              + " local stack run (idle) during this group; tfs-ship ships to that broker, whose"
              + " log is on the disk under test.");
    }
    return sb.toString();
  }

  static String size(long b) {
    if (b >= 1L << 30 && b % (1L << 30) == 0) {
      return (b >> 30) + " GiB";
    }
    return (b >> 20) + " MiB";
  }

  /** Target ratios, memory and ship drain of the capture group. */
  static void captureExtras(
      Report rep, String group, List<String> subjects, List<String> workloads) {
    Results r = rep.results();
    StringBuilder md = rep.md();
    if (group.equals("capture")) {
      md.append("Ratios the targets name:\n\n");
      md.append(
          "| workload | tfs-journal / passthrough | tfs-ship / passthrough | tfs-journal-disk /"
              + " passthrough | tfs-journal-disk / raw | tfs-journal / bindfs | tfs-ship / bindfs"
              + " |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
      List<String> vsPass = new ArrayList<>();
      List<String> vsPassShip = new ArrayList<>();
      boolean passOk = true;
      boolean shipOk = true;
      for (String w : workloads) {
        String m = Report.metricOf(group, w);
        double pass = rep.median(group, w, "passthrough", m);
        double tj = rep.median(group, w, "tfs-journal", m);
        double ts = rep.median(group, w, "tfs-ship", m);
        double td = rep.median(group, w, "tfs-journal-disk", m);
        double raw = rep.median(group, w, "raw", m);
        double bind = rep.median(group, w, "bindfs", m);
        md.append("| ")
            .append(w)
            .append(" | ")
            .append(Report.ratio(tj / pass))
            .append(" | ")
            .append(Report.ratio(ts / pass))
            .append(" | ")
            .append(Report.ratio(td / pass))
            .append(" | ")
            .append(Report.ratio(td / raw))
            .append(" | ")
            .append(Report.ratio(tj / bind))
            .append(" | ")
            .append(Report.ratio(ts / bind))
            .append(" |\n");
        if (!Double.isNaN(tj / pass)) {
          vsPass.add(w + " " + Report.ratio(tj / pass));
          passOk &= tj / pass >= 0.9;
        }
        if (!Double.isNaN(ts / pass)) {
          vsPassShip.add(w + " " + Report.ratio(ts / pass));
          shipOk &= ts / pass >= 0.9;
        }
      }
      md.append('\n');
      rep.target(
          "capture vs bare passthrough, journal on tmpfs (tfs-journal)",
          String.join(", ", vsPass),
          "≥ 0.9× on every workload",
          vsPass.isEmpty() ? null : passOk);
      rep.target(
          "capture with shipping on vs bare passthrough (tfs-ship)",
          String.join(", ", vsPassShip),
          "≥ 0.9× on every workload",
          vsPassShip.isEmpty() ? null : shipOk);
      double seqDisk =
          rep.median(group, CaptureBench.SEQ, "tfs-journal-disk", "throughput")
              / rep.median(group, CaptureBench.SEQ, "raw", "throughput");
      rep.target(
          "seq write, journal on the store's disk vs raw",
          Report.ratio(seqDisk),
          "report (0.45× is the floor: the data is written twice)",
          Double.isNaN(seqDisk) ? null : seqDisk >= 0.45);
      List<String> small = new ArrayList<>();
      boolean smallOk = true;
      for (String w : List.of(CaptureBench.TAR, CaptureBench.CREATE, CaptureBench.PAR)) {
        String m = Report.metricOf(group, w);
        double v = rep.median(group, w, "tfs-journal", m) / rep.median(group, w, "bindfs", m);
        if (!Double.isNaN(v)) {
          small.add(w + " " + Report.ratio(v));
          smallOk &= v >= 2;
        }
      }
      rep.target(
          "small files vs bindfs (tfs-journal)",
          String.join(", ", small),
          "≥ 2×",
          small.isEmpty() ? null : smallOk);
    }
    // memory of the daemons
    List<String> mem = new ArrayList<>();
    for (String s : subjects) {
      if (r.stat(group, "memory", s, "peak-rss").present()) {
        mem.add(s);
      }
    }
    if (!mem.isEmpty()) {
      md.append(
          "Daemon memory over the whole repetition (all workloads), median of repetitions:\n\n");
      md.append("| subject | peak RSS MiB | peak heap used MiB | peak heap after GC MiB |\n");
      md.append("| --- | ---: | ---: | ---: |\n");
      for (String s : mem) {
        Report.tableRow(
            md,
            s,
            Report.cell(r.stat(group, "memory", s, "peak-rss")),
            Report.cell(r.stat(group, "memory", s, "peak-heap")),
            Report.cell(r.stat(group, "memory", s, "heap-after-gc")));
      }
      md.append('\n');
    }
    for (String s : subjects) {
      Results.Stat d = r.stat(group, "ship-drain", s, "seconds");
      if (d.present()) {
        double max = 0;
        for (Results.Sample x : r.all()) {
          if (x.group().equals(group)
              && x.workload().equals("ship-drain")
              && x.subject().equals(s)) {
            max = Math.max(max, x.value());
          }
        }
        md.append(
            String.format(
                Locale.ROOT,
                "%s: after a workload, Kafka had the whole journal within %.2f s (median over"
                    + " workloads and repetitions), at most %.1f s (after seq-write).%n%n",
                s,
                d.median(),
                max));
      }
    }
  }

  // ------------------------------------------------------------------ ship

  static void ship(Report rep) {
    Results r = rep.results();
    String g = ShipBench.GROUP;
    List<String> subjects = new ArrayList<>(r.subjects(g));
    if (subjects.isEmpty()) {
      return;
    }
    Env.Sizes z = rep.env().sizes;
    StringBuilder md = rep.md();
    md.append("## Shipping throughput\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "tfs-capture with its journal on the store's disk (as deployed) and the built-in"
                    + " shipper: %s in files of up to 128 MiB (1 MiB writes), then %,d files of 4"
                    + " KiB, written through the mount; throughput = data / (first write → Kafka"
                    + " acknowledged the whole journal). *Drain* is how long after the last write"
                    + " Kafka had everything. The store, the journal and the broker's log share one"
                    + " disk, so every byte is written three times.%n%n",
                size(z.seqBytes()),
                z.tarFiles()));
    md.append("| subject | large MiB/s | large drain s | small files/s | small drain s |\n");
    md.append("| --- | ---: | ---: | ---: | ---: |\n");
    for (String s : subjects) {
      Report.tableRow(
          md,
          s,
          Report.cell(r.stat(g, "large", s, "throughput")),
          Report.cell(r.stat(g, "large", s, "drain")),
          Report.cell(r.stat(g, "small", s, "rate")),
          Report.cell(r.stat(g, "small", s, "drain")));
    }
    md.append('\n');
  }

  // ------------------------------------------------------------------ lag

  static void lag(Report rep) {
    Results r = rep.results();
    String g = LagBench.GROUP;
    List<String> subjects = new ArrayList<>(r.subjects(g));
    if (subjects.isEmpty()) {
      return;
    }
    StringBuilder md = rep.md();
    md.append("## End-to-end lag\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "One op = open one of %d existing files, append %d bytes, close (one write op"
                    + " for tfs, one close_write event for lsyncd), paced at a fixed rate for %d s per"
                    + " run (%d run(s) per subject and rate, interleaved). A watcher in the same JVM"
                    + " (one clock) polls the mirror for each op in order. Lag = the mirror's file"
                    + " reaches the size that op gave it − the writer's close returned. **tfs**:"
                    + " written through the local stack's tfs-capture (journal on this disk, group"
                    + " commit, built-in shipper, broker on this disk), applied by a"
                    + " TreeSinkConnector mirror (sample config, tfs.fsync=commit) on the Connect"
                    + " worker; **tfs: to Kafka** is the first part of that, until a consumer of"
                    + " the topic has the op. **lsyncd-delay0 / lsyncd-default**: the same ops on a"
                    + " plain directory watched by lsyncd (default.rsync, local rsync into the"
                    + " target) with `delay = 0` and with lsyncd's default delay. Latencies in"
                    + " ms. *to Kafka* is taken by a consumer in the benchmark JVM, so its own fetch"
                    + " and scheduling delays are included: its tail can exceed the end-to-end tail"
                    + " when that consumer stalls.%n%n",
                LagBench.FILES,
                LagBench.OP_BYTES,
                rep.env().sizes.lagSeconds(),
                rep.env().reps(rep.env().sizes.lagReps())));
    md.append("| rate | subject | achieved ops/s | p50 | p95 | p99 | max | p50 vs tfs |\n");
    md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    List<String> rates = new ArrayList<>(r.workloads(g));
    for (String w : rates) {
      double tfs50 = rep.median(g, w, "tfs", "p50");
      for (String sub : subjects) {
        md.append("| ").append(w).append(" | ").append(sub).append(" | ");
        md.append(Report.cell(r.stat(g, w, sub, "achieved"))).append(" | ");
        for (String m : List.of("p50", "p95", "p99", "max")) {
          md.append(Report.cell(r.stat(g, w, sub, m))).append(" | ");
        }
        md.append(Report.ratio(rep.median(g, w, sub, "p50") / tfs50)).append(" |\n");
      }
    }
    md.append('\n');
    double p50 = rep.median(g, "1000 ops/s", "tfs", "p50");
    double p99 = rep.median(g, "1000 ops/s", "tfs", "p99");
    double ach = rep.median(g, "1000 ops/s", "tfs", "achieved");
    rep.target(
        "lag p50 at 1,000 ops/s (tfs)",
        Double.isNaN(p50)
            ? "not measured"
            : String.format(Locale.ROOT, "%.1f ms (achieved %.0f ops/s)", p50, ach),
        "≤ 20 ms",
        Double.isNaN(p50) ? null : p50 <= 20);
    rep.target(
        "lag p99 at 1,000 ops/s (tfs)",
        Double.isNaN(p99) ? "not measured" : String.format(Locale.ROOT, "%.1f ms", p99),
        "≤ 100 ms",
        Double.isNaN(p99) ? null : p99 <= 100);
    Chart.Bars c = new Chart.Bars();
    c.title = "End-to-end lag (median of runs; log scale)";
    c.yLabel = "ms";
    c.log = true;
    c.series = subjects;
    List<String> groups = new ArrayList<>();
    for (String w : rates) {
      for (String m : List.of("p50", "p95", "p99")) {
        groups.add(w + " " + m);
      }
    }
    c.groups = groups;
    c.values = new Chart.Bar[groups.size()][subjects.size()];
    int gi = 0;
    for (String w : rates) {
      for (String m : List.of("p50", "p95", "p99")) {
        for (int si = 0; si < subjects.size(); si++) {
          Results.Stat st = r.stat(g, w, subjects.get(si), m);
          if (st.present()) {
            c.values[gi][si] = new Chart.Bar(st.median(), st.min(), st.max());
          }
        }
        gi++;
      }
    }
    Chart.write(c, rep.env().out.resolve("lag.png"));
    md.append("![lag](lag.png)\n\n");
    synchronized (LagBench.LAST) {
      if (!LagBench.LAST.isEmpty()) {
        Chart.Lines l = new Chart.Lines();
        l.title = "Lag distribution (last run of each subject and rate)";
        l.xLabel = "lag, ms (log scale)";
        l.yLabel = "fraction of files visible";
        l.logX = true;
        LagBench.LAST.forEach(
            (k, v) -> {
              int pts = Math.min(v.length, 400);
              double[] x = new double[pts];
              double[] y = new double[pts];
              for (int i = 0; i < pts; i++) {
                int idx = (int) ((long) i * (v.length - 1) / Math.max(1, pts - 1));
                x[i] = Math.max(0.01, v[idx]);
                y[i] = (idx + 1) / (double) v.length;
              }
              l.series.add(k);
              l.xs.add(x);
              l.ys.add(y);
            });
        Chart.write(l, rep.env().out.resolve("lag-cdf.png"));
        md.append("![lag CDF](lag-cdf.png)\n\n");
      }
    }
  }

  // ------------------------------------------------------------------ verify

  static void verify(Report rep) {
    Results r = rep.results();
    String g = VerifyBench.GROUP;
    if (r.subjects(g).isEmpty()) {
      return;
    }
    StringBuilder md = rep.md();
    md.append("## tfs verify\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "Two identical trees of %,d files of 1 KiB in 100 directories, warm cache: `tfs"
                    + " verify` (in-process, content, mode, owner, mtime, xattrs, hard links) and"
                    + " `rsync -anc` (a checksum dry run, which also reads every file on both"
                    + " sides), interleaved.%n%n",
                rep.env().sizes.propFiles()));
    md.append(
        "| workload | tfs verify s | rsync -anc s | verify / rsync |\n| --- | ---: | ---: | ---: |\n");
    Results.Stat t = r.stat(g, VerifyBench.WORKLOAD, "tfs verify", "seconds");
    Results.Stat x = r.stat(g, VerifyBench.WORKLOAD, "rsync -anc", "seconds");
    double ratio = t.median() / x.median();
    Report.tableRow(md, VerifyBench.WORKLOAD, Report.cell(t), Report.cell(x), Report.ratio(ratio));
    md.append('\n');
    rep.target(
        "tfs verify vs rsync -anc on identical trees",
        Double.isNaN(ratio) ? "not measured" : String.format(Locale.ROOT, "%.2f×", ratio),
        "≤ 2×",
        Double.isNaN(ratio) ? null : ratio <= 2);
  }

  // ------------------------------------------------------------------ propagation

  static void propagation(Report rep) {
    Results r = rep.results();
    String g = "propagation";
    if (r.subjects(g).isEmpty()) {
      return;
    }
    StringBuilder md = rep.md();
    int n = rep.env().sizes.propFiles();
    md.append("## Change propagation\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "A tree of %,d files of 1 KiB in 100 directories, mirrored once by tfs (tfs-capture"
                    + " bootstraps the existing tree into its journal and ships it; a new mirror"
                    + " connector applies it) and by `rsync -a` into a plain directory. Per"
                    + " repetition 10 random files get new content: **tfs** = from the first write"
                    + " through the mount until the mirror shows all 10 new contents; **rsync** ="
                    + " one `rsync -a` of the whole tree (it finds and copies the same 10"
                    + " changes).%n%n",
                n));
    md.append("| workload | tfs s | rsync s | rsync / tfs |\n| --- | ---: | ---: | ---: |\n");
    for (String w : List.of("10 changed files", "initial copy")) {
      Results.Stat t = r.stat(g, w, "tfs", "seconds");
      Results.Stat x = r.stat(g, w, "rsync", "seconds");
      Report.tableRow(md, w, Report.cell(t), Report.cell(x), Report.ratio(x.median() / t.median()));
    }
    Results.Stat snap = r.stat(g, "initial copy", "tfs", "snapshot-recorded");
    if (snap.present()) {
      md.append(
          String.format(
              Locale.ROOT,
              "%nInitial copy by tfs: the snapshot of the existing tree was in the journal after"
                  + " %.1f s; the rest is shipping and applying it.%n",
              snap.median()));
    }
    md.append('\n');
    double speed =
        rep.median(g, "10 changed files", "rsync", "seconds")
            / rep.median(g, "10 changed files", "tfs", "seconds");
    rep.target(
        "propagation of 10 changes in a "
            + String.format(Locale.ROOT, "%,d", n)
            + "-file tree, tfs vs rsync -a",
        Double.isNaN(speed) ? "not measured" : String.format(Locale.ROOT, "%.0f× faster", speed),
        "≥ 100× faster",
        Double.isNaN(speed) ? null : speed >= 100);
    bars(
        rep,
        g,
        List.of("10 changed files", "initial copy"),
        List.of("tfs", "rsync"),
        "seconds",
        "Change propagation and initial copy (s, log scale)",
        "s",
        true,
        "propagation.png");
  }

  // ------------------------------------------------------------------ bootstrap

  static void bootstrap(Report rep) {
    Results r = rep.results();
    String g = "bootstrap";
    if (r.subjects(g).isEmpty()) {
      return;
    }
    Env.Sizes z = rep.env().sizes;
    StringBuilder md = rep.md();
    md.append("## Bootstrap\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "A %s tree of %,d files (sizes spread uniformly around the mean, 100 directories)"
                    + " into a new mirror. **tfs**: a new tfs-capture daemon over the tree (new"
                    + " journal on this disk: the snapshot ops carry the data), shipping to a new"
                    + " topic, and a new mirror connector deployed at the same moment; timed from"
                    + " starting the daemon until the mirror shows a marker written through the"
                    + " mount after the snapshot. **rsync**: `rsync -a` into a new directory (same"
                    + " disk). Page cache warm for both; nothing fsynced by rsync, the mirror"
                    + " syncs at its commits.%n%n",
                size(z.bootBytes()),
                z.bootFiles()));
    Results.Stat t = r.stat(g, "tree", "tfs", "seconds");
    Results.Stat x = r.stat(g, "tree", "rsync", "seconds");
    Results.Stat snap = r.stat(g, "tree", "tfs", "snapshot-recorded");
    md.append("| subject | seconds | × rsync |\n| --- | ---: | ---: |\n");
    Report.tableRow(md, "rsync -a", Report.cell(x), "1.00×");
    Report.tableRow(md, "tfs (total)", Report.cell(t), Report.ratio(t.median() / x.median()));
    Report.tableRow(
        md,
        "tfs: snapshot in the journal (mount ready)",
        Report.cell(snap),
        Report.ratio(snap.median() / x.median()));
    md.append('\n');
    double ratio = t.median() / x.median();
    rep.target(
        "bootstrap "
            + size(z.bootBytes())
            + " / "
            + String.format(Locale.ROOT, "%,d", z.bootFiles())
            + " files, tfs vs rsync -a",
        Double.isNaN(ratio) ? "not measured" : Report.ratio(ratio) + " rsync's time",
        "≤ 2×",
        Double.isNaN(ratio) ? null : ratio <= 2);
  }

  // ------------------------------------------------------------------ apply

  static void apply(Report rep) {
    Results r = rep.results();
    String g = "apply";
    if (r.subjects(g).isEmpty()) {
      return;
    }
    Env.Sizes z = rep.env().sizes;
    StringBuilder md = rep.md();
    md.append("## Mirror apply rate\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "Two trees are written through tfs-capture once, each into its own volume and"
                    + " topic, and shipped: **large** %s in files of up to 128 MiB (1 MiB writes,"
                    + " captured as 128 KiB write ops), **small** %,d files of 4 KiB. Per"
                    + " repetition a new mirror connector applies the pre-filled topic into an empty"
                    + " root, timed from the first entry appearing in the root until the marker"
                    + " (the last op) shows; interleaved with **raw**: the same tree written by"
                    + " this JVM straight into a plain directory, then `sync -f` (the mirrors run"
                    + " with tfs.fsync=commit: a syncfs per commit).%n%n",
                size(z.applyLargeBytes()),
                z.applySmallFiles()));
    md.append(
        "| tree | unit | raw | tfs | tfs / raw | goal | connector start s |\n| --- | --- | ---: | ---: | ---: | --- | ---: |\n");
    double[] goals = {0.8, 0.25};
    int i = 0;
    for (String kind : List.of("large", "small")) {
      String m = kind.equals("large") ? "throughput" : "rate";
      Results.Stat raw = r.stat(g, kind, "raw", m);
      Results.Stat tfs = r.stat(g, kind, "tfs", m);
      double ratio = tfs.median() / raw.median();
      Report.tableRow(
          md,
          kind,
          raw.unit(),
          Report.cell(raw),
          Report.cell(tfs),
          Report.ratio(ratio),
          "≥ " + goals[i] + "×",
          Report.cell(r.stat(g, kind, "tfs", "startup")));
      rep.target(
          "apply rate, "
              + (kind.equals("large") ? "large files (bandwidth)" : "small files (files/s)")
              + ", tfs mirror vs raw",
          Report.ratio(ratio),
          "≥ " + goals[i] + "×",
          Double.isNaN(ratio) ? null : ratio >= goals[i]);
      i++;
    }
    md.append('\n');
    Chart.Bars c = new Chart.Bars();
    c.title = "Mirror apply rate relative to writing the tree to a plain dir";
    c.yLabel = "× raw";
    c.groups = List.of("large (MiB/s)", "small (files/s)");
    c.series = List.of("raw", "tfs");
    c.values = new Chart.Bar[2][2];
    int gi = 0;
    for (String kind : List.of("large", "small")) {
      String m = kind.equals("large") ? "throughput" : "rate";
      double b = rep.median(g, kind, "raw", m);
      int si = 0;
      for (String s : c.series) {
        Results.Stat st = r.stat(g, kind, s, m);
        if (st.present()) {
          c.values[gi][si] = new Chart.Bar(st.median() / b, st.min() / b, st.max() / b);
        }
        si++;
      }
      gi++;
    }
    Chart.write(c, rep.env().out.resolve("apply.png"));
    md.append("![apply](apply.png)\n\n");
  }

  // ------------------------------------------------------------------ memory

  static void memory(Report rep) {
    Results r = rep.results();
    String g = "memory";
    if (r.subjects(g).isEmpty()) {
      return;
    }
    StringBuilder md = rep.md();
    double gib = rep.median(g, "backlog", "tfs-capture", "bytes");
    md.append("## Memory with a large backlog\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "A backlog of %.1f GiB (files of 256 MiB, 1 MiB writes) is written through a"
                    + " tfs-capture of its own volume while no mirror reads it, and shipped; then one"
                    + " new mirror connector applies all of it. tfs-capture is sampled every second"
                    + " (heap used, heap after its last GC, peak RSS); the Connect worker (which runs"
                    + " only this mirror then) every second after a forced full GC, so its *live"
                    + " heap* is the real retained set, plus its peak RSS. The worker runs with"
                    + " -Xmx1g (the local stack's setting).%n%n",
                gib));
    md.append("| process | measure | MiB |\n| --- | --- | ---: |\n");
    for (String[] k :
        new String[][] {
          {
            "tfs-capture",
            "tfs-capture",
            "peak-rss",
            "peak RSS while writing and shipping the backlog"
          },
          {"tfs-capture", "tfs-capture", "peak-heap", "peak heap used (with garbage)"},
          {"tfs-capture", "tfs-capture", "heap-after-gc", "peak heap after a GC"},
          {"sink", "connect-worker", "baseline-live-heap", "live heap before the mirror starts"},
          {"sink", "connect-worker", "peak-live-heap", "peak live heap while applying"},
          {"sink", "connect-worker", "peak-heap", "peak heap used (with garbage)"},
          {"sink", "connect-worker", "peak-rss", "peak RSS while applying"}
        }) {
      Results.Stat st = r.stat(g, k[0], k[1], k[2]);
      Report.tableRow(md, k[1], k[3], Report.cell(st));
    }
    double peakLive = rep.median(g, "sink", "connect-worker", "peak-live-heap");
    double baseLive = rep.median(g, "sink", "connect-worker", "baseline-live-heap");
    double thr = rep.median(g, "sink", "connect-worker", "apply-throughput");
    md.append(
        String.format(
            Locale.ROOT,
            "%nThe sink applied the backlog at %.0f MiB/s. The task's own share of the live heap is"
                + " at most %.0f MiB (peak − before).%n%n",
            thr,
            peakLive - baseLive));
    synchronized (MirrorBench.CURVE) {
      if (!MirrorBench.CURVE.isEmpty()) {
        Chart.Lines l = new Chart.Lines();
        l.title = "Connect worker live heap while the mirror applies the backlog";
        l.xLabel = "GiB applied";
        l.yLabel = "live heap MiB (after a forced full GC)";
        double[] x = new double[MirrorBench.CURVE.size()];
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
          x[i] = MirrorBench.CURVE.get(i)[0];
          y[i] = MirrorBench.CURVE.get(i)[1];
        }
        l.series.add("live heap");
        l.xs.add(x);
        l.ys.add(y);
        Chart.write(l, rep.env().out.resolve("memory.png"));
        md.append("![memory](memory.png)\n\n");
      }
    }
    rep.target(
        String.format(Locale.ROOT, "sink heap with a %.1f GiB backlog (target names 10 GiB)", gib),
        Double.isNaN(peakLive)
            ? "not measured"
            : String.format(Locale.ROOT, "peak live heap %.0f MiB (whole worker)", peakLive),
        "≤ 256 MiB",
        Double.isNaN(peakLive) ? null : peakLive <= 256);
  }

  /** A bar chart of one metric: groups = workloads, series = subjects. */
  static void bars(
      Report rep,
      String g,
      List<String> workloads,
      List<String> subjects,
      String metric,
      String title,
      String yLabel,
      boolean log,
      String file) {
    Results r = rep.results();
    Chart.Bars c = new Chart.Bars();
    c.title = title;
    c.yLabel = yLabel;
    c.log = log;
    c.groups = workloads;
    c.series = subjects;
    c.values = new Chart.Bar[workloads.size()][subjects.size()];
    for (int wi = 0; wi < workloads.size(); wi++) {
      for (int si = 0; si < subjects.size(); si++) {
        Results.Stat st = r.stat(g, workloads.get(wi), subjects.get(si), metric);
        if (st.present()) {
          c.values[wi][si] = new Chart.Bar(st.median(), st.min(), st.max());
        }
      }
    }
    Chart.write(c, rep.env().out.resolve(file));
    rep.md().append("![").append(g).append("](").append(file).append(")\n\n");
  }
}
