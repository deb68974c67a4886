package dev.tfs.connect;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

public class MXBeanRegistrationTest {
  /** A minimal MXBean (public, so JMX may call it). */
  public interface ProbeMXBean {
    long getValue();
  }

  static ProbeMXBean probe(long value) {
    return () -> value;
  }

  private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

  @Test
  void theNameQuotesTheConnector() throws Exception {
    assertThat(MXBeanRegistration.name("sink", "a,b=c").toString())
        .isEqualTo("dev.tfs:type=sink,connector=\"a,b=c\"");
    assertThat(MXBeanRegistration.name("source", "src"))
        .isEqualTo(new ObjectName("dev.tfs:type=source,connector=\"src\""));
  }

  @Test
  void registersReplacesAStaleBeanAndUnregistersOnce() throws Exception {
    ObjectName n = MXBeanRegistration.name("test", "reg-1");
    try (MXBeanRegistration first = MXBeanRegistration.register("test", "reg-1", probe(1))) {
      assertThat(first.registeredName()).isEqualTo(n);
      assertThat(server.getAttribute(n, "Value")).isEqualTo(1L);
      // A task restarted in place registers before the old one closed: the new bean wins.
      MXBeanRegistration second = MXBeanRegistration.register("test", "reg-1", probe(2));
      assertThat(server.getAttribute(n, "Value")).isEqualTo(2L);
      second.close();
      assertThat(server.isRegistered(n)).isFalse();
      assertThat(second.registeredName()).isNull();
      second.close(); // a second close does nothing
    }
    assertThat(server.isRegistered(n)).isFalse();
  }

  @Test
  void aBeanJmxRefusesIsLoggedNotThrown() {
    try (MXBeanRegistration r = MXBeanRegistration.register("test", "reg-2", new Object())) {
      assertThat(r.registeredName()).isNull();
    }
  }
}
