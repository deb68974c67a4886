package dev.tfs.op;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tfs.op.schema.Mknod;
import dev.tfs.op.schema.OpRecord;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** Device numbers in {@code Mknod} (schema v2): what Linux can hold passes, the rest is refused. */
class OpRulesTest {
  /** glibc's makedev(3). */
  static long makedev(long major, long minor) {
    return ((major & 0xfffff000L) << 32)
        | ((major & 0xfffL) << 8)
        | ((minor & 0xffffff00L) << 12)
        | (minor & 0xffL);
  }

  private static String problem(int mode, long rdev) {
    OpRecord op = OpFixtures.op(new ArrayList<>(), "dev/node", new Mknod(mode, 0, 0, rdev), 1L, 1L);
    return OpRules.problem(op);
  }

  @Test
  void devicesWithinLinuxLimitsPass() {
    assertThat(problem(OpRules.S_IFCHR | 0666, makedev(1, 3))).isNull(); // /dev/null
    assertThat(problem(OpRules.S_IFBLK | 0660, makedev(8, 0))).isNull(); // /dev/sda
    assertThat(problem(OpRules.S_IFCHR | 0600, makedev(4095, (1 << 20) - 1))).isNull();
    assertThat(problem(OpRules.S_IFIFO | 0644, 0)).isNull();
    assertThat(problem(OpRules.S_IFSOCK | 0755, 0)).isNull();
  }

  @Test
  void majorAndMinorSurviveTheEncoding() {
    long rdev = makedev(259, 65_537);
    assertThat(OpRules.deviceMajor(rdev)).isEqualTo(259);
    assertThat(OpRules.deviceMinor(rdev)).isEqualTo(65_537);
  }

  @Test
  void absurdDeviceNumbersAreRefused() {
    assertThat(problem(OpRules.S_IFCHR | 0666, makedev(4096, 0))).contains("beyond Linux");
    assertThat(problem(OpRules.S_IFBLK | 0666, makedev(1, 1 << 20))).contains("beyond Linux");
    assertThat(problem(OpRules.S_IFCHR | 0666, -1L)).contains("beyond Linux");
  }

  @Test
  void fifosAndSocketsHaveNoDeviceNumber() {
    assertThat(problem(OpRules.S_IFIFO | 0644, makedev(1, 3))).contains("no device number");
    assertThat(problem(OpRules.S_IFSOCK | 0644, 1)).contains("no device number");
  }

  @Test
  void otherTypesAreNotSpecialFiles() {
    assertThat(problem(0100644, 0)).contains("is not a FIFO, a socket or a device");
    assertThat(problem(0040755, 0)).contains("is not a FIFO, a socket or a device");
    assertThat(problem(OpRules.S_IFCHR | 017777, makedev(1, 3))).isNotNull();
  }
}
