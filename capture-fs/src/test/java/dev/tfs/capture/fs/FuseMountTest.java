package dev.tfs.capture.fs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Reading /proc/self/mountinfo lines: which mounts tfs-capture calls its own. */
class FuseMountTest {
  @Test
  void aTfsMountIsRecognizedByTypeAndSource() {
    FuseMount.Mount m =
        FuseMount.parseMountInfo(
            "42 27 0:39 / /srv/my\\040data rw,nosuid,nodev,relatime shared:7 - fuse.tfs tfs:data"
                + " rw,user_id=0,group_id=0,default_permissions,allow_other");
    assertThat(m).isEqualTo(new FuseMount.Mount("/srv/my data", "fuse.tfs", "tfs:data"));
    assertThat(m.isTfs()).isTrue();
  }

  @Test
  void otherMountsAreNotTfs() {
    assertThat(
            FuseMount.parseMountInfo(
                    "42 27 0:39 / /mnt/x rw - fuse.sshfs user@host:/ rw,user_id=0,group_id=0")
                .isTfs())
        .isFalse();
    // A FUSE file system that calls itself tfs but is not named tfs:<volume> (e.g. a test mount).
    assertThat(FuseMount.parseMountInfo("42 27 0:39 / /mnt/x rw - fuse.tfs tfs-test rw").isTfs())
        .isFalse();
    assertThat(FuseMount.parseMountInfo("26 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw").isTfs())
        .isFalse();
    assertThat(FuseMount.parseMountInfo("garbage")).isNull();
  }
}
