package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tfs.op.OpCodec;
import dev.tfs.op.OpRules;
import dev.tfs.op.Ops;
import dev.tfs.op.schema.Create;
import dev.tfs.op.schema.Mkdir;
import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import dev.tfs.op.schema.Rename;
import dev.tfs.op.schema.SetAttr;
import dev.tfs.op.schema.Unlink;
import dev.tfs.op.schema.Write;
import dev.tfs.posix.Flags;
import dev.tfs.posix.Posix;
import dev.tfs.posix.Stat;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The task's merge, exactly-once position and gap detection (G2, G3, G6, G7), driven through a
 * simulated consumer ({@link TaskHarness}) in adversarial interleavings, compared with in-order
 * application of the same history.
 */
class TreeSinkTaskTest {
  static final String TOPIC = "tfs.vol.ops";
  static final int P = 8;

  @TempDir Path tmp;

  Map<String, String> props(Path root, Path state, String... extra) {
    Map<String, String> p = new HashMap<>();
    p.put("name", "t");
    p.put("topics", TOPIC);
    p.put(TreeSinkConfig.MIRROR_ROOT_CONFIG, root.toString());
    p.put(TreeSinkConfig.STATE_DIR_CONFIG, state.toString());
    p.put(TreeSinkConfig.FSYNC_CONFIG, "none");
    p.put(TreeSinkConfig.BUFFER_MAX_BYTES_CONFIG, String.valueOf(1024 * 1024));
    for (int i = 0; i < extra.length; i += 2) {
      p.put(extra[i], extra[i + 1]);
    }
    return p;
  }

  /** The tree in-order application gives. */
  Path reference(List<OpRecord> ops, String name) throws Exception {
    Path ref = tmp.resolve(name);
    Files.createDirectories(ref);
    try (MirrorApplier a = new MirrorApplier(ref, MirrorApplier.OwnerPolicy.AUTO)) {
      for (OpRecord op : ops) {
        a.apply(op);
      }
    }
    return ref;
  }

  static void assertSameTree(Path expected, Path actual) throws Exception {
    assertSameTree(expected, actual, true);
  }

  static void assertSameTree(Path expected, Path actual, boolean rootAttrs) throws Exception {
    Trees.assertSame(expected, actual, rootAttrs);
  }

  static TaskHarness.Strategy shuffled(int maxPerPartition) {
    return (h, rnd) -> {
      List<Integer> ps = new ArrayList<>();
      for (int p = 0; p < h.partitions; p++) {
        if (h.deliverable(p)) {
          ps.add(p);
        }
      }
      Collections.shuffle(ps, rnd);
      List<SinkRecord> batch = new ArrayList<>();
      int n = ps.isEmpty() ? 0 : 1 + rnd.nextInt(ps.size());
      for (int p : ps.subList(0, n)) {
        batch.addAll(h.take(p, 1 + rnd.nextInt(maxPerPartition)));
      }
      return batch;
    };
  }

  /** Partition {@code lag} is polled only when no other partition can be. */
  static TaskHarness.Strategy delayed(int lag, int maxPerPartition) {
    TaskHarness.Strategy others = shuffled(maxPerPartition);
    return (h, rnd) -> {
      boolean other = false;
      for (int p = 0; p < h.partitions; p++) {
        other |= p != lag && h.deliverable(p);
      }
      if (other) {
        boolean was = h.paused.contains(lag);
        h.paused.add(lag);
        try {
          return others.poll(h, rnd);
        } finally {
          if (!was) {
            h.paused.remove(lag);
          }
        }
      }
      return h.deliverable(lag) ? h.take(lag, 1 + rnd.nextInt(maxPerPartition)) : List.of();
    };
  }

