package dev.tfs.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartTest {
  @TempDir Path dir;

  @Test
  void writesReadablePngs() throws Exception {
    System.setProperty("java.awt.headless", "true");
    Chart.Bars b = new Chart.Bars();
    b.title = "t";
    b.groups = List.of("x", "y");
    b.series = List.of("a", "b");
    b.values =
        new Chart.Bar[][] {
          {new Chart.Bar(1, 0.5, 2), Chart.Bar.of(3)}, {null, new Chart.Bar(0.1, 0.05, 0.2)}
        };
    b.log = true;
    b.refLine = 1;
    Chart.write(b, dir.resolve("b.png"));
    BufferedImage img = ImageIO.read(dir.resolve("b.png").toFile());
    assertThat(img.getWidth()).isEqualTo(b.width);

    Chart.Lines l = new Chart.Lines();
    l.series.add("s");
    l.xs.add(new double[] {1, 10, 100});
    l.ys.add(new double[] {0.1, 0.5, 1});
    l.logX = true;
    Chart.write(l, dir.resolve("l.png"));
    assertThat(ImageIO.read(dir.resolve("l.png").toFile()).getHeight()).isEqualTo(l.height);
  }

  @Test
  void niceAxisSteps() {
    assertThat(Chart.niceStep(0.37)).isEqualTo(0.5);
    assertThat(Chart.niceStep(130)).isEqualTo(200);
    assertThat(Chart.niceMax(93)).isEqualTo(100);
    assertThat(Chart.fmt(12_500)).isEqualTo("13k");
  }
}
