package dev.tfs.sink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks a task passes before it may apply anything (G3, G7, G10): the mirror root is a real,
 * writable directory apart from the state directory; the state belongs to this root, topic, volume
 * and pinned epoch; a root without state is empty; an unclean host stop marks the mirror diverged;
 * a replay target is not behind what was applied. Each refusal says what to do instead.
 */
final class MirrorAdmission {
  private static final Logger log = LoggerFactory.getLogger(MirrorAdmission.class);

  private MirrorAdmission() {}

  /**
   * Prepares the root and the state directory, opens the state and checks it against the config.
   *
   * @return the open state (the caller closes it), saved with {@code cleanStop} false
   * @throws ConnectException when the mirror may not be used as configured
   * @throws IOException when the root or the state cannot be read or created
   */
  static MirrorState admit(TreeSinkConfig config, String connector, String topic)
      throws IOException {
    Path root = config.mirrorRoot();
    Path stateDir = config.stateDir();
    prepareRoot(root);
    Files.createDirectories(stateDir);
    Path realRoot = root.toRealPath();
    Path realState = stateDir.toRealPath();
    if (realRoot.startsWith(realState) || realState.startsWith(realRoot)) {
      throw new ConnectException(
          "tfs.mirror.root "
              + realRoot
              + " and tfs.state.dir "
              + realState
              + " overlap (after resolving symlinks); the state must live outside the mirrored"
              + " tree and vice versa");
    }
    Path stateFile = MirrorState.fileFor(stateDir, connector, root);
    MirrorState state = MirrorState.open(stateFile);
    try {
      check(config, connector, topic, root, state);
      return state;
    } catch (IOException | RuntimeException e) {
      state.close();
      throw e;
    }
  }

  private static void check(
      TreeSinkConfig config, String connector, String topic, Path root, MirrorState state)
      throws IOException {
    if (!state.existed()) {
      if (!isEmptyDir(root)) {
        throw new ConnectException(
            "the mirror root "
                + root
                + " holds files but has no state ("
                + state.file()
                + " is new): its content cannot be trusted to match any seq. Rebuild into an"
                + " empty root (point tfs.mirror.root at a new empty directory), or empty this"
                + " one");
      }
      state.bind(root.toString(), topic);
      state.save();
      state.force();
    } else if (!state.topic().isEmpty() && !state.topic().equals(topic)) {
      throw new ConnectException(
          "the mirror at "
              + root
              + " was built from topic "
              + state.topic()
              + ", not "
              + topic
              + "; use a new empty tfs.mirror.root for another topic");
    }
    if (config.volume() != null
        && !state.volume().isEmpty()
        && !state.volume().equals(config.volume())) {
      throw new ConnectException(
          "the mirror at "
              + root
              + " holds volume "
              + state.volume()
              + " but tfs.volume is "
              + config.volume()
              + "; use a new empty tfs.mirror.root");
    }
    if (config.epoch() != null && state.epoch() != 0 && state.epoch() != config.epoch()) {
      throw new ConnectException(
          "the mirror at "
              + root
              + " holds journal epoch "
              + state.epoch()
              + " but tfs.epoch is "
              + config.epoch()
              + "; rebuild epoch "
              + config.epoch()
              + " into a new empty tfs.mirror.root");
    }
    if (state.uncleanHostStop()) {
      // Ops after the last commit may not have reached the disk, in any order: re-applying them
      // is not safe (a rename re-applied after a later re-create would clobber), so say so.
      state.markDiverged(
          "the host stopped uncleanly (power loss or kernel crash) after this mirror recorded seq "
              + state.appliedSeq()
              + " but had made only seq "
              + state.committedSeq()
              + " durable; ops "
              + (state.committedSeq() + 1)
              + ".."
              + state.appliedSeq()
              + " may be missing from the mirror. Rebuild it into a new empty tfs.mirror.root to"
              + " be sure");
      log.error("{}: {}", connector, state.divergedReason());
    }
    state.cleanStop(false);
    state.save();
    Long untilSeq = config.replayUntilSeq();
    Long untilTimeNs = config.replayUntilTimeNs();
    if (untilSeq != null && untilSeq < state.appliedSeq()) {
      throw new ConnectException(
          "tfs.replay.until.seq="
              + untilSeq
              + " is below the seq this mirror has already applied ("
              + state.appliedSeq()
              + "); ops cannot be un-applied: replay into a fresh, empty tfs.mirror.root");
    }
    if (untilTimeNs != null && state.appliedSeq() > 0 && state.appliedTimeNs() > untilTimeNs) {
      throw new ConnectException(
          "tfs.replay.until.time is before the time of the last op this mirror applied (seq "
              + state.appliedSeq()
              + "); ops cannot be un-applied: replay into a fresh, empty tfs.mirror.root");
    }
  }

  private static void prepareRoot(Path root) throws IOException {
    if (Files.isSymbolicLink(root)) {
      throw new ConnectException(
          "tfs.mirror.root " + root + " is a symlink; give the real directory");
    }
    Files.createDirectories(root);
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConnectException("tfs.mirror.root " + root + " is not a directory");
    }
    if (!Files.isWritable(root)) {
      throw new ConnectException(
          "tfs.mirror.root " + root + " is not writable by the worker's user");
    }
  }

  private static boolean isEmptyDir(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }
}