  static void runToEnd(TaskHarness h, TaskHarness.Strategy s, long seed, long lastSeq) {
    Random rnd = new Random(seed);
    for (int i = 0; i < 100_000 && h.appliedSeq() < lastSeq; i++) {
      h.pollOnce(s, rnd);
      if (i % 7 == 0) {
        h.commit();
      }
    }
    h.commit();
    assertThat(h.appliedSeq()).as("applied seq").isEqualTo(lastSeq);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4})
  void shuffledArrivalGivesTheInOrderTree(long seed) throws Exception {
    History hist = HistoryGen.generate(seed, 400, P, 2048);
    Path ref = reference(hist.ops, "ref");
    Path root = tmp.resolve("mirror");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
    h.produceAll(hist.ops);
    h.startTask();
    runToEnd(h, shuffled(20), seed, hist.ops.size());
    h.task.stop();
    assertSameTree(ref, root);
  }

  @Test
  void historyReallyDependsOnOrder() throws Exception {
    // Sanity check of the test itself: applying the same ops partition by partition fails or
    // gives another tree, so the equality above is not trivial.
    History hist = HistoryGen.generate(1, 400, P, 2048);
    Path ref = reference(hist.ops, "ref");
    List<OpRecord> byPartition = new ArrayList<>();
    for (int p = 0; p < P; p++) {
      byPartition.addAll(hist.partition(p));
    }
    Path other = tmp.resolve("other");
    Files.createDirectories(other);
    boolean failed = false;
    try (MirrorApplier a = new MirrorApplier(other, MirrorApplier.OwnerPolicy.AUTO)) {
      for (OpRecord op : byPartition) {
        a.apply(op);
      }
    } catch (ApplyException e) {
      failed = true;
    }
    assertThat(failed || !Trees.compare(ref, other, true).identical()).isTrue();
  }

  @Test
  void oneDelayedPartitionKeepsMemoryBoundedAndThePartitionHoldingTheNextSeqIsNeverPaused()
      throws Exception {
    History hist = HistoryGen.generate(7, 800, P, 48 * 1024);
    long total = 0;
    int[] bytesPer = new int[P];
    OpCodec codec = new OpCodec();
    for (OpRecord op : hist.ops) {
      int n = codec.encode(op).length;
      total += n;
      bytesPer[op.getPartition()] += n;
    }
    int lag = 0;
    for (int p = 1; p < P; p++) {
      if (bytesPer[p] < bytesPer[lag]) {
        lag = p; // the lightest partition lags, so the others hold most bytes
      }
    }
    Path ref = reference(hist.ops, "ref");
    Path root = tmp.resolve("mirror");
    TaskHarness h =
        new TaskHarness(
            TOPIC, P, props(root, tmp.resolve("state"), TreeSinkConfig.FSYNC_CONFIG, "commit"));
    h.produceAll(hist.ops);
    h.startTask();
    runToEnd(h, delayed(lag, 4), 7, hist.ops.size());
    h.task.stop();
    assertSameTree(ref, root);
    long max = 1024 * 1024;
    System.out.printf(
        "delayed partition %d: history %d bytes, buffer high-water %d, max batch %d, paused %s%n",
        lag, total, h.maxBuffered, h.maxBatchBytes, h.everPaused);
    assertThat(total).as("history bytes").isGreaterThan(4 * max);
    assertThat(h.everPaused).as("partitions paused").isNotEmpty();
    // The lagging partition may be paused only once it has run ahead itself; never while it holds
    // the seq the mirror waits for.
    assertThat(h.badPauses).isEmpty();
    // Over the bound, each poll can add at most one batch before the ahead partitions are paused.
    assertThat(h.maxBuffered)
        .as("buffer high-water mark (batch max %d)", h.maxBatchBytes)
        .isLessThanOrEqualTo(max + 2 * h.maxBatchBytes);
    assertThat(h.paused).as("all resumed at the end").isEmpty();
  }

  @Test
  void duplicatesRebalancesAndRedeliveriesApplyNothingTwice() throws Exception {
    History hist = HistoryGen.generate(11, 400, P, 2048);
    Path ref = reference(hist.ops, "ref");
    Path root = tmp.resolve("mirror");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
    // A shipper that restarted re-sends a few records after the ones it had sent.
    OpCodec codec = new OpCodec();
    Random rnd = new Random(11);
    Map<Integer, List<OpRecord>> sent = new HashMap<>();
    for (OpRecord op : hist.ops) {
      int p = op.getPartition();
      List<OpRecord> s = sent.computeIfAbsent(p, k -> new ArrayList<>());
      s.add(op);
      h.produce(p, Ops.path(op), codec.encode(op));
      if (rnd.nextInt(15) == 0) {
        for (OpRecord again : s.subList(Math.max(0, s.size() - 1 - rnd.nextInt(4)), s.size())) {
          h.produce(p, Ops.path(again), codec.encode(again));
        }
      }
    }
    h.startTask();
    Random poll = new Random(12);
    TaskHarness.Strategy s = shuffled(10);
    for (int i = 0; i < 100_000 && h.appliedSeq() < hist.ops.size(); i++) {
      h.pollOnce(s, poll);
      if (i % 5 == 0) {
        h.commit();
      }
      if (i % 13 == 12) {
        h.rebalance();
      }
      if (i % 29 == 28) {
        h.startTask(); // a worker killed without stop(): a new task from the committed offsets
      }
    }
    h.commit();
    assertThat(h.appliedSeq()).isEqualTo(hist.ops.size());
    assertThat(h.badPauses).isEmpty();
    h.task.stop();
    assertSameTree(ref, root);
  }

  /** A history whose double application would show: rename a->b, re-create a, append to both. */
  static History renameRecreateAppend() {
    History h = new History("vol", 1L, P);
    h.add("a", new Create(0644, 0, 0));
    h.add(b("a"), new Write(0L, History.buf("1")), true, false);
    h.add(b("a"), new Rename(History.buf("b"), History.T0 + 1), false, true);
    h.add("a", new Create(0644, 0, 0));
    h.add(b("a"), new Write(0L, History.buf("2")), true, false);
    h.add(b("b"), new Write(1L, History.buf("3")), true, false);
    h.add(b("a"), new Rename(History.buf("c"), History.T0 + 2), false, true);
    h.add("a", new Create(0600, 0, 0));
    h.add(b("c"), new Write(1L, History.buf("4")), true, false);
    return h;
  }

  @Test
  void crashBetweenApplyAndRecordReappliesOnlyTheLastOp() throws Exception {
    History hist = renameRecreateAppend();
    Path ref = reference(hist.ops, "ref");
    for (int k = 1; k <= hist.ops.size(); k++) {
      Path root = tmp.resolve("m" + k);
      Path state = tmp.resolve("s" + k);
      TaskHarness h = new TaskHarness(TOPIC, P, props(root, state));
      h.produceAll(hist.ops);
      h.startTask();
      // Apply ops 1..k-1, snapshot the state, apply op k, then "crash" with the old state on disk:
      // the op took effect but was not recorded.
      deliverInOrder(h, hist.ops.subList(0, k - 1));
      Path stateFile;
      try (Stream<Path> s = Files.list(state)) {
        stateFile = s.filter(f -> f.toString().endsWith(".state")).findFirst().orElseThrow();
      }
      byte[] before = Files.readAllBytes(stateFile);
      deliverInOrder(h, hist.ops.subList(k - 1, k));
      assertThat(h.appliedSeq()).isEqualTo(k);
      Files.write(stateFile, before);
      h.committed.clear(); // nothing committed either: everything is redelivered
      h.startTask();
      runToEnd(h, shuffled(3), k, hist.ops.size());
      h.task.stop();
      assertSameTree(ref, root);
    }
  }

  private static void deliverInOrder(TaskHarness h, List<OpRecord> ops) {
    OpCodec codec = new OpCodec();
    List<SinkRecord> batch = new ArrayList<>();
    for (OpRecord op : ops) {
      List<SinkRecord> l = h.log.get(op.getPartition());
      for (SinkRecord r : l) {
        if (java.util.Arrays.equals((byte[]) r.value(), codec.encode(op))) {
          batch.add(r);
          break;
        }
      }
    }
    for (Map.Entry<org.apache.kafka.common.TopicPartition, Long> e : h.seeks.entrySet()) {
      h.position[e.getKey().partition()] = e.getValue();
    }
    h.seeks.clear();
    h.task.put(batch);
  }

  @Test
  void aGapStopsTheTaskWithWhatIsMissingAndHowToRebuild() throws Exception {
    History hist = HistoryGen.generate(21, 200, P, 512);
    Path root = tmp.resolve("mirror");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
    h.produceAll(hist.ops);
    // Retention deleted one record in the middle of partition 3.
    List<SinkRecord> l = h.log.get(3);
    int drop = l.size() / 2;
    OpRecord dropped = new OpCodec().decode((byte[]) l.get(drop).value());
    List<SinkRecord> kept = new ArrayList<>();
    for (int i = 0; i < l.size(); i++) {
      if (i != drop) {
        SinkRecord r = l.get(i);
        kept.add(new SinkRecord(TOPIC, 3, null, r.key(), null, r.value(), i));
      }
    }
    l.clear();
    l.addAll(kept);
    h.startTask();
    assertThatThrownBy(() -> runToEnd(h, shuffled(20), 21, hist.ops.size()))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("gap in partition " + TOPIC + "-3")
        .hasMessageContaining("up to seq " + dropped.getSeq())
        .hasMessageContaining("new empty directory")
        .hasMessageContaining("/offsets");
    assertThat(h.appliedSeq()).isLessThan(dropped.getSeq());
    String status = Files.readString(statusFile(tmp.resolve("state")));
    assertThat(status).contains("\"state\": \"failed\"").contains("gap in partition");
  }

  /**
   * tfs.special.files=skip (the default) through the task: device nodes are not created, counted in
   * the status file and the MXBean, and after a restart later ops on their names still apply (the
   * skipped names are durable beside the state). create makes them.
   */
  @Test
  void deviceNodesAreSkippedAndCountedAcrossARestartOrCreated() throws Exception {
    History hist = new History("vol", 5L, P);
    hist.add("d", new Mkdir(0755, 0, 0));
    hist.add("d/null", new Mknod(OpRules.S_IFCHR | 0666, 0, 0, Posix.makedev(1, 3)));
    hist.add("d/sda", new Mknod(OpRules.S_IFBLK | 0660, 0, 6, Posix.makedev(8, 0)));
    hist.add("d/null", new SetAttr(0600, null, null, null, History.T0 + 1));
    Path root = tmp.resolve("mirror");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
    h.produceAll(hist.ops);
    h.startTask();
    runToEnd(h, shuffled(20), 3, hist.ops.size());
    assertThat(h.task.metrics().getSkippedSpecialFiles()).isEqualTo(2);
    assertThat(Files.readString(statusFile(tmp.resolve("state"))))
        .contains("\"skippedSpecialFiles\": 2,");
    h.task.stop();
    hist.add("d/null", new Rename(ByteBuffer.wrap(b("d/null.moved")), History.T0 + 2));
    hist.add("d/sda", new Unlink());
    int before = hist.ops.size();
    h.produceAll(hist.ops.subList(before - 2, before));
    h.startTask();
    runToEnd(h, shuffled(20), 4, hist.ops.size());
    assertThat(h.task.metrics().getSkippedSpecialFiles()).isEqualTo(1);
    h.task.stop();
    assertThat(Files.readString(statusFile(tmp.resolve("state"))))
        .contains("\"skippedSpecialFiles\": 1,");
    try (Stream<Path> l = Files.list(root.resolve("d"))) {
      assertThat(l).isEmpty();
    }
    if (Posix.geteuid() == 0) {
      Path created = tmp.resolve("created");
      TaskHarness c =
          new TaskHarness(
              TOPIC,
              P,
              props(
                  created,
                  tmp.resolve("state-c"),
                  TreeSinkConfig.SPECIAL_FILES_CONFIG,
                  TreeSinkConfig.SPECIAL_FILES_CREATE));
      c.produceAll(hist.ops);
      c.startTask();
      runToEnd(c, shuffled(20), 5, hist.ops.size());
      assertThat(c.task.metrics().getSkippedSpecialFiles()).isZero();
      c.task.stop();
      int fd = Posix.openDirectory(created);
      try {
        Stat moved = Posix.stat(fd, b("d/null.moved"), false);
        assertThat(moved.type()).isEqualTo(Flags.S_IFCHR);
        assertThat(moved.rdev()).isEqualTo(Posix.makedev(1, 3));
        assertThat(moved.permissions()).isEqualTo(0600);
        assertThat(Posix.statOrNull(fd, b("d/sda"), false)).isNull();
      } finally {
        Posix.closeQuietly(fd);
      }
    }
  }

  @Test
  void anEpochChangeStopsTheTask() throws Exception {
    History hist = HistoryGen.generate(22, 50, P, 256);
    History next = new History(hist.volume, hist.epoch + 1, P);
    next.add("x", new Create(0644, 0, 0));
    Path root = tmp.resolve("mirror");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
    h.produceAll(hist.ops);
    h.produceAll(next.ops);
    h.startTask();
    assertThatThrownBy(() -> runToEnd(h, shuffled(20), 22, hist.ops.size() + 1))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("epoch " + (hist.epoch + 1))
        .hasMessageContaining("created anew")
        .hasMessageContaining("tfs.epoch=" + (hist.epoch + 1));
  }

  @Test
  void aMirrorPinnedToANewEpochSkipsTheOldHistoryAndBuildsTheNewOne() throws Exception {
    History old = HistoryGen.generate(24, 60, P, 256);
    History next = new History(old.volume, old.epoch + 1, P);
    next.add("d", new Mkdir(0755, 0, 0));
    next.add("d/f", new Create(0644, 0, 0));
    next.add("d/f", new Write(0L, ByteBuffer.wrap(b("new epoch"))));
    Path root = tmp.resolve("rebuilt");
    TaskHarness h =
        new TaskHarness(
            TOPIC,
            P,
            props(root, tmp.resolve("state"), TreeSinkConfig.EPOCH_CONFIG, "" + next.epoch));
    h.produceAll(old.ops);
    h.produceAll(next.ops);
    h.startTask();
    runToEnd(h, shuffled(20), 24, next.ops.size());
    h.task.stop();
    assertSameTree(reference(next.ops, "next"), root);

    // The root now holds the new epoch: pinning it to another one is refused.
    TaskHarness again =
        new TaskHarness(
            TOPIC,
            P,
            props(root, tmp.resolve("state"), TreeSinkConfig.EPOCH_CONFIG, "" + old.epoch));
    assertThatThrownBy(again::startTask)
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("holds journal epoch " + next.epoch);
  }

  @Test
  void anotherVolumeStopsTheTask() throws Exception {
    History hist = HistoryGen.generate(23, 20, P, 256);
    History other = new History("other-volume", hist.epoch, P);
    other.add("x", new Create(0644, 0, 0));
    TaskHarness h = new TaskHarness(TOPIC, P, props(tmp.resolve("m"), tmp.resolve("s")));
    h.produceAll(hist.ops);
    h.produceAll(other.ops);
    h.startTask();
    assertThatThrownBy(() -> runToEnd(h, shuffled(20), 23, hist.ops.size() + 1))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("of volume other-volume");
  }

  @Test
  void aRecordInTheWrongPartitionStopsTheTask() throws Exception {
    History hist = new History("vol", 1L, P);
    OpRecord op = hist.add("x", new Create(0644, 0, 0));
    TaskHarness h = new TaskHarness(TOPIC, P, props(tmp.resolve("m"), tmp.resolve("s")));
    h.produce((op.getPartition() + 1) % P, b("x"), new OpCodec().encode(op));
    h.startTask();
    assertThatThrownBy(() -> runToEnd(h, shuffled(20), 1, 1))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("says it belongs to partition " + op.getPartition());
  }

  private int corruptOneWrite(TaskHarness h, History hist) {
    for (int i = hist.ops.size() / 2; i < hist.ops.size(); i++) {
      OpRecord op = hist.ops.get(i);
      if (op.getOp() instanceof Write) {
        List<SinkRecord> l = h.log.get(op.getPartition());
        for (int j = 0; j < l.size() - 1; j++) {
          SinkRecord r = l.get(j);
          if (java.util.Arrays.equals((byte[]) r.value(), new OpCodec().encode(op))) {
            l.set(j, new SinkRecord(TOPIC, op.getPartition(), null, r.key(), null, garbage(), j));
            return i;
          }
        }
      }
    }
    throw new AssertionError("no write to corrupt");
  }

  static byte[] garbage() {
    byte[] g = new byte[40];
    g[0] = (byte) 0xC3;
    g[1] = 0x01;
    return g; // single-object marker, unknown fingerprint
  }

  @Test
  void undecodableRecordWithToleranceAllGoesToTheReporterAndMarksDiverged() throws Exception {
    History hist = HistoryGen.generate(31, 300, P, 1024);
    Path root = tmp.resolve("mirror");
    TaskHarness h =
        new TaskHarness(TOPIC, P, props(root, tmp.resolve("state"), "errors.tolerance", "all"));
    h.withReporter = true;
    h.produceAll(hist.ops);
    int bad = corruptOneWrite(h, hist);
    List<OpRecord> without = new ArrayList<>(hist.ops);
    without.remove(bad);
    Path ref = reference(without, "ref");
    h.startTask();
    runToEnd(h, shuffled(20), 31, hist.ops.size());
    assertThat(h.reported).hasSize(1);
    assertThat(((Throwable) h.reported.get(0)[1]).getMessage())
        .contains("topic " + TOPIC + " partition " + hist.ops.get(bad).getPartition() + " offset");
    assertThat(h.task.metrics().isDiverged()).isTrue();
    h.task.stop();
    assertSameTree(ref, root);
    String status = Files.readString(statusFile(tmp.resolve("state")));
    assertThat(status).contains("\"diverged\": true").contains("undecodable op record");
  }

  @Test
  void undecodableRecordWithoutToleranceFailsNamingTopicPartitionOffset() throws Exception {
    History hist = HistoryGen.generate(32, 200, P, 1024);
    TaskHarness h = new TaskHarness(TOPIC, P, props(tmp.resolve("m"), tmp.resolve("state")));
    h.produceAll(hist.ops);
    int bad = corruptOneWrite(h, hist);
    h.startTask();
    assertThatThrownBy(() -> runToEnd(h, shuffled(20), 32, hist.ops.size()))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining(
            "topic " + TOPIC + " partition " + hist.ops.get(bad).getPartition() + " offset ")
        .hasMessageContaining("UNKNOWN_SCHEMA");
    // errors.tolerance=none skips nothing: the mirror stops before the record, it is not diverged.
    assertThat(Files.readString(statusFile(tmp.resolve("state"))))
        .contains("\"diverged\": false")
        .contains("\"state\": \"failed\"");
  }

  @Test
  void replayUntilSeqStopsThereAndIdles() throws Exception {
    History hist = HistoryGen.generate(41, 300, P, 1024);
    int n = 173;
    Path ref = reference(hist.ops.subList(0, n), "ref");
    Path root = tmp.resolve("mirror");
    Path state = tmp.resolve("state");
    TaskHarness h =
        new TaskHarness(
            TOPIC, P, props(root, state, TreeSinkConfig.REPLAY_UNTIL_SEQ_CONFIG, "" + n));
    h.produceAll(hist.ops);
    h.startTask();
    runToEnd(h, shuffled(20), 41, n);
    for (int i = 0; i < 20; i++) {
      h.pollOnce(shuffled(20), new Random(i));
    }
    assertThat(h.appliedSeq()).isEqualTo(n);
    assertThat(h.paused).hasSize(P);
    assertThat(h.task.metrics().isReplayTargetReached()).isTrue();
    h.commit();
    h.task.stop();
    assertSameTree(ref, root);
    assertThat(Files.readString(statusFile(state))).contains("\"replayTargetReached\": true");
    // A target below what the mirror applied cannot be honored.
    TaskHarness again =
        new TaskHarness(
            TOPIC, P, props(root, state, TreeSinkConfig.REPLAY_UNTIL_SEQ_CONFIG, "" + (n - 10)));
    assertThatThrownBy(again::startTask)
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("cannot be un-applied");
  }

  @Test
  void replayUntilTimeStopsAtTheLastOpNotLaterThanIt() throws Exception {
    History hist = HistoryGen.generate(42, 200, P, 1024);
    int n = 120;
    long t = hist.ops.get(n - 1).getTime();
    Path ref = reference(hist.ops.subList(0, n), "ref");
    Path root = tmp.resolve("mirror");
    TaskHarness h =
        new TaskHarness(
            TOPIC,
            P,
            props(
                root,
                tmp.resolve("state"),
                TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG,
                java.time.Instant.ofEpochSecond(0, t).toString()));
    h.produceAll(hist.ops);
    h.startTask();
    Random rnd = new Random(1);
    for (int i = 0; i < 2000 && !h.task.metrics().isReplayTargetReached(); i++) {
      h.pollOnce(shuffled(20), rnd);
    }
    assertThat(h.appliedSeq()).isEqualTo(n);
    h.task.stop();
    assertSameTree(ref, root);
  }

  @Test
  void aFreshRootNeverInheritsAnotherRootsState() throws Exception {
    History hist = HistoryGen.generate(51, 100, P, 512);
    Path state = tmp.resolve("state");
    TaskHarness h = new TaskHarness(TOPIC, P, props(tmp.resolve("a"), state));
    h.produceAll(hist.ops);
    h.startTask();
    runToEnd(h, shuffled(20), 51, hist.ops.size());
    h.task.stop();
    // Same connector name, same committed offsets, new root: starts over from offset 0.
    TaskHarness h2 = new TaskHarness(TOPIC, P, props(tmp.resolve("b"), state));
    h2.log.clear();
    h2.log.addAll(h.log);
    h2.committed.putAll(h.committed);
    h2.startTask();
    runToEnd(h2, shuffled(20), 52, hist.ops.size());
    h2.task.stop();
    assertSameTree(tmp.resolve("a"), tmp.resolve("b"));
  }

  @Test
  void aNonEmptyRootWithoutStateIsRefused() throws Exception {
    Path root = tmp.resolve("m");
    Files.createDirectories(root);
    Files.writeString(root.resolve("stray"), "x");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("s")));
    assertThatThrownBy(h::startTask)
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("Rebuild into an empty root");
  }

  @Test
  void rootAndStateDirMustNotOverlap() throws Exception {
    Path root = tmp.resolve("m");
    TaskHarness h = new TaskHarness(TOPIC, P, props(root, root.resolve("state")));
    assertThatThrownBy(h::startTask)
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("overlap");
  }

  @Test
  void diskFullFailsTheTaskAndARestartAfterFreeingSpaceConverges() throws Exception {
    Path root = tmp.resolve("small");
    Files.createDirectories(root);
    assumeTrue(MirrorApplierTest.mount(root, "256k"), "cannot mount a tmpfs here");
    try {
      History hist = new History("vol", 1L, P);
      hist.add("f", new Create(0644, 0, 0));
      hist.add(b("f"), new Write(0L, ByteBuffer.wrap(new byte[100_000])), true, false);
      hist.add(b("f"), new Write(100_000L, ByteBuffer.wrap(new byte[100_000])), true, false);
      hist.add(b("f"), new Write(200_000L, ByteBuffer.wrap(new byte[100_000])), true, false);
      hist.add("g", new Create(0644, 0, 0));
      Path ref = reference(hist.ops, "ref");
      TaskHarness h = new TaskHarness(TOPIC, P, props(root, tmp.resolve("state")));
      h.produceAll(hist.ops);
      h.startTask();
      assertThatThrownBy(() -> runToEnd(h, shuffled(20), 1, hist.ops.size()))
          .isInstanceOf(ConnectException.class)
          .hasMessageContaining("disk full")
          .hasMessageContaining("free space");
      assertThat(h.appliedSeq()).isEqualTo(3);
      h.task.stop();
      Process p =
          new ProcessBuilder("mount", "-o", "remount,size=4m", root.toString())
              .redirectErrorStream(true)
              .start();
      p.getInputStream().readAllBytes();
      assertThat(p.waitFor()).isZero();
      h.committed.clear();
      h.startTask();
      runToEnd(h, shuffled(20), 2, hist.ops.size());
      h.task.stop();
      assertSameTree(ref, root, false); // a tmpfs root has its own mode
    } finally {
      new ProcessBuilder("umount", root.toString()).inheritIO().start().waitFor();
    }
  }

  @Test
  void confluentFramedValuesDecodeThroughTheRegistryAndAnOutageIsRetriable() throws Exception {
    History hist = HistoryGen.generate(61, 150, P, 512);
    Path ref = reference(hist.ops, "ref");
    Path root = tmp.resolve("mirror");
    try (dev.tfs.registry.FakeSchemaRegistry registry = new dev.tfs.registry.FakeSchemaRegistry()) {
      TaskHarness h =
          new TaskHarness(
              TOPIC,
              P,
              props(
                  root,
                  tmp.resolve("state"),
                  TreeSinkConfig.SCHEMA_REGISTRY_URL_CONFIG,
                  registry.url()));
      OpCodec codec = new OpCodec(new dev.tfs.registry.SchemaRegistryClient(registry.url()));
      int id = codec.registerFor(TOPIC);
      for (OpRecord op : hist.ops) {
        h.produce(op.getPartition(), Ops.path(op), OpCodec.toConfluent(codec.encode(op), id));
      }
      h.startTask();
      // The registry is down when the first record needs its schema: Connect must retry.
      registry.failNext(1000, 503);
      List<SinkRecord> first = h.take(hist.ops.get(0).getPartition(), 1);
      assertThatThrownBy(() -> h.task.put(first))
          .isInstanceOf(org.apache.kafka.connect.errors.RetriableException.class)
          .hasMessageContaining("schema registry unavailable");
      registry.failNext(0, 503);
      h.task.put(first); // WorkerSinkTask redelivers the same batch
      runToEnd(h, shuffled(20), 61, hist.ops.size());
      h.task.stop();
    }
    assertSameTree(ref, root);
  }

  /** Runs a history with a commit at seq {@code commitAt}, then "loses the host" (no stop). */
  private TaskHarness runAndLoseHost(
      Path root, Path state, History hist, int commitAt, boolean stop) throws Exception {
    TaskHarness h =
        new TaskHarness(TOPIC, P, props(root, state, TreeSinkConfig.FSYNC_CONFIG, "commit"));
    h.produceAll(hist.ops);
    h.startTask();
    deliverInOrder(h, hist.ops.subList(0, commitAt));
    h.commit();
    deliverInOrder(h, hist.ops.subList(commitAt, hist.ops.size()));
    if (stop) {
      h.task.stop();
    } else {
      h.task.metrics().close();
    }
    // The next boot: what the state file says was saved during another boot.
    Path stateFile;
    try (Stream<Path> s = Files.list(state)) {
      stateFile = s.filter(f -> f.toString().endsWith(".state")).findFirst().orElseThrow();
    }
    try (MirrorState st = MirrorState.open(stateFile)) {
      st.saveBootIdForTest("an-earlier-boot");
      st.save();
    }
    h.task = null;
    h.committed.clear();
    return h;
  }

  @Test
  void anUncleanHostStopAfterUncommittedOpsMarksTheMirrorDiverged() throws Exception {
    History hist = renameRecreateAppend();
    Path state = tmp.resolve("state");
    TaskHarness h = runAndLoseHost(tmp.resolve("m"), state, hist, 4, false);
    h.startTask();
    assertThat(h.task.metrics().isDiverged()).isTrue();
    assertThat(h.task.metrics().getDivergedReason())
        .contains("stopped uncleanly")
        .contains("ops 5..9 may be missing");
    h.task.stop();
  }

  @Test
  void aCleanStopOrAFullCommitBeforeTheHostWentDownIsTrusted() throws Exception {
    History hist = renameRecreateAppend();
    TaskHarness stopped = runAndLoseHost(tmp.resolve("m1"), tmp.resolve("s1"), hist, 4, true);
    stopped.startTask();
    assertThat(stopped.task.metrics().isDiverged()).isFalse();
    stopped.task.stop();
    TaskHarness committed =
        runAndLoseHost(tmp.resolve("m2"), tmp.resolve("s2"), hist, hist.ops.size(), false);
    committed.startTask();
    assertThat(committed.task.metrics().isDiverged()).isFalse();
    committed.task.stop();
  }

  /** One partition: every op of the history in it, in seq order. */
  static History onePartition(String... names) {
    History hist = new History("vol", 1L, 1);
    hist.add("d", new Mkdir(0755, 0, 0));
    for (String n : names) {
      hist.add(n, new Create(0644, 0, 0));
    }
    return hist;
  }

  /** Everything each partition holds from its position, in one batch (as one big poll). */
  static List<SinkRecord> pollAll(TaskHarness h) {
    for (Map.Entry<org.apache.kafka.common.TopicPartition, Long> e : h.seeks.entrySet()) {
      h.position[e.getKey().partition()] = e.getValue();
    }
    h.seeks.clear();
    List<SinkRecord> batch = new ArrayList<>();
    for (int p = 0; p < h.partitions; p++) {
      batch.addAll(h.take(p, Integer.MAX_VALUE));
    }
    return batch;
  }

  @Test
  void anUndecodableRecordAfterGoodOnesAppliesThePrefixAndResumesExactlyThere() throws Exception {
    History hist = onePartition("d/a", "d/b", "d/c");
    Path root = tmp.resolve("m");
    Path state = tmp.resolve("state");
    TaskHarness h = new TaskHarness(TOPIC, 1, props(root, state));
    h.produceAll(hist.ops);
    SinkRecord third = h.log.get(0).get(2);
    h.log.get(0).set(2, new SinkRecord(TOPIC, 0, null, third.key(), null, garbage(), 2));
    h.startTask();
    List<SinkRecord> batch = pollAll(h);
    assertThat(batch).hasSize(4);
    assertThatThrownBy(() -> h.task.put(batch))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("undecodable op record at topic " + TOPIC + " partition 0 offset 2")
        .hasMessageContaining("consistent as of seq 2");
    assertThat(h.task.appliedSeqNow()).as("the good prefix is applied").isEqualTo(2);
    assertThat(Files.exists(root.resolve("d/a"))).isTrue();
    assertThat(h.task.metrics().isDiverged()).as("nothing was skipped").isFalse();
    String status = Files.readString(statusFile(state));
    assertThat(status).contains("\"diverged\": false").contains("\"appliedSeq\": 2");
    h.commit();
    assertThat(h.committed).containsEntry(new org.apache.kafka.common.TopicPartition(TOPIC, 0), 2L);
    h.task.stop();

    // The fix: the record is re-shipped readable; a restart resumes exactly at offset 2.
    h.log.get(0).set(2, third);
    h.committed.clear(); // the mirror's own state wins over the group's offsets
    h.startTask();
    assertThat(h.seeks).containsEntry(new org.apache.kafka.common.TopicPartition(TOPIC, 0), 2L);
    h.task.put(pollAll(h));
    assertThat(h.task.appliedSeqNow()).isEqualTo(hist.ops.size());
    assertThat(h.task.metrics().isDiverged()).isFalse();
    h.task.stop();
    assertSameTree(reference(hist.ops, "ref"), root, false);
  }

  @Test
  void aRefusedRecordAfterGoodOnesAppliesThePrefixAndResumesExactlyThere() throws Exception {
    History hist = onePartition("d/a", "d/s/x", "d/b");
    Path root = tmp.resolve("m");
    Path state = tmp.resolve("state");
    TaskHarness h = new TaskHarness(TOPIC, 1, props(root, state));
    h.produceAll(hist.ops);
    h.startTask();
    Files.createDirectories(root.resolve("d"));
    Files.createSymbolicLink(root.resolve("d/s"), tmp); // in the way of seq 3 (G5)
    assertThatThrownBy(() -> h.task.put(pollAll(h)))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("op refused by confinement (G5) applying seq 3")
        .hasMessageContaining("symlink");
    assertThat(h.task.appliedSeqNow()).isEqualTo(2);
    h.commit();
    assertThat(h.committed).containsEntry(new org.apache.kafka.common.TopicPartition(TOPIC, 0), 2L);
    h.task.stop();

    Files.delete(root.resolve("d/s"));
    Files.createDirectories(root.resolve("d/s"));
    h.committed.clear();
    h.startTask();
    assertThat(h.seeks).containsEntry(new org.apache.kafka.common.TopicPartition(TOPIC, 0), 2L);
    h.task.put(pollAll(h));
    assertThat(h.task.appliedSeqNow()).isEqualTo(hist.ops.size());
    h.task.stop();
  }

  @Test
  void anEpochChangeBeforeAnythingWasAppliedSaysNothingWasAppliedYet() throws Exception {
    // seq 1 of epoch 1 lives in partition 1 (not delivered); seq 2 arrives and pins epoch 1.
    History hist = new History("vol", 1L, 2);
    OpRecord first = null;
    OpRecord second = null;
    for (int i = 0; first == null || second == null; i++) {
      OpRecord op = hist.add("n" + i, new Mkdir(0755, 0, 0));
      if (first == null) {
        first = op;
      } else if (op.getPartition() != first.getPartition()) {
        second = op;
      }
    }
    History next = new History("vol", 2L, 2);
    OpRecord other = next.add("x", new Create(0644, 0, 0));
    TaskHarness h = new TaskHarness(TOPIC, 2, props(tmp.resolve("m"), tmp.resolve("state")));
    OpCodec codec = new OpCodec();
    h.produce(second.getPartition(), Ops.path(second), codec.encode(second));
    h.produce(other.getPartition(), Ops.path(other), codec.encode(other));
    h.startTask();
    pollAll(h); // positions at the seeks
    // seq 2 of epoch 1 first (it waits for seq 1), then the record of epoch 2.
    List<SinkRecord> ordered =
        List.of(
            h.log.get(second.getPartition()).get(0),
            h.log
                .get(other.getPartition())
                .get(other.getPartition() == second.getPartition() ? 1 : 0));
    assertThatThrownBy(() -> h.task.put(ordered))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("this mirror holds epoch 1 and has applied nothing yet")
        .hasMessageNotContaining("up to seq 0");
  }

  static Path statusFile(Path stateDir) throws Exception {
    try (Stream<Path> s = Files.list(stateDir)) {
      return s.filter(f -> f.toString().endsWith(".status.json")).findFirst().orElseThrow();
    }
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
