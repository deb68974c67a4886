package dev.tfs.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.schema.OpRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeSinkConnectorTest {
  @TempDir Path tmp;

  Map<String, String> props() {
    Map<String, String> p = new HashMap<>();
    p.put("name", "c");
    p.put("topics", "tfs.vol.ops");
    p.put(TreeSinkConfig.MIRROR_ROOT_CONFIG, tmp.resolve("m").toString());
    p.put(TreeSinkConfig.STATE_DIR_CONFIG, tmp.resolve("s").toString());
    return p;
  }

  static String errors(Config c) {
    StringBuilder sb = new StringBuilder();
    for (ConfigValue v : c.configValues()) {
      for (String e : v.errorMessages()) {
        sb.append(v.name()).append(": ").append(e).append('\n');
      }
    }
    return sb.toString();
  }

  @Test
  void aValidConfigHasNoErrorsAndCollapsesToOneTask() {
    TreeSinkConnector c = new TreeSinkConnector();
    assertThat(errors(c.validate(props()))).isEmpty();
    c.start(props());
    List<Map<String, String>> tasks = c.taskConfigs(4);
    assertThat(tasks).hasSize(1);
    assertThat(tasks.get(0)).containsAllEntriesOf(props());
    assertThat(c.version()).isNotEqualTo("unknown").doesNotContain("${");
    assertThat(c.taskClass()).isEqualTo(TreeSinkTask.class);
  }

  @Test
  void crossFieldProblemsAreReportedOnTheirKeys() {
    Map<String, String> p = props();
    p.put(TreeSinkConfig.STATE_DIR_CONFIG, tmp.resolve("m/state").toString());
    p.put(TreeSinkConfig.REPLAY_UNTIL_SEQ_CONFIG, "10");
    p.put(TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG, "1700000000000");
    p.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
    String e = errors(new TreeSinkConnector().validate(p));
    assertThat(e)
        .contains(TreeSinkConfig.STATE_DIR_CONFIG + ": ")
        .contains("overlap")
        .contains(TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG + ": set tfs.replay.until.seq or")
        .contains("value.converter: ");
  }

  @Test
  void aConfigurationThatFailsValidationDoesNotStart() {
    Map<String, String> cross = props();
    cross.put(TreeSinkConfig.STATE_DIR_CONFIG, tmp.resolve("m/state").toString());
    assertThatThrownBy(() -> new TreeSinkConnector().start(cross))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(TreeSinkConfig.STATE_DIR_CONFIG + ": ")
        .hasMessageContaining("overlap");
    Map<String, String> perKey = props();
    perKey.put(TreeSinkConfig.MIRROR_ROOT_CONFIG, "relative/path");
    assertThatThrownBy(() -> new TreeSinkConnector().start(perKey))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(TreeSinkConfig.MIRROR_ROOT_CONFIG)
        .hasMessageContaining("absolute");
    assertThat(TreeSinkConnector.crossCheck(cross)).anyMatch(m -> m.contains("overlap"));
    assertThat(TreeSinkConnector.crossCheck(props())).isEmpty();
  }

  @Test
  void oneTopicOnly() {
    Map<String, String> p = props();
    p.put("topics", "a,b");
    assertThat(errors(new TreeSinkConnector().validate(p))).contains("exactly one topic");
    p.remove("topics");
    p.put("topics.regex", "tfs\\..*");
    assertThat(errors(new TreeSinkConnector().validate(p))).contains("not topics.regex");
  }

  @Test
  void perKeyValidatorsRejectBadValues() {
    Map<String, String> p = props();
    p.put(TreeSinkConfig.MIRROR_ROOT_CONFIG, "relative/path");
    p.put(TreeSinkConfig.FSYNC_CONFIG, "always");
    p.put(TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG, "yesterday");
    p.put(TreeSinkConfig.VOLUME_CONFIG, "bad volume!");
    p.put(TreeSinkConfig.BUFFER_MAX_BYTES_CONFIG, "10");
    p.put(TreeSinkConfig.SCHEMA_REGISTRY_URL_CONFIG, "ftp://x");
    String e = errors(new TreeSinkConnector().validate(p));
    assertThat(e)
        .contains(TreeSinkConfig.MIRROR_ROOT_CONFIG)
        .contains(TreeSinkConfig.FSYNC_CONFIG)
        .contains(TreeSinkConfig.REPLAY_UNTIL_TIME_CONFIG)
        .contains(TreeSinkConfig.VOLUME_CONFIG)
        .contains(TreeSinkConfig.BUFFER_MAX_BYTES_CONFIG)
        .contains(TreeSinkConfig.SCHEMA_REGISTRY_URL_CONFIG);
  }

  @Test
  void timesParseAsIsoOrEpochMillis() {
    assertThat(TreeSinkConfig.parseTimeNs("1700000000123")).isEqualTo(1_700_000_000_123_000_000L);
    assertThat(TreeSinkConfig.parseTimeNs("2023-11-14T22:13:20.123456789Z"))
        .isEqualTo(1_700_000_000_123_456_789L);
  }

  @Test
  void snapshotProgressAndTheStateSurviveAReopen() throws Exception {
    // Every op kind through the task: the state records the bootstrap snapshot as done.
    History h = MirrorApplierTest.everyKind();
    Path state = tmp.resolve("s");
    Map<String, String> p = props();
    p.put(TreeSinkConfig.FSYNC_CONFIG, "commit");
    TaskHarness harness = new TaskHarness("tfs.vol.ops", 4, p);
    harness.produceAll(h.ops);
    harness.startTask();
    TreeSinkTaskTest.runToEnd(harness, TreeSinkTaskTest.shuffled(3), 5, h.ops.size());
    harness.task.stop();
    Path stateFile;
    try (var s = Files.list(state)) {
      stateFile = s.filter(f -> f.toString().endsWith(".state")).findFirst().orElseThrow();
    }
    try (MirrorState st = MirrorState.open(stateFile)) {
      assertThat(st.existed()).isTrue();
      assertThat(st.appliedSeq()).isEqualTo(h.ops.size());
      assertThat(st.snapshot()).isEqualTo(MirrorState.Snapshot.DONE);
      assertThat(st.volume()).isEqualTo("vol");
      assertThat(st.topic()).isEqualTo("tfs.vol.ops");
      long lastSeqs =
          st.partitions().values().stream()
              .mapToLong(MirrorState.PartitionPos::lastSeq)
              .max()
              .orElse(0);
      assertThat(lastSeqs).isEqualTo(h.ops.size());
      OpRecord last = h.ops.get(h.ops.size() - 1);
      assertThat(st.appliedTimeNs()).isEqualTo(last.getTime());
    }
    assertThat(Files.readString(TreeSinkTaskTest.statusFile(state)))
        .contains("\"snapshot\": \"done\"");
  }

  @Test
  void aTornSlotFallsBackToTheOtherOne() throws Exception {
    Path f = tmp.resolve("x.state");
    try (MirrorState s = MirrorState.open(f)) {
      s.pinIdentity("v", 1);
      s.recordApplied(1, 0);
      s.save(); // generation 1 -> slot 1
      s.recordApplied(2, 0);
      s.save(); // generation 2 -> slot 0
    }
    byte[] b = Files.readAllBytes(f);
    b[30] ^= 0x55; // corrupt slot 0 (the newest)
    Files.write(f, b);
    try (MirrorState s = MirrorState.open(f)) {
      assertThat(s.appliedSeq()).isEqualTo(1);
    }
    b[MirrorState.SLOT_BYTES + 30] ^= 0x55; // both torn: the position is unknown
    Files.write(f, b);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> MirrorState.open(f))
        .hasMessageContaining("no valid slot");
  }
}
