// Plot rendering: the SVG of each kind is well formed, has axes with units, a legend and a
// caption; values land where they should. (Rendering to PNG and the page are tested in
// report_cli_itest.cpp.)
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "reports/sim_table.hpp"
#include "reports/svg_plot.hpp"
#include "support/test_support.hpp"

using namespace dsv3::reports;

namespace {
// Made-up scenario values: these test rendering only, they are not simulator output.
std::vector<SimScenario> scenarios() {
  std::vector<SimScenario> s;
  for (int gpus : {512, 1024, 2048})
    for (const char* prec : {"fp8", "bf16"}) {
      SimScenario x;
      x.name = fmt::format("{} GPUs {}", gpus, prec);
      x.file = "sweep.h5";
      x.params = {{"gpus", std::to_string(gpus)}, {"precision", prec}};
      double k = std::string(prec) == "fp8" ? 1.0 : 1.6;
      x.compute_s = 8.0 * k * 2048.0 / gpus;
      x.exposed_comm_s = 1.5;
      x.bubble_s = 2.0;
      x.step_time_s = *x.compute_s + 3.5;
      x.gpu_hours = 2.6e6 * k;
      x.usd = 2 * *x.gpu_hours;
      x.days = *x.gpu_hours / gpus / 24;
      x.mfu = 0.39 / k;
      s.push_back(x);
    }
  return s;
}
}  // namespace

TEST(Plots, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 100), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(nice_ticks(0, 7.3), (std::vector<double>{0, 2, 4, 6, 8}));
}

TEST(Plots, StackedBarsAndSweepLines) {
  auto s = scenarios();
  auto bars = svg_stacked_bars(step_breakdown_plot(s, "Source: test scenarios (made-up values)"));
  EXPECT_NE(bars.find(">time per step (s)</text>"), std::string::npos);
  EXPECT_NE(bars.find(">exposed communication</text>"), std::string::npos);
  EXPECT_NE(bars.find("Source: test scenarios"), std::string::npos);
  auto line = svg_line_chart(sweep_plot(s, "gpus", "precision", "gpu_hours", "Source: test"));
  EXPECT_NE(line.find(">precision = fp8</text>"), std::string::npos);
  EXPECT_NE(line.find(">gpus</text>"), std::string::npos);
  EXPECT_NE(line.find(">GPU-hours</text>"), std::string::npos);
  auto pivot = sim_pivot(s, "gpus", "precision", "mfu", "test");
  ASSERT_EQ(pivot.rows.size(), 3u);
  EXPECT_EQ(pivot.header, (std::vector<std::string>{"gpus \\ precision", "bf16", "fp8"}));
  EXPECT_EQ(pivot.rows[0], (std::vector<std::string>{"512", "24.38", "39"}));
  if (auto dir = std::getenv("DSV3_PLOT_DIR")) {  // for looking at them
    write_svg(std::string(dir) + "/step_breakdown.svg", bars, true);
    write_svg(std::string(dir) + "/sweep.svg", line, true);
  }
}
