package dev.tfs.bench;

import dev.tfs.capture.fs.FuseMount;
import dev.tfs.capture.fs.Names;
import dev.tfs.capture.fs.PassthroughFs;
import dev.tfs.posix.Posix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The "bare passthrough" subject: capture-fs's {@link PassthroughFs} (the very class {@code
 * CaptureFs} extends) mounted with the same {@link FuseMount} options tfs-capture uses, and no
 * capture, journal or shipper. The difference between this and tfs-capture is our own cost.
 *
 * <p>{@code PassthroughMain STORE MOUNT [--single-threaded] [--attr-timeout S] [--kernel-cache]};
 * prints {@code mounted} when ready and unmounts on SIGTERM. Run it with the same JVM flags as
 * tfs-capture (the harness does).
 */
public final class PassthroughMain {
  private PassthroughMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: PassthroughMain STORE MOUNT [--single-threaded] [--attr-timeout S]"
              + " [--kernel-cache]");
      System.exit(2);
    }
    if (!Names.byteCharset()) {
      System.err.println("run with -Dfile.encoding=ISO-8859-1 (as tfs-capture)");
      System.exit(3);
    }
    Path store = Path.of(args[0]).toAbsolutePath().normalize();
    Path mount = Path.of(args[1]).toAbsolutePath().normalize();
    FuseMount.Options d = FuseMount.Options.defaults();
    boolean single = d.singleThreaded();
    double attr = d.attrTimeout();
    boolean kernelCache = d.kernelCache();
    for (int i = 2; i < args.length; i++) {
      switch (args[i]) {
        case "--single-threaded" -> single = true;
        case "--attr-timeout" -> attr = Double.parseDouble(args[++i]);
        case "--kernel-cache" -> kernelCache = true;
        default -> {
          System.err.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    // The same Options record tfs-capture's CLI builds from the same flags.
    FuseMount.Options opts =
        new FuseMount.Options(
            single,
            d.allowOther(),
            attr,
            d.entryTimeout(),
            d.negativeTimeout(),
            d.autoUnmount(),
            kernelCache);
    int root = Posix.openDirectory(store);
    PassthroughFs fs = new PassthroughFs(root);
    FuseMount m = FuseMount.mount(fs, mount, "bench-passthrough", opts, Duration.ofSeconds(20));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  m.close();
                  Posix.closeQuietly(root);
                  done.countDown();
                },
                "passthrough-stop"));
    System.out.println("passthrough: mounted " + mount);
    System.out.flush();
    while (FuseMount.isMounted(mount)) {
      Thread.sleep(500);
    }
    done.countDown();
  }
}
