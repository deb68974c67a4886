package dev.tfs.capture;

import dev.tfs.capture.fs.FuseMount;
import dev.tfs.capture.ship.KafkaShipper;
import dev.tfs.journal.Durability;
import dev.tfs.journal.JournalOptions;
import dev.tfs.journal.JournalStats;
import dev.tfs.journal.JournalWriter;
import dev.tfs.posix.Posix;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running capture: journal (recovered), bootstrap when needed, shipper, mount. Start with
 * {@link #start}; {@link #stop} unmounts, flushes the journal and ships what it can within the
 * shutdown timeout.
 *
 * <p>Start order matters: intents a crash left unresolved are reconciled, and a non-empty store
 * under a new journal is bootstrapped, before the mount serves anything, so the journal never holds
 * ops out of store order. The shipper starts before the bootstrap, so the snapshot ships while it
 * is recorded; if the daemon dies mid-bootstrap, the next start refuses the journal (a new journal
 * is a new epoch), and a mirror that applied part of the abandoned snapshot stops on the epoch
 * change (G7) and is rebuilt from where the new epoch begins.
 */
public final class CaptureDaemon implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CaptureDaemon.class);

  /** Everything a daemon needs; validated by the CLI. */
  public record Config(
      Path store,
      Path mount,
      Path journal,
      String volume,
      int partitions,
      Durability durability,
      int groupCommitMillis,
      long spoolMaxBytes,
      long segmentBytes,
      int maxRecordBytes,
      boolean ship,
      String topic,
      Properties producer,
      String schemaRegistryUrl,
      Duration shutdownTimeout,
      FuseMount.Options mountOptions) {}

  private final Config cfg;
  private final PrintStream out;
  private final CaptureMetrics metrics = new CaptureMetrics();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private JournalWriter journal;
  private int rootFd = -1;
  private KafkaShipper shipper;
  private CaptureFs fs;
  private FuseMount mount;
  private volatile boolean stopping;

  public CaptureDaemon(Config cfg, PrintStream out) {
    this.cfg = cfg;
    this.out = out;
  }

  public CaptureMetrics metrics() {
    return metrics;
  }

  public JournalWriter journal() {
    return journal;
  }

  public KafkaShipper shipper() {
    return shipper;
  }

  /** Thrown for start problems the CLI maps to an exit code. */
  public static final class StartException extends Exception {
    private static final long serialVersionUID = 1L;
    public final int exitCode;

    public StartException(int exitCode, String message, Throwable cause) {
      super(message, cause);
      this.exitCode = exitCode;
    }
  }

  /** Opens and recovers the journal, bootstraps, starts shipping and mounts. */
  public void start() throws StartException {
    try {
      JournalOptions.Builder jo =
          JournalOptions.builder()
              .volume(cfg.volume())
              .partitions(cfg.partitions())
              .durability(cfg.durability())
              .groupCommitMillis(cfg.groupCommitMillis())
              .spoolMaxBytes(cfg.spoolMaxBytes())
              .maxRecordBytes(cfg.maxRecordBytes());
      if (cfg.segmentBytes() > 0) {
        jo.segmentBytes(cfg.segmentBytes());
      }
      if (Bootstrap.incomplete(cfg.journal())) {
        throw new StartException(
            5,
            "the journal in "
                + cfg.journal()
                + " holds an incomplete bootstrap snapshot (tfs-capture stopped while recording"
                + " the existing tree). Delete that directory and start again: a new journal"
                + " (new epoch) records the whole store anew, and mirrors rebuild from it.",
            null);
      }
      journal = JournalWriter.open(cfg.journal(), jo.build());
    } catch (StartException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StartException(5, "cannot open the journal: " + e.getMessage(), e);
    }
    try {
      rootFd = Posix.openDirectory(cfg.store());
      metrics.attach(journal);
      metrics.register(cfg.volume());
      Recovery.Result r = Recovery.reconcile(journal, rootFd);
      if (r.committed() + r.aborted() > 0) {
        out.printf(
            "tfs-capture: recovered %d in-flight op(s): %d on the store (journaled), %d not%n",
            r.committed() + r.aborted(), r.committed(), r.aborted());
      }
      // The shipper starts before the bootstrap: the snapshot ships while it is recorded (./tfs
      // bench, bootstrap group), and a store larger than --spool-max-bytes cannot block the
      // snapshot on a quota that only this shipper's acknowledgements free.
      if (cfg.ship()) {
        shipper =
            new KafkaShipper(
                journal,
                cfg.topic(),
                cfg.producer(),
                cfg.schemaRegistryUrl(),
                metrics,
                Duration.ofSeconds(5));
        shipper.start();
      }
      if (journal.stats().nextSeq() == 1 && !Bootstrap.isEmpty(rootFd)) {
        out.println("tfs-capture: the store holds files; recording them first (bootstrap)");
        Bootstrap.Result b = Bootstrap.run(journal, rootFd, out, metrics);
        LOG.info("bootstrap recorded {} entries, {} bytes", b.entries(), b.bytes());
      }
      fs = new CaptureFs(rootFd, journal, metrics);
      mount =
          FuseMount.mount(
              fs, cfg.mount(), "tfs:" + cfg.volume(), cfg.mountOptions(), Duration.ofSeconds(20));
    } catch (IOException | RuntimeException e) {
      closeQuietly();
      throw new StartException(
          e instanceof IOException ? 6 : 1, "cannot start: " + e.getMessage(), e);
    }
    JournalStats s = journal.stats();
    out.printf(
        "tfs-capture: mounted %s (volume %s, epoch %d, next seq %d)%n",
        cfg.mount(), cfg.volume(), journal.meta().epoch(), s.nextSeq());
    out.flush();
  }

  /** Blocks until {@link #stop} ran or the mount went away (someone unmounted it). */
  public void awaitStop() throws InterruptedException {
    while (!stopped.await(500, TimeUnit.MILLISECONDS)) {
      if (!stopping && mount != null && !FuseMount.isMounted(mount.mountPoint())) {
        LOG.warn("{} was unmounted from outside; stopping", mount.mountPoint());
        stop();
      }
    }
  }

  /**
   * Unmounts, makes the journal durable and ships what it can within the shutdown timeout.
   * Idempotent.
   */
  public synchronized void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    try {
      if (mount != null) {
        mount.close();
      }
      if (journal != null) {
        journal.sync();
      }
      if (shipper != null) {
        boolean all = shipper.awaitShipped(cfg.shutdownTimeout());
        if (!all) {
          out.printf(
              "tfs-capture: %d op(s) not yet in Kafka stay in the journal and ship at the next"
                  + " start%n",
              journal.stats().unshippedOps());
        }
      }
      JournalStats s = journal == null ? null : journal.stats();
      closeQuietly();
      if (s != null) {
        out.printf(
            "tfs-capture: stopped (next seq %d, acknowledged by Kafka up to %d)%n",
            s.nextSeq(), s.ackedSeq());
        out.flush();
      }
    } finally {
      stopped.countDown();
    }
  }

  private void closeQuietly() {
    if (mount != null) {
      mount.close();
    }
    if (shipper != null) {
      shipper.close();
      shipper = null;
    }
    if (journal != null) {
      try {
        journal.close();
      } catch (RuntimeException e) {
        LOG.error("closing the journal: {}", e.toString());
      }
    }
    metrics.unregister();
    Posix.closeQuietly(rootFd);
    rootFd = -1;
  }

  @Override
  public void close() {
    stop();
  }
}
