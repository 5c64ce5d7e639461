#pragma once
// SVG plots for reports: grouped bars with 95% CI whiskers, stacked bars (cost breakdown per
// scenario) and line charts (sweeps). Each plot has a title, labelled axes with units, a
// legend and a source caption. Output is a standalone SVG document (UTF-8), no scripts.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsv3::reports {

struct BarSeries {
  std::string name;                           // legend entry (a model or run)
  std::vector<std::optional<double>> values;  // one per category; empty = no bar
  std::vector<std::optional<double>> ci_low, ci_high;  // whiskers (optional; same length or empty)
};

struct BarChart {
  std::string title;
  std::string y_label;                 // with unit, e.g. "score (%)"
  std::string caption;                 // source line under the plot
  std::vector<std::string> categories; // x groups (benchmarks)
  std::vector<BarSeries> series;
  std::optional<double> y_max;         // default: from the data (100 for percentages if given)
};

struct StackedBars {
  std::string title;
  std::string y_label;                  // e.g. "step time (s)"
  std::string caption;
  std::vector<std::string> bars;        // x labels (scenarios)
  std::vector<std::string> parts;       // legend (compute, exposed comm, bubble, ...)
  std::vector<std::vector<double>> values;  // values[bar][part]
};

struct LineSeries {
  std::string name;
  std::vector<double> x, y;
};

struct LineChart {
  std::string title;
  std::string x_label, y_label;
  std::string caption;
  std::vector<LineSeries> series;
  bool x_log2 = false;  // powers of two on x (GPU counts, batch sizes)
};

std::string svg_bar_chart(const BarChart& c);
std::string svg_stacked_bars(const StackedBars& c);
std::string svg_line_chart(const LineChart& c);

// Writes svg to path; when `png` is set and a converter is installed (rsvg-convert, or
// ImageMagick's convert), also writes the PNG and returns its path.
std::optional<std::filesystem::path> write_svg(const std::filesystem::path& path, const std::string& svg, bool png);

// "Nice" axis ticks covering [lo, hi] (at most ~max_ticks).
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 6);

}  // namespace dsv3::reports
