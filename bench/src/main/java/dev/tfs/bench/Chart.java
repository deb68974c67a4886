package dev.tfs.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Small PNG charts drawn with Java2D (headless): grouped bar charts with min–max whiskers and an
 * optional reference line, and line charts (e.g. latency CDFs). No external plotting service.
 */
final class Chart {
  private static final Color[] PALETTE = {
    new Color(0x4C72B0),
    new Color(0xDD8452),
    new Color(0x55A868),
    new Color(0xC44E52),
    new Color(0x8172B3),
    new Color(0x937860),
    new Color(0xDA8BC3),
    new Color(0x8C8C8C),
    new Color(0xCCB974),
    new Color(0x64B5CD)
  };

  private Chart() {}

  static Color color(int i) {
    return PALETTE[i % PALETTE.length];
  }

  /** One bar: value and whisker range (NaN for none). */
  record Bar(double value, double lo, double hi) {
    static Bar of(double v) {
      return new Bar(v, Double.NaN, Double.NaN);
    }
  }

  /** A grouped bar chart: {@code values[group][series]}. */
  static final class Bars {
    String title = "";
    String yLabel = "";
    List<String> groups = new ArrayList<>();
    List<String> series = new ArrayList<>();
    Bar[][] values;
    boolean log;
    double refLine = Double.NaN;
    String refLabel = "";
    int width = 1000;
    int height = 520;
  }

  /** A line chart: one polyline per series. */
  static final class Lines {
    String title = "";
    String xLabel = "";
    String yLabel = "";
    List<String> series = new ArrayList<>();
    List<double[]> xs = new ArrayList<>();
    List<double[]> ys = new ArrayList<>();
    boolean logX;
    int width = 1000;
    int height = 520;
  }

