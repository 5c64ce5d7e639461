// dsv3 simulate routing end to end: JSON summary, the SVG heatmap, bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using dsv3::test::read_file;
using dsv3::test::run_dsv3;
using dsv3::test::TempDir;

TEST(RoutingCli, ZipfJsonHeatmapAndBias) {
  TempDir dir;
  const auto svg = (dir / "load.svg").string();
  auto r = run_dsv3({"simulate", "routing", "--routing", "model=zipf", "--routing", "s=1.1", "--routing",
                     "layers_sampled=2", "--tokens-per-gpu", "256", "--bias-steps", "5", "--svg", svg, "--format",
                     "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["layers"].size(), 2u);
  EXPECT_GT(j["mean_imbalance"].get<double>(), 1.5);
  EXPECT_GT(j["moe_layer_time_s"].get<double>(), j["moe_layer_time_balanced_s"].get<double>());
  EXPECT_EQ(j["layers"][0]["gpu_tokens"].size(), 64u);
  EXPECT_LE(j["layers"][0]["max_nodes_per_token"].get<int>(), 4);
  EXPECT_EQ(j["bias_controller"]["maxvio_batch"].size(), 5u);
  EXPECT_TRUE(j["calibration"].contains("ib_efficiency"));
  const std::string s = read_file(svg);
  EXPECT_NE(s.find("<svg"), std::string::npos);
  EXPECT_NE(s.find("zipf(s=1.1)"), std::string::npos);
}

TEST(RoutingCli, BadRoutingKeyExitsTwo) {
  auto r = run_dsv3({"simulate", "routing", "--routing", "model=pareto"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--routing: routing.model: 'pareto'"), std::string::npos) << r.err;
  r = run_dsv3({"simulate", "routing", "--routing", "eplb_redundant_experts=32"});  // 288 over 64 GPUs
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("eplb_redundant_experts"), std::string::npos) << r.err;
}
