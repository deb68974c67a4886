package dev.tfs.capture;

import dev.tfs.journal.JournalStats;
import dev.tfs.journal.JournalWriter;
import dev.tfs.op.OpKind;
import java.lang.management.ManagementFactory;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/** Counters of one capture daemon, exposed over JMX as a {@link CaptureMXBean}. */
public final class CaptureMetrics implements CaptureMXBean {
  private final Map<OpKind, LongAdder> byKind = new EnumMap<>(OpKind.class);
  private final LongAdder bytes = new LongAdder();
  private final LongAdder uncaptured = new LongAdder();
  private final LongAdder fsyncs = new LongAdder();
  private final LongAdder intentNanos = new LongAdder();
  private final AtomicLong shipErrors = new AtomicLong();
  private volatile Supplier<JournalStats> stats = () -> null;
  private volatile String shipperState = "DISABLED";
  private volatile String broken = "";
  private ObjectName name;

  public CaptureMetrics() {
    for (OpKind k : OpKind.values()) {
      byKind.put(k, new LongAdder());
    }
  }

  /** Reads journal figures from {@code journal} from now on. */
  public void attach(JournalWriter journal) {
    this.stats = journal::stats;
  }

  /** Registers the MXBean as {@code dev.tfs:type=capture,volume=<volume>}. */
  public void register(String volume) {
    try {
      MBeanServer s = ManagementFactory.getPlatformMBeanServer();
      name = new ObjectName("dev.tfs:type=capture,volume=" + ObjectName.quote(volume));
      if (s.isRegistered(name)) {
        s.unregisterMBean(name);
      }
      s.registerMBean(this, name);
    } catch (JMException e) {
      throw new IllegalStateException("cannot register the capture MXBean: " + e, e);
    }
  }

  public void unregister() {
    if (name != null) {
      try {
        ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
      } catch (JMException ignored) {
        // already gone
      }
      name = null;
    }
  }

  void captured(OpKind kind, int ops, long dataBytes) {
    byKind.get(kind).add(kind == OpKind.WRITE ? ops : 1);
    bytes.add(dataBytes);
  }

  /** Counts ops committed outside CaptureFs (bootstrap, recovery). */
  public void capturedOther(OpKind kind, long n) {
    byKind.get(kind).add(n);
  }

  void uncaptured() {
    uncaptured.increment();
  }

  void fsync() {
    fsyncs.increment();
  }

  void intentNanos(long ns) {
    intentNanos.add(ns);
  }

  void broken(String why) {
    broken = why;
  }

  public void shipError() {
    shipErrors.incrementAndGet();
  }

  public void shipperState(String state) {
    shipperState = state;
  }

  private JournalStats js() {
    return stats.get();
  }

  @Override
  public Map<String, Long> getOpsCapturedByKind() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (OpKind k : OpKind.values()) {
      m.put(k.label(), byKind.get(k).sum());
    }
    return m;
  }

  @Override
  public long getOpsCaptured() {
    long n = 0;
    for (LongAdder a : byKind.values()) {
      n += a.sum();
    }
    return n;
  }

  @Override
  public long getBytesCaptured() {
    return bytes.sum();
  }

  @Override
  public long getUncapturedWrites() {
    return uncaptured.sum();
  }

  @Override
  public long getJournalBytes() {
    JournalStats s = js();
    return s == null ? 0 : s.journalBytes();
  }

  @Override
  public long getUnshippedOps() {
    JournalStats s = js();
    return s == null ? 0 : s.unshippedOps();
  }

  @Override
  public long getUnshippedBytes() {
    JournalStats s = js();
    return s == null ? 0 : s.unshippedBytes();
  }

  @Override
  public long getShippedSeq() {
    JournalStats s = js();
    return s == null ? 0 : s.ackedSeq();
  }

  @Override
  public long getNextSeq() {
    JournalStats s = js();
    return s == null ? 0 : s.nextSeq();
  }

  @Override
  public long getShipErrors() {
    return shipErrors.get();
  }

  @Override
  public String getShipperState() {
    return shipperState;
  }

  @Override
  public long getBackPressureMillis() {
    JournalStats s = js();
    return s == null ? 0 : s.blockedNanos() / 1_000_000;
  }

  @Override
  public int getBlockedWriters() {
    JournalStats s = js();
    return s == null ? 0 : s.blockedWriters();
  }

  @Override
  public long getFsyncs() {
    return fsyncs.sum();
  }

  @Override
  public long getJournalFsyncs() {
    JournalStats s = js();
    return s == null ? 0 : s.fsyncs();
  }

  @Override
  public long getIntentNanos() {
    return intentNanos.sum();
  }

  @Override
  public String getBrokenReason() {
    return broken;
  }
}
