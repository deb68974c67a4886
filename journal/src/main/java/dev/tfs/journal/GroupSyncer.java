package dev.tfs.journal;

/**
 * The group-commit clock of {@link Durability#GROUP}: a daemon thread that runs the writer's "fsync
 * what is written and not yet synced" step every {@code groupCommitMillis}, so many appends share
 * one fsync and readers may ship them at most that much later.
 *
 * <p>The step itself stays in the writer (it owns the files and the sync lock) and must not throw:
 * it handles its own failures. {@link #stop()} ends the thread at once, not after the period.
 */
final class GroupSyncer {
  private final long periodMillis;
  private final Runnable step;
  private final Thread thread;

  /** The clock; {@link #stop()} notifies it so the thread ends at once. */
  private final Object tick = new Object();

  private volatile boolean stopped;

  /**
   * @param name the thread's name
   * @param periodMillis how long appends may wait for their fsync
   * @param step what runs on every tick, on the syncer thread
   */
  GroupSyncer(String name, long periodMillis, Runnable step) {
    this.periodMillis = periodMillis;
    this.step = step;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Ends the thread and waits (bounded) for it; idempotent. */
  void stop() {
    stopped = true;
    synchronized (tick) {
      tick.notifyAll();
    }
    JournalAcks.joinQuietly(thread);
  }

  private void run() {
    while (!stopped) {
      synchronized (tick) {
        if (stopped) {
          return; // stop() set it before notifying under this monitor: no wake-up is missed
        }
        try {
          tick.wait(periodMillis);
        } catch (InterruptedException e) {
          return;
        }
      }
      if (!stopped) {
        step.run();
      }
    }
  }
}
