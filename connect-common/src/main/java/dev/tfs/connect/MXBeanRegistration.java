package dev.tfs.connect;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connector task's MXBean on the platform MBean server, named {@code
 * dev.tfs:type=<type>,connector=<connector name, quoted>}. JMX is a view of the task, not part of
 * it: a failure to register is logged and the task runs without the bean.
 */
public final class MXBeanRegistration implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MXBeanRegistration.class);

  private ObjectName name;

  private MXBeanRegistration(ObjectName name) {
    this.name = name;
  }

  /** The bean's name: {@code dev.tfs:type=<type>,connector=<quoted connector>}. */
  public static ObjectName name(String type, String connector) throws MalformedObjectNameException {
    return new ObjectName("dev.tfs:type=" + type + ",connector=" + ObjectName.quote(connector));
  }

  /**
   * Registers {@code bean} (an MXBean implementation) under {@link #name}, replacing a stale bean
   * of the same name (a task restarted in place). Never throws.
   */
  public static MXBeanRegistration register(String type, String connector, Object bean) {
    try {
      MBeanServer server = ManagementFactory.getPlatformMBeanServer();
      ObjectName n = name(type, connector);
      if (server.isRegistered(n)) {
        server.unregisterMBean(n);
      }
      server.registerMBean(bean, n);
      return new MXBeanRegistration(n);
    } catch (Exception e) {
      log.warn("cannot register JMX bean for connector {}: {}", connector, e.toString());
      return new MXBeanRegistration(null);
    }
  }

  /** The registered name, or null when registration failed or the bean was closed. */
  public ObjectName registeredName() {
    return name;
  }

  /** Unregisters the bean; a second call does nothing. */
  @Override
  public void close() {
    if (name != null) {
      try {
        ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
      } catch (Exception e) {
        log.debug("unregister {}: {}", name, e.toString());
      }
      name = null;
    }
  }
}
