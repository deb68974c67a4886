package dev.tfs.bench;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.util.Set;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/** A JMX connection to a local JVM by pid, through the Attach API (no JMX port needed). */
final class Jmx implements AutoCloseable {
  private final JMXConnector connector;
  private final MBeanServerConnection mbs;

  private Jmx(JMXConnector connector) throws IOException {
    this.connector = connector;
    this.mbs = connector.getMBeanServerConnection();
  }

  // The address comes from the local JVM we attached to (one the bench started), never from input.
  @SuppressWarnings("BanJNDI")
  static Jmx attach(long pid) {
    try {
      VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
      String address;
      try {
        address = vm.startLocalManagementAgent();
      } finally {
        vm.detach();
      }
      return new Jmx(JMXConnectorFactory.connect(new JMXServiceURL(address)));
    } catch (Exception e) {
      throw new BenchException("cannot attach to JVM " + pid + ": " + e, e);
    }
  }

  MBeanServerConnection mbs() {
    return mbs;
  }

  /** An attribute of the first MBean matching {@code pattern}, or null when there is none. */
  Object attribute(String pattern, String name) {
    try {
      Set<ObjectName> names = mbs.queryNames(new ObjectName(pattern), null);
      if (names.isEmpty()) {
        return null;
      }
      return mbs.getAttribute(names.iterator().next(), name);
    } catch (Exception e) {
      throw new BenchException("cannot read " + pattern + " " + name + ": " + e, e);
    }
  }

  long longAttribute(String pattern, String name) {
    Object v = attribute(pattern, name);
    return v instanceof Number n ? n.longValue() : -1;
  }

  @Override
  public void close() {
    try {
      connector.close();
    } catch (IOException e) {
      // the JVM is gone
    }
  }
}
