// dsv3 simulate eplb end to end: the README example through the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using dsv3::test::run_dsv3;
using dsv3::test::TempDir;
using dsv3::test::write_file;

TEST(RoutingEplbCli, ReadmeExampleJson) {
  TempDir dir;
  write_file(dir / "w.json",
             "[[90,132,40,61,104,165,39,4,73,56,183,86],[20,107,104,64,19,197,187,157,172,86,16,27]]");
  auto r = run_dsv3({"simulate", "eplb", "--weights", (dir / "w.json").string(), "--replicas", "16", "--groups", "4",
                     "--nodes", "2", "--gpus", "8", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["policy"], "hierarchical");
  EXPECT_EQ(j["phy2log"][0], nlohmann::json::parse("[5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1]"));
  EXPECT_EQ(j["phy2log"][1], nlohmann::json::parse("[7,10,6,8,6,11,8,9,2,4,5,1,5,0,3,1]"));
  EXPECT_EQ(j["logcnt"][0].size(), 12u);
  EXPECT_EQ(j["log2phy"][0].size(), 12u);
  EXPECT_DOUBLE_EQ(j["gpu_loads"][0][6].get<double>(), 156.0);
  EXPECT_NEAR(j["max_over_mean"]["after"][1].get<double>(), 179.5 / 144.5, 1e-9);
  // 12 experts do not lay out contiguously on 8 GPUs: no "before".
  EXPECT_TRUE(j["max_over_mean"]["before"].is_null());
}

TEST(RoutingEplbCli, TextOutput) {
  TempDir dir;
  write_file(dir / "w.json", "[[1,2,3,4],[4,3,2,1]]");
  auto r = run_dsv3({"simulate", "eplb", "--weights", (dir / "w.json").string(), "--replicas", "6", "--groups", "2",
                     "--nodes", "1", "--gpus", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("phy2log"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("max/mean GPU load"), std::string::npos) << r.out;
  r = run_dsv3({"simulate", "eplb", "--weights", (dir / "w.json").string(), "--replicas", "6", "--groups", "2",
                "--nodes", "1", "--gpus", "2", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["max_over_mean"]["before"][0].get<double>(), j["max_over_mean"]["after"][0].get<double>());
}

TEST(RoutingEplbCli, BadInputExitsTwoNamingTheFile) {
  TempDir dir;
  write_file(dir / "bad.json", "[[1,2,3],[4,\"x\",6]]");
  auto r = run_dsv3({"simulate", "eplb", "--weights", (dir / "bad.json").string(), "--replicas", "4", "--groups", "1",
                     "--nodes", "1", "--gpus", "2", "--format", "json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.json: [1][1]"), std::string::npos) << r.err;
  write_file(dir / "w.json", "[[1,2,3,4]]");
  r = run_dsv3({"simulate", "eplb", "--weights", (dir / "w.json").string(), "--replicas", "5", "--groups", "1",
                "--nodes", "1", "--gpus", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("replicas"), std::string::npos) << r.err;
}
