#include "reports/svg_plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

#include "reports/table.hpp"

namespace dsv3::reports {

namespace {

// Okabe-Ito palette (colour-blind safe).
const char* kColours[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
const char* colour(size_t i) { return kColours[i % (sizeof kColours / sizeof *kColours)]; }

std::string num(double v) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e9) return fmt::format("{:g}B", std::round(v / 1e6) / 1e3);
  if (a >= 1e6) return fmt::format("{:g}M", std::round(v / 1e3) / 1e3);
  if (a < 1e-3) return fmt::format("{:.3g}", v);
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

struct Frame {
  double w = 760, h = 440;
  double left = 70, right = 20, top = 50, bottom = 110;
  double label_extra = 0;  // room taken by rotated x labels
  double plot_w() const { return w - left - right; }
  double plot_h() const { return h - top - bottom; }
};

std::string open_svg(const Frame& f, const std::string& title) {
  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" font-size=\"12\">\n",
      f.w, f.h);
  o += fmt::format("<title>{}</title>\n", html_escape(title));
  o += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", f.w, f.h);
  o += fmt::format("<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
                   f.w / 2, html_escape(title));
  return o;
}

std::string caption(const Frame& f, const std::string& text) {
  if (text.empty()) return "";
  return fmt::format("<text x=\"10\" y=\"{}\" font-size=\"10\" fill=\"#444444\">{}</text>\n", f.h - 8,
                     html_escape(text));
}

// Y axis with grid lines; returns the mapping lambda parameters.
std::string y_axis(const Frame& f, const std::vector<double>& ticks, double lo, double hi, const std::string& label) {
  std::string o;
  for (double t : ticks) {
    double y = f.top + f.plot_h() * (1 - (t - lo) / (hi - lo));
    o += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#dddddd\"/>\n", f.left, y,
                     f.left + f.plot_w(), y);
    o += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", f.left - 6, y + 4, num(t));
  }
  o += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#000000\"/>\n", f.left, f.top,
                   f.top + f.plot_h());
  o += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#000000\"/>\n", f.left,
                   f.top + f.plot_h(), f.left + f.plot_w());
  o += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0:.1f})\">{1}</text>\n",
      f.top + f.plot_h() / 2, html_escape(label));
  return o;
}

double legend_width(const std::string& name) { return 7.0 * static_cast<double>(name.size()) + 30; }

// Rows the legend needs; the frame grows by 16 px per row beyond the first.
int legend_rows(const Frame& f, const std::vector<std::string>& names) {
  int rows = 1;
  double x = f.left;
  for (auto& n : names) {
    if (x + legend_width(n) > f.w - 10 && x > f.left) {
      x = f.left;
      ++rows;
    }
    x += legend_width(n);
  }
  return rows;
}

void fit_legend(Frame& f, const std::vector<std::string>& names) {
  double extra = 16.0 * (legend_rows(f, names) - 1);
  f.h += extra;
  f.bottom += extra;
}

// Legend in rows under the x labels.
std::string legend(const Frame& f, const std::vector<std::string>& names, bool lines) {
  std::string o;
  double x = f.left, y = f.top + f.plot_h() + 66 + f.label_extra;
  for (size_t i = 0; i < names.size(); ++i) {
    double wtext = legend_width(names[i]);
    if (x + wtext > f.w - 10 && x > f.left) {
      x = f.left;
      y += 16;
    }
    if (lines)
      o += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", x, y - 4,
                       x + 16, y - 4, colour(i));
    else
      o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", x, y - 10, colour(i));
    o += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", x + 20, y, html_escape(names[i]));
    x += wtext;
  }
  return o;
}

// An x-axis label centred under x; rotated when the labels do not fit their slots (the frame
// grows to make room: see fit_x_labels).
std::string x_label(const Frame& f, double x, const std::string& text, bool rotate) {
  double y = f.top + f.plot_h() + 18;
  if (!rotate) return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, y, html_escape(text));
  return fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"end\" transform=\"rotate(-30 {0:.1f} {1:.1f})\">{2}</text>\n",
                     x + 4, y - 4, html_escape(text));
}

