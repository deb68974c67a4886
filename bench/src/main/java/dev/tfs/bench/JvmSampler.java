package dev.tfs.bench;

import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;

/**
 * Samples the memory of another JVM (by pid, through the Attach API and its platform MBeans) and of
 * its process: heap used (with garbage), heap after the most recent GC, and RSS. A background
 * thread samples every {@code periodMs}; {@link #close} stops it. Peak RSS comes from the kernel's
 * high-water mark ({@code VmHWM}), which {@link #resetPeakRss} resets.
 */
final class JvmSampler implements AutoCloseable {
  private final long pid;
  private final Jmx jmx;
  private final MBeanServerConnection mbs;
  private final Thread thread;
  private final long periodMs;
  private final boolean forceGc;
  private volatile boolean stop;
  private volatile long peakHeapUsed;
  private volatile long peakAfterGc;
  private volatile long peakLive;
  private volatile long lastLive;
  private volatile long samples;

  private JvmSampler(long pid, long periodMs, boolean forceGc) throws Exception {
    this.pid = pid;
    this.periodMs = periodMs;
    this.forceGc = forceGc;
    jmx = Jmx.attach(pid);
    mbs = jmx.mbs();
    thread = new Thread(this::loop, "sampler-" + pid);
    thread.setDaemon(true);
  }

  /**
   * Starts sampling process {@code pid}. With {@code forceGc} every sample first runs a full GC
   * (System.gc() through the Memory MBean), so "live" is the true live set; that costs the target a
   * pause per sample, so it is used only where memory, not speed, is measured.
   */
  static JvmSampler start(long pid, long periodMs, boolean forceGc) {
    try {
      JvmSampler s = new JvmSampler(pid, periodMs, forceGc);
      s.thread.start();
      return s;
    } catch (BenchException e) {
      throw e;
    } catch (Exception e) {
      throw new BenchException("cannot attach to JVM " + pid + ": " + e, e);
    }
  }

  private void loop() {
    while (!stop) {
      try {
        sample();
      } catch (Exception e) {
        if (!stop) {
          // the JVM went away, or a transient RMI problem: keep what was sampled
        }
      }
      try {
        Thread.sleep(periodMs);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  // One sampling thread writes; volatile is for the reader that takes the figures.
  @SuppressWarnings("NonAtomicVolatileUpdate")
  private void sample() throws Exception {
    ObjectName mem = new ObjectName("java.lang:type=Memory");
    long used = heapUsed(mem);
    peakHeapUsed = Math.max(peakHeapUsed, used);
    if (forceGc) {
      mbs.invoke(mem, "gc", null, null);
      long live = heapUsed(mem);
      lastLive = live;
      peakLive = Math.max(peakLive, live);
    }
    Set<ObjectName> gcs = mbs.queryNames(new ObjectName("java.lang:type=GarbageCollector,*"), null);
    for (ObjectName gc : gcs) {
      Object info = mbs.getAttribute(gc, "LastGcInfo");
      if (info instanceof CompositeData cd) {
        Object after = cd.get("memoryUsageAfterGc");
        if (after instanceof TabularData td) {
          long sum = 0;
          for (Object row : td.values()) {
            CompositeData r = (CompositeData) row;
            String pool = (String) r.get("key");
            if (isHeapPool(pool)) {
              sum += MemoryUsage.from((CompositeData) r.get("value")).getUsed();
            }
          }
          peakAfterGc = Math.max(peakAfterGc, sum);
        }
      }
    }
    samples++;
  }

  private static boolean isHeapPool(String pool) {
    return pool.contains("Eden")
        || pool.contains("Survivor")
        || pool.contains("Old")
        || pool.contains("Tenured");
  }

  private long heapUsed(ObjectName mem) throws Exception {
    return MemoryUsage.from((CompositeData) mbs.getAttribute(mem, "HeapMemoryUsage")).getUsed();
  }

  /** One sample now (e.g. at the end of a phase). */
  void sampleNow() {
    try {
      sample();
    } catch (Exception e) {
      // keep earlier samples
    }
  }

  long peakHeapUsed() {
    return peakHeapUsed;
  }

  long peakHeapAfterGc() {
    return peakAfterGc;
  }

  long peakLive() {
    return peakLive;
  }

  /** The live set at the most recent forced-GC sample. */
  long lastLive() {
    return lastLive;
  }

  long samples() {
    return samples;
  }

  long peakRss() {
    return procStatusKb(pid, "VmHWM") * 1024;
  }

  /** Resets the kernel's RSS high-water mark of {@code pid} (needs root or the same user). */
  static void resetPeakRss(long pid) {
    try {
      Files.writeString(Path.of("/proc/" + pid + "/clear_refs"), "5");
    } catch (IOException e) {
      // not fatal: the peak then covers the process's whole life
    }
  }

  /** A {@code /proc/PID/status} value in kB, or -1. */
  static long procStatusKb(long pid, String key) {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (l.startsWith(key + ":")) {
          return Long.parseLong(l.substring(key.length() + 1).replace("kB", "").strip());
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  @Override
  public void close() {
    stop = true;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    jmx.close();
  }
}
