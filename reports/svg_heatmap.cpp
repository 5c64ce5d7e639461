#include "reports/svg_heatmap.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "reports/table.hpp"

namespace dsv3::reports {

namespace {

// A perceptually ordered sequential scale (dark blue -> teal -> yellow), by piecewise-linear
// interpolation between anchor colors; t in [0, 1].
std::string color(double t) {
  static const double anchors[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 4.0;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  int rgb[3];
  for (int k = 0; k < 3; ++k) rgb[k] = static_cast<int>(std::lround(anchors[i][k] + f * (anchors[i + 1][k] - anchors[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string num(double v) {
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-2)) return fmt::format("{:.2e}", v);
  if (std::fabs(v) >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

// At most ~max_ticks evenly spaced indices, always including the first and the last.
std::vector<int> ticks(int n, int max_ticks) {
  std::vector<int> t;
  const int step = std::max(1, (n + max_ticks - 1) / max_ticks);
  for (int i = 0; i < n; i += step) t.push_back(i);
  if (t.back() != n - 1) t.push_back(n - 1);
  return t;
}

}  // namespace

std::string heatmap_svg(const Heatmap& h) {
  const int rows = static_cast<int>(h.values.size());
  if (rows == 0 || h.values[0].empty()) throw std::invalid_argument("heatmap: empty matrix");
  const int cols = static_cast<int>(h.values[0].size());
  for (const auto& r : h.values)
    if (static_cast<int>(r.size()) != cols) throw std::invalid_argument("heatmap: rows of different lengths");

  std::vector<std::vector<double>> v = h.values;
  if (h.center_on_mean)
    for (auto& r : v) {
      const double m = std::accumulate(r.begin(), r.end(), 0.0) / cols;
      for (double& x : r) x = m > 0 ? x / m : 0;
    }
  double lo = v[0][0], hi = v[0][0];
  for (const auto& r : v)
    for (double x : r) lo = std::min(lo, x), hi = std::max(hi, x);
  if (h.center_on_mean) lo = std::min(lo, 1.0), hi = std::max(hi, 1.0);
  const double span = hi > lo ? hi - lo : 1.0;

  const double plot_w = 720, plot_h = std::clamp(rows * 10.0, 160.0, 560.0);
  const double cw = plot_w / cols, ch = plot_h / rows;
  const double left = 80, top = 50, bar_x = left + plot_w + 30, bar_w = 18;
  std::vector<std::string> caption_lines;
  {
    std::stringstream ss(h.caption);
    std::string line;
    while (std::getline(ss, line)) caption_lines.push_back(line);
  }
  const double width = bar_x + bar_w + 90, height = top + plot_h + 60 + 18.0 * caption_lines.size() + 10;

  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" viewBox=\"0 0 {:.0f} {:.0f}\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
      width, height, width, height);
  s += fmt::format("<rect width=\"{:.0f}\" height=\"{:.0f}\" fill=\"white\"/>\n", width, height);
  s += fmt::format("<text x=\"{:.1f}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n", left, html_escape(h.title));
  // Cells (shape-rendering crispEdges so thin cells do not blur).
  s += "<g shape-rendering=\"crispEdges\">\n";
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      s += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\"><title>{} {}, {} {}: {}</title></rect>\n",
                       left + c * cw, top + r * ch, cw + 0.05, ch + 0.05, color((v[r][c] - lo) / span),
                       html_escape(h.y_label), r < static_cast<int>(h.row_names.size()) ? h.row_names[r] : std::to_string(r),
                       html_escape(h.x_label), c < static_cast<int>(h.column_names.size()) ? h.column_names[c] : std::to_string(c),
                       num(h.values[r][c]));
  s += "</g>\n";
  s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"black\"/>\n", left, top,
                   plot_w, plot_h);
  // Axes: ticks and labels.
  for (int c : ticks(cols, 16)) {
    const double x = left + (c + 0.5) * cw;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\"/>\n", x, top + plot_h, x, top + plot_h + 4);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, top + plot_h + 16,
                     html_escape(c < static_cast<int>(h.column_names.size()) ? h.column_names[c] : std::to_string(c)));
  }
  for (int r : ticks(rows, 20)) {
    const double y = top + (r + 0.5) * ch;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\"/>\n", left - 4, y, left, y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n", left - 6, y,
                     html_escape(r < static_cast<int>(h.row_names.size()) ? h.row_names[r] : std::to_string(r)));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", left + plot_w / 2, top + plot_h + 34,
                   html_escape(h.x_label));
  s += fmt::format("<text x=\"20\" y=\"{:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {:.1f})\">{}</text>\n",
                   top + plot_h / 2, top + plot_h / 2, html_escape(h.y_label));
  // Legend: a vertical color bar, high at the top.
  const int steps = 64;
  s += "<g shape-rendering=\"crispEdges\">\n";
  for (int i = 0; i < steps; ++i)
    s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.2f}\" width=\"{:.1f}\" height=\"{:.2f}\" fill=\"{}\"/>\n", bar_x,
                     top + plot_h * i / steps, bar_w, plot_h / steps + 0.05, color(1.0 - (i + 0.5) / steps));
  s += "</g>\n";
  s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"black\"/>\n", bar_x, top,
                   bar_w, plot_h);
  for (int i = 0; i <= 4; ++i) {
    const double val = hi - span * i / 4, y = top + plot_h * i / 4;
    s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"black\"/>\n", bar_x + bar_w, y,
                     bar_x + bar_w + 4, y);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" dominant-baseline=\"middle\">{}</text>\n", bar_x + bar_w + 6, y, num(val));
  }
  const std::string legend = h.center_on_mean ? h.value_label + " / row mean" : h.value_label;
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 {:.1f} {:.1f})\">{}</text>\n",
                   bar_x + bar_w + 62, top + plot_h / 2, bar_x + bar_w + 62, top + plot_h / 2, html_escape(legend));
  double y = top + plot_h + 56;
  for (const auto& line : caption_lines) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#333\">{}</text>\n", left, y, html_escape(line));
    y += 18;
  }
  s += "</svg>\n";
  return s;
}

}  // namespace dsv3::reports