// True when the labels need rotating; then grows the bottom margin (and the frame) to fit.
bool fit_x_labels(Frame& f, const std::vector<std::string>& labels) {
  if (labels.empty()) return false;
  double slot = f.plot_w() / static_cast<double>(labels.size());
  size_t longest = 0;
  for (auto& l : labels) longest = std::max(longest, l.size());
  if (7.0 * static_cast<double>(longest) <= slot * 0.95) return false;
  double extra = std::min(160.0, 7.0 * static_cast<double>(longest) * 0.5);  // sin 30 deg
  // The first label runs left of its slot by about its length x cos 30 deg: widen the margin.
  double reach = 7.0 * static_cast<double>(labels.front().size()) * 0.87 - slot * 0.5 + 10;
  if (reach > f.left) {
    double grow = std::min(reach, 260.0) - f.left;
    f.left += grow;
    f.w += grow;
  }
  f.h += extra;
  f.bottom += extra;
  f.label_extra = extra;
  return true;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  if (!(hi > lo)) hi = lo + 1;
  double span = hi - lo;
  double raw = span / std::max(1, max_ticks - 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  double first = std::floor(lo / step + 1e-9) * step, last = std::ceil(hi / step - 1e-9) * step;
  for (int i = 0; first + i * step <= last + step * 1e-9; ++i) {
    double v = first + i * step;
    t.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  }
  return t;
}

std::string svg_bar_chart(const BarChart& c) {
  Frame f;
  {
    std::vector<std::string> names;
    for (auto& s : c.series) names.push_back(s.name);
    fit_legend(f, names);
  }
  bool rotate = fit_x_labels(f, c.categories);
  double vmax = 0;
  for (auto& s : c.series) {
    for (auto& v : s.values) if (v) vmax = std::max(vmax, *v);
    for (auto& v : s.ci_high) if (v) vmax = std::max(vmax, *v);
  }
  double hi = c.y_max ? *c.y_max : (vmax > 0 ? vmax * 1.1 : 1);
  auto ticks = nice_ticks(0, hi);
  hi = std::max(hi, ticks.back());
  std::string o = open_svg(f, c.title);
  o += y_axis(f, ticks, 0, hi, c.y_label);
  auto ymap = [&](double v) { return f.top + f.plot_h() * (1 - v / hi); };
  size_t ncat = std::max<size_t>(1, c.categories.size()), nser = std::max<size_t>(1, c.series.size());
  double group_w = f.plot_w() / static_cast<double>(ncat);
  double bar_w = group_w * 0.8 / static_cast<double>(nser);
  for (size_t k = 0; k < c.categories.size(); ++k) {
    double gx = f.left + group_w * static_cast<double>(k) + group_w * 0.1;
    for (size_t s = 0; s < c.series.size(); ++s) {
      auto& ser = c.series[s];
      if (k >= ser.values.size() || !ser.values[k]) continue;
      double v = *ser.values[k];
      double x = gx + bar_w * static_cast<double>(s);
      o += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
          x, ymap(v), bar_w * 0.92, ymap(0) - ymap(v), colour(s), html_escape(ser.name), num(v));
      if (k < ser.ci_low.size() && k < ser.ci_high.size() && ser.ci_low[k] && ser.ci_high[k]) {
        double cx = x + bar_w * 0.46, y1 = ymap(*ser.ci_low[k]), y2 = ymap(*ser.ci_high[k]);
        o += fmt::format(
            "<g stroke=\"#000000\" stroke-width=\"1.2\"><line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\"/>"
            "<line x1=\"{3:.1f}\" y1=\"{1:.1f}\" x2=\"{4:.1f}\" y2=\"{1:.1f}\"/><line x1=\"{3:.1f}\" y1=\"{2:.1f}\" "
            "x2=\"{4:.1f}\" y2=\"{2:.1f}\"/></g>\n",
            cx, y1, y2, cx - 4, cx + 4);
      }
    }
    o += x_label(f, gx + group_w * 0.4, c.categories[k], rotate);
  }
  std::vector<std::string> names;
  for (auto& s : c.series) names.push_back(s.name);
  o += legend(f, names, false);
  o += caption(f, c.caption);
  return o + "</svg>\n";
}

std::string svg_stacked_bars(const StackedBars& c) {
  Frame f;
  fit_legend(f, c.parts);
  bool rotate = fit_x_labels(f, c.bars);
  double vmax = 0;
  for (auto& b : c.values) {
    double s = 0;
    for (double v : b) s += std::max(0.0, v);
    vmax = std::max(vmax, s);
  }
  auto ticks = nice_ticks(0, vmax > 0 ? vmax * 1.05 : 1);
  double hi = ticks.back();
  std::string o = open_svg(f, c.title);
  o += y_axis(f, ticks, 0, hi, c.y_label);
  auto ymap = [&](double v) { return f.top + f.plot_h() * (1 - v / hi); };
  size_t n = std::max<size_t>(1, c.bars.size());
  double slot = f.plot_w() / static_cast<double>(n);
  double bw = std::min(80.0, slot * 0.6);
  for (size_t b = 0; b < c.bars.size(); ++b) {
    double x = f.left + slot * static_cast<double>(b) + (slot - bw) / 2;
    double acc = 0;
    for (size_t p = 0; p < c.parts.size() && b < c.values.size() && p < c.values[b].size(); ++p) {
      double v = std::max(0.0, c.values[b][p]);
      if (v <= 0) continue;
      o += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" stroke=\"#ffffff\" "
          "stroke-width=\"0.5\"><title>{}: {}</title></rect>\n",
          x, ymap(acc + v), bw, ymap(acc) - ymap(acc + v), colour(p), html_escape(c.parts[p]), num(v));
      acc += v;
    }
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n", x + bw / 2,
                     ymap(acc) - 4, num(acc));
    o += x_label(f, x + bw / 2, c.bars[b], rotate);
  }
  o += legend(f, c.parts, false);
  o += caption(f, c.caption);
  return o + "</svg>\n";
}

