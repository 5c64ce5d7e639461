#pragma once
// A heatmap as plain SVG text: a rows x columns matrix of values (e.g. MoE layers x GPUs or
// experts, tokens each), colored on a sequential scale, with axis titles and ticks, a color-bar
// legend with its range, a title and a caption. No scripts, no external fonts or files.
#include <string>
#include <vector>

namespace dsv3::reports {

struct Heatmap {
  std::string title;
  std::string caption;                    // one or more lines under the plot ('\n' separates)
  std::string x_label, y_label, value_label;
  std::vector<std::vector<double>> values;  // [row][column]
  std::vector<std::string> row_names;       // optional tick labels (default: 0, 1, ...)
  std::vector<std::string> column_names;
  bool center_on_mean = false;  // color by value / row mean (1.0 = balanced) instead of raw value
};

// The SVG document. Throws std::invalid_argument on an empty or ragged matrix.
std::string heatmap_svg(const Heatmap& h);

}  // namespace dsv3::reports