  static void write(Bars c, Path file) {
    BufferedImage img = new BufferedImage(c.width, c.height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = setup(img);
    int left = 80;
    int right = 20;
    int top = 50;
    int legendH = 24 * ((c.series.size() + 3) / 4);
    int bottom = 60 + legendH;
    int pw = c.width - left - right;
    int ph = c.height - top - bottom;
    title(g, c.title, c.width);
    double max = 0;
    double min = Double.MAX_VALUE;
    for (Bar[] row : c.values) {
      for (Bar b : row) {
        if (b == null || Double.isNaN(b.value())) {
          continue;
        }
        double hi = Double.isNaN(b.hi()) ? b.value() : Math.max(b.hi(), b.value());
        double lo = Double.isNaN(b.lo()) ? b.value() : Math.min(b.lo(), b.value());
        max = Math.max(max, hi);
        if (lo > 0) {
          min = Math.min(min, lo);
        }
      }
    }
    if (!Double.isNaN(c.refLine)) {
      max = Math.max(max, c.refLine);
      min = Math.min(min, c.refLine);
    }
    if (max <= 0) {
      max = 1;
    }
    Scale s =
        c.log
            ? Scale.log(min == Double.MAX_VALUE ? max / 10 : min, max, top, top + ph)
            : Scale.linear(0, niceMax(max), top, top + ph);
    axes(g, s, left, top, pw, ph, c.yLabel);
    int ng = Math.max(1, c.groups.size());
    int ns = Math.max(1, c.series.size());
    double gw = (double) pw / ng;
    double bw = Math.min(60, gw * 0.8 / ns);
    Font small = g.getFont().deriveFont(11f);
    for (int gi = 0; gi < c.groups.size(); gi++) {
      double gx = left + gi * gw + (gw - bw * ns) / 2;
      for (int si = 0; si < c.series.size(); si++) {
        Bar b = c.values[gi][si];
        if (b == null || Double.isNaN(b.value()) || (c.log && b.value() <= 0)) {
          continue;
        }
        int x = (int) (gx + si * bw);
        int y = s.y(b.value());
        g.setColor(color(si));
        g.fillRect(x + 1, y, (int) bw - 2, top + ph - y);
        if (!Double.isNaN(b.lo()) && !Double.isNaN(b.hi()) && b.hi() > b.lo()) {
          g.setColor(Color.BLACK);
          int xm = x + (int) (bw / 2);
          int y1 = s.y(Math.max(b.lo(), c.log ? s.min : 0));
          int y2 = s.y(b.hi());
          g.drawLine(xm, y1, xm, y2);
          g.drawLine(xm - 3, y1, xm + 3, y1);
          g.drawLine(xm - 3, y2, xm + 3, y2);
        }
      }
      g.setColor(Color.BLACK);
      g.setFont(small);
      String label = c.groups.get(gi);
      FontMetrics fm = g.getFontMetrics();
      int lx = (int) (left + gi * gw + gw / 2 - fm.stringWidth(label) / 2.0);
      g.drawString(label, Math.max(left, lx), top + ph + 16);
    }
    if (!Double.isNaN(c.refLine)) {
      int y = s.y(c.refLine);
      g.setColor(new Color(0xC00000));
      g.setStroke(
          new BasicStroke(
              1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
      g.drawLine(left, y, left + pw, y);
      g.setStroke(new BasicStroke(1f));
      g.setFont(small);
      g.drawString(c.refLabel, left + pw - g.getFontMetrics().stringWidth(c.refLabel) - 4, y - 4);
    }
    legend(g, c.series, left, top + ph + 32, pw);
    save(img, file);
  }

  static void write(Lines c, Path file) {
    BufferedImage img = new BufferedImage(c.width, c.height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = setup(img);
    int left = 80;
    int right = 20;
    int top = 50;
    int legendH = 24 * ((c.series.size() + 3) / 4);
    int bottom = 60 + legendH;
    int pw = c.width - left - right;
    int ph = c.height - top - bottom;
    title(g, c.title, c.width);
    double xmin = Double.MAX_VALUE;
    double xmax = -Double.MAX_VALUE;
    double ymax = 0;
    for (int i = 0; i < c.xs.size(); i++) {
      for (double x : c.xs.get(i)) {
        if (!c.logX || x > 0) {
          xmin = Math.min(xmin, x);
          xmax = Math.max(xmax, x);
        }
      }
      for (double y : c.ys.get(i)) {
        ymax = Math.max(ymax, y);
      }
    }
    if (xmin == Double.MAX_VALUE) {
      xmin = 0.1;
      xmax = 1;
    }
    Scale ys = Scale.linear(0, niceMax(ymax), top, top + ph);
    axes(g, ys, left, top, pw, ph, c.yLabel);
    // x axis: linear or log, left to right
    Scale xsc =
        c.logX
            ? Scale.log(xmin, xmax, left + pw, left)
            : Scale.linear(Math.min(0, xmin), niceMax(xmax), left + pw, left);
    g.setFont(g.getFont().deriveFont(11f));
    for (double t : xsc.ticks()) {
      int x = xsc.y(t);
      g.setColor(new Color(0xE0E0E0));
      g.drawLine(x, top, x, top + ph);
      g.setColor(Color.BLACK);
      String l = fmt(t);
      g.drawString(l, x - g.getFontMetrics().stringWidth(l) / 2, top + ph + 16);
    }
    g.drawString(
        c.xLabel, left + pw / 2 - g.getFontMetrics().stringWidth(c.xLabel) / 2, top + ph + 32);
    g.setStroke(new BasicStroke(2f));
    for (int i = 0; i < c.xs.size(); i++) {
      double[] x = c.xs.get(i);
      double[] y = c.ys.get(i);
      g.setColor(color(i));
      int px = -1;
      int py = -1;
      for (int k = 0; k < x.length; k++) {
        if (c.logX && x[k] <= 0) {
          continue;
        }
        int cx = xsc.y(x[k]);
        int cy = ys.y(y[k]);
        if (px >= 0) {
          g.drawLine(px, py, cx, cy);
        }
        px = cx;
        py = cy;
      }
    }
    g.setStroke(new BasicStroke(1f));
    legend(g, c.series, left, top + ph + 44, pw);
    save(img, file);
  }

  // ------------------------------------------------------------------ drawing helpers

  /** Maps values to pixels; for the y axis {@code p0} is the top, {@code p1} the bottom. */
  private static final class Scale {
    final double min;
    final double max;
    final int p0;
    final int p1;
    final boolean log;

    private Scale(double min, double max, int p0, int p1, boolean log) {
      this.min = min;
      this.max = max;
      this.p0 = p0;
      this.p1 = p1;
      this.log = log;
    }

    static Scale linear(double min, double max, int p0, int p1) {
      return new Scale(min, max <= min ? min + 1 : max, p0, p1, false);
    }

    static Scale log(double min, double max, int p0, int p1) {
      double lo = Math.pow(10, Math.floor(Math.log10(min)));
      double hi = Math.pow(10, Math.ceil(Math.log10(max)));
      if (hi <= lo) {
        hi = lo * 10;
      }
      return new Scale(lo, hi, p0, p1, true);
    }

    int y(double v) {
      double f;
      if (log) {
        f = (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min));
      } else {
        f = (v - min) / (max - min);
      }
      return (int) Math.round(p1 - f * (p1 - p0));
    }

    List<Double> ticks() {
      List<Double> t = new ArrayList<>();
      if (log) {
        for (double v = min; v <= max * 1.0001; v *= 10) {
          t.add(v);
        }
      } else {
        double step = niceStep((max - min) / 5);
        for (double v = Math.ceil(min / step) * step; v <= max + step * 1e-6; v += step) {
          t.add(v);
        }
      }
      return t;
    }
  }

  private static Graphics2D setup(BufferedImage img) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    return g;
  }

  private static void title(Graphics2D g, String title, int width) {
    g.setColor(Color.BLACK);
    Font f = g.getFont();
    g.setFont(f.deriveFont(Font.BOLD, 15f));
    g.drawString(title, width / 2 - g.getFontMetrics().stringWidth(title) / 2, 28);
    g.setFont(f);
  }

  private static void axes(Graphics2D g, Scale s, int left, int top, int pw, int ph, String yl) {
    g.setFont(g.getFont().deriveFont(11f));
    for (double t : s.ticks()) {
      int y = s.y(t);
      g.setColor(new Color(0xE0E0E0));
      g.drawLine(left, y, left + pw, y);
      g.setColor(Color.BLACK);
      String l = fmt(t);
      g.drawString(l, left - 6 - g.getFontMetrics().stringWidth(l), y + 4);
    }
    g.setColor(Color.BLACK);
    g.drawLine(left, top, left, top + ph);
    g.drawLine(left, top + ph, left + pw, top + ph);
    AffineTransform at = g.getTransform();
    g.rotate(-Math.PI / 2);
    g.drawString(yl, -(top + ph / 2) - g.getFontMetrics().stringWidth(yl) / 2, 18);
    g.setTransform(at);
  }

  private static void legend(Graphics2D g, List<String> series, int left, int y, int pw) {
    g.setFont(g.getFont().deriveFont(12f));
    int cols = 4;
    int cw = pw / cols;
    for (int i = 0; i < series.size(); i++) {
      int x = left + (i % cols) * cw;
      int yy = y + (i / cols) * 22;
      g.setColor(color(i));
      g.fillRect(x, yy - 10, 14, 12);
      g.setColor(Color.BLACK);
      g.drawString(series.get(i), x + 20, yy);
    }
  }

  private static void save(BufferedImage img, Path file) {
    try {
      ImageIO.write(img, "png", file.toFile());
    } catch (IOException e) {
      throw new BenchException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  static double niceMax(double v) {
    if (v <= 0) {
      return 1;
    }
    double step = niceStep(v / 5);
    return Math.ceil(v / step) * step;
  }

  static double niceStep(double raw) {
    if (raw <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
  }

  static String fmt(double v) {
    double a = Math.abs(v);
    if (a == 0) {
      return "0";
    }
    if (a >= 1e6) {
      return String.format(Locale.ROOT, "%.3gM", v / 1e6);
    }
    if (a >= 1e4) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    if (a >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.3g", v);
    }
    return String.format(Locale.ROOT, "%.2g", v);
  }
}