std::string svg_line_chart(const LineChart& c) {
  Frame f;
  {
    std::vector<std::string> names;
    for (auto& s : c.series) names.push_back(s.name);
    fit_legend(f, names);
  }
  double xmin = 1e300, xmax = -1e300, ymax = 0, ymin = 0;
  auto tx = [&](double x) { return c.x_log2 ? std::log2(x) : x; };
  for (auto& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (c.x_log2 && s.x[i] <= 0) throw std::invalid_argument("line chart: log2 x needs positive values");
      xmin = std::min(xmin, tx(s.x[i]));
      xmax = std::max(xmax, tx(s.x[i]));
      ymax = std::max(ymax, s.y[i]);
      ymin = std::min(ymin, s.y[i]);
    }
  if (xmin > xmax) xmin = 0, xmax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  auto yt = nice_ticks(ymin, ymax > ymin ? ymax * 1.05 : ymin + 1);
  double ylo = yt.front(), yhi = yt.back();
  std::string o = open_svg(f, c.title);
  o += y_axis(f, yt, ylo, yhi, c.y_label);
  auto xm = [&](double x) { return f.left + f.plot_w() * (tx(x) - xmin) / (xmax - xmin) * 0.94 + f.plot_w() * 0.03; };
  auto ym = [&](double y) { return f.top + f.plot_h() * (1 - (y - ylo) / (yhi - ylo)); };
  // X ticks: every distinct x of the data when few, else nice ticks.
  std::vector<double> xs;
  for (auto& s : c.series) xs.insert(xs.end(), s.x.begin(), s.x.end());
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  if (xs.size() > 12 && !c.x_log2) {
    xs.clear();
    for (double t : nice_ticks(xmin, xmax)) xs.push_back(t);
  }
  for (double x : xs)
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#000000\"/><text x=\"{0:.1f}\" "
                     "y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                     xm(x), f.top + f.plot_h(), f.top + f.plot_h() + 5, f.top + f.plot_h() + 18, num(x));
  o += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", f.left + f.plot_w() / 2,
                   f.top + f.plot_h() + 36, html_escape(c.x_label));
  for (size_t s = 0; s < c.series.size(); ++s) {
    auto& ser = c.series[s];
    std::string pts;
    for (size_t i = 0; i < ser.x.size() && i < ser.y.size(); ++i)
      pts += fmt::format("{:.1f},{:.1f} ", xm(ser.x[i]), ym(ser.y[i]));
    o += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", pts, colour(s));
    for (size_t i = 0; i < ser.x.size() && i < ser.y.size(); ++i)
      o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"><title>{}: x={} y={}</title></circle>\n",
                       xm(ser.x[i]), ym(ser.y[i]), colour(s), html_escape(ser.name), num(ser.x[i]), num(ser.y[i]));
  }
  std::vector<std::string> names;
  for (auto& s : c.series) names.push_back(s.name);
  o += legend(f, names, true);
  o += caption(f, c.caption);
  return o + "</svg>\n";
}

namespace {
// The root element's width or height attribute (pixels).
int svg_dim(const std::string& svg, const std::string& attr) {
  auto p = svg.find(" " + attr + "=\"");
  if (p == std::string::npos) return 800;
  return std::atoi(svg.c_str() + p + attr.size() + 3);
}
}  // namespace

std::optional<std::filesystem::path> write_svg(const std::filesystem::path& path, const std::string& svg, bool png) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << svg;
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path.string()));
  }
  if (!png) return std::nullopt;
  auto png_path = std::filesystem::path(path).replace_extension(".png");
  auto quote = [](const std::string& s) {
    std::string o = "'";
    for (char ch : s) o += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return o + "'";
  };
  std::string cmd;
  if (std::system("command -v rsvg-convert >/dev/null 2>&1") == 0) {
    cmd = fmt::format("rsvg-convert -b white -o {} {} 2>/dev/null", quote(png_path.string()), quote(path.string()));
  } else if (std::system("command -v chromium >/dev/null 2>&1") == 0) {
    // Headless Chromium screenshot of the SVG at its own size, with a throw-away profile.
    auto profile = std::filesystem::temp_directory_path() / fmt::format("dsv3-chromium-{}", ::getpid());
    cmd = fmt::format(
        "chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
        "--disable-sync --no-first-run --hide-scrollbars --user-data-dir={} --window-size={},{} --screenshot={} "
        "file://{} >/dev/null 2>&1; rm -rf {}",
        quote(profile.string()), svg_dim(svg, "width"), svg_dim(svg, "height"), quote(png_path.string()),
        quote(std::filesystem::absolute(path).string()), quote(profile.string()));
  } else {
    return std::nullopt;
  }
  if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(png_path)) return std::nullopt;
  return png_path;
}

}  // namespace dsv3::reports
