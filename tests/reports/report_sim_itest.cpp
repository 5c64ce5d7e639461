// dsv3 report on real simulator output: `dsv3 simulate --out` files (single and sweep) in the
// scenario table and plots, and the claims' cost rows simulated for a changed model config.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/data_dir.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using dsv3::test::run_dsv3;

TEST(ReportSim, TableAndPlotsFromDsv3SimulateFiles) {
  dsv3::test::TempDir tmp;
  auto one = (tmp / "sim.h5").string(), sweep = (tmp / "sweep.h5").string();
  auto s1 = run_dsv3({"simulate", "--out", one, "--format", "json"});
  ASSERT_EQ(s1.exit_code, 0) << s1.err;
  auto j = nlohmann::json::parse(s1.out);
  auto s2 = run_dsv3({"simulate", "--set", "memory.check=false", "--sweep", "precision=fp8,bf16", "--sweep",
                      "parallel.dp=64,128", "--out", sweep,
                      "--format", "csv"});
  ASSERT_EQ(s2.exit_code, 0) << s2.err;

  auto t = run_dsv3({"report", "table", one, sweep, "--format", "csv"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  // The single scenario's row carries the simulator's own totals.
  EXPECT_NE(t.out.find(fmt::format("{:.1f},{:.3f}", j["cost"]["total_gpu_hours"].get<double>() / 1e3,
                                   j["cost"]["total_usd"].get<double>() / 1e6)),
            std::string::npos)
      << t.out;
  EXPECT_NE(t.out.find("parallel.dp=128 precision=bf16"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("parallel.dp \\ precision,bf16,fp8"), std::string::npos) << t.out;  // the pivot

  auto p = run_dsv3({"report", "plot", one, sweep, "--out-dir", (tmp / "fig").string(), "--no-png"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(fs::exists(tmp / "fig/step_breakdown.svg"));
  EXPECT_TRUE(fs::exists(tmp / "fig/sweep.svg"));
  auto h = run_dsv3({"report", "html", one, sweep, "-o", (tmp / "r.html").string()});
  ASSERT_EQ(h.exit_code, 0) << h.err;
}

TEST(ReportSim, ClaimsCostRowsFollowTheModelConfig) {
  auto base = run_dsv3({"report", "claims", "--format", "csv"});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  EXPECT_NE(base.out.find("(simulated: dsv3 simulate (default scenario"), std::string::npos) << base.out;

  auto j = nlohmann::json::parse(dsv3::test::read_file(dsv3::model::source_path("model/configs/deepseek-v3.json")));
  j["moe_intermediate_size"] = 1024;  // experts half as wide: fewer parameters, cheaper steps
  dsv3::test::TempDir tmp;
  dsv3::test::write_file(tmp / "config.json", j.dump());
  auto changed = run_dsv3({"report", "claims", "--config", (tmp / "config.json").string(), "--format", "csv"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  auto row = [](const std::string& out, const std::string& start) {
    auto p = out.find("\n" + start);
    return p == std::string::npos ? std::string() : out.substr(p + 1, out.find('\n', p + 1) - p - 1);
  };
  for (auto* r : {"671B total parameters", "a training cost of about", "\"\"\"10-20x\"\""}) {
    auto a = row(base.out, r), b = row(changed.out, r);
    ASSERT_FALSE(a.empty()) << r;
    EXPECT_NE(a, b) << r;
  }
  EXPECT_NE(row(changed.out, "671B total parameters").find("disagrees"), std::string::npos);
}
