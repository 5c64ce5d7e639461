// The SVG heatmap writer: one cell per value, axes, a legend with the range, the caption.
#include <gtest/gtest.h>

#include <stdexcept>

#include "reports/svg_heatmap.hpp"

using dsv3::reports::Heatmap;
using dsv3::reports::heatmap_svg;

namespace {
size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(SvgHeatmap, CellsAxesLegendCaption) {
  Heatmap h;
  h.title = "Expert load <zipf>";
  h.caption = "line one\nline two & more";
  h.x_label = "GPU";
  h.y_label = "MoE layer";
  h.value_label = "tokens";
  h.values = {{1, 2, 3}, {4, 5, 600}};
  const std::string s = heatmap_svg(h);
  EXPECT_EQ(s.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(s, "<title>"), 6u);  // one tooltip per cell
  EXPECT_NE(s.find("Expert load &lt;zipf&gt;"), std::string::npos);
  EXPECT_NE(s.find("line two &amp; more"), std::string::npos);
  EXPECT_NE(s.find(">GPU<"), std::string::npos);
  EXPECT_NE(s.find(">MoE layer<"), std::string::npos);
  EXPECT_NE(s.find(">600<"), std::string::npos);  // legend top = max
  EXPECT_NE(s.find(">1<"), std::string::npos);    // legend bottom = min
  // The largest value gets the top color of the scale, the smallest the bottom one.
  EXPECT_NE(s.find("fill=\"#fde725\"><title>MoE layer 1, GPU 2: 600"), std::string::npos);
  EXPECT_NE(s.find("fill=\"#440154\"><title>MoE layer 0, GPU 0: 1"), std::string::npos);
}

TEST(SvgHeatmap, CenterOnMeanAndBadInput) {
  Heatmap h;
  h.value_label = "tokens";
  h.values = {{10, 10, 10, 10}};
  h.center_on_mean = true;
  const std::string s = heatmap_svg(h);
  EXPECT_NE(s.find("tokens / row mean"), std::string::npos);
  h.values = {};
  EXPECT_THROW(heatmap_svg(h), std::invalid_argument);
  h.values = {{1, 2}, {3}};
  EXPECT_THROW(heatmap_svg(h), std::invalid_argument);
}
