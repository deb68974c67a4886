package dev.tfs.tools.stack;

import com.sun.tools.attach.VirtualMachine;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Reads MBean attributes of a local JVM by pid through the Attach API: how {@code tfs status} reads
 * tfs-capture's metrics without opening a JMX port.
 */
final class JmxProbe {
  private JmxProbe() {}

  /**
   * Attributes of every MBean matching {@code pattern} in process {@code pid}, by object name.
   * Attributes that fail to read are skipped.
   */
  // The address comes from the local JVM we attached to (a child of this stack), never from input.
  @SuppressWarnings("BanJNDI")
  static Map<String, Map<String, Object>> read(long pid, String pattern) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
    try {
      String address = vm.startLocalManagementAgent();
      try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
        MBeanServerConnection mbs = c.getMBeanServerConnection();
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        Set<ObjectName> names = mbs.queryNames(new ObjectName(pattern), null);
        for (ObjectName n : names) {
          Map<String, Object> attrs = new LinkedHashMap<>();
          for (MBeanAttributeInfo a : mbs.getMBeanInfo(n).getAttributes()) {
            try {
              attrs.put(a.getName(), mbs.getAttribute(n, a.getName()));
            } catch (Exception e) {
              // an attribute that cannot be read now is left out
            }
          }
          out.put(n.toString(), attrs);
        }
        return out;
      }
    } finally {
      vm.detach();
    }
  }
}
