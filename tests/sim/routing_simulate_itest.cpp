// dsv3 simulate with a routing section: token-level routing feeds the step model; the summary
// reports the imbalance and its cost; the HDF5 report holds /routing (read with h5py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

using dsv3::test::run_dsv3;
using dsv3::test::TempDir;

namespace {
nlohmann::json simulate(const std::vector<std::string>& sets, const std::string& out = "") {
  std::vector<std::string> args = {"simulate", "--format", "json", "--set", "routing.layers_sampled=2", "--set",
                                   "routing.tokens_per_gpu_cap=1024"};
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  if (!out.empty()) args.insert(args.end(), {"--out", out});
  const auto r = run_dsv3(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}
}  // namespace

TEST(RoutingSimulate, ZipfCostsStepTimeAndGpuHoursBalancedDoesNot) {
  TempDir dir;
  const auto h5 = (dir / "sim.h5").string();
  // The hot GPU of a Zipf-skewed layer also holds several times the activations: with the memory
  // check on, the published plan no longer fits.
  const auto oom = run_dsv3({"simulate", "--set", "routing.model=zipf", "--set", "routing.layers_sampled=2", "--set",
                             "routing.tokens_per_gpu_cap=1024"});
  EXPECT_EQ(oom.exit_code, 2);
  EXPECT_NE(oom.err.find("does not fit in GPU memory"), std::string::npos) << oom.err;
  const auto zipf = simulate({"routing.model=zipf", "routing.s=1.1", "memory.check=false"}, h5);
  const auto bal = simulate({"routing.model=balanced"});
  ASSERT_TRUE(zipf.contains("routing"));
  ASSERT_TRUE(bal.contains("routing"));
  EXPECT_GT(zipf["routing"]["imbalance"].get<double>(), 2.0);
  EXPECT_LT(bal["routing"]["imbalance"].get<double>(), 1.15);  // 1024 tokens x 8 / 64 GPUs: ~3% noise per GPU
  EXPECT_GT(zipf["routing"]["extra_step_fraction"].get<double>(), 0.05);
  EXPECT_GT(zipf["routing"]["extra_pretrain_gpu_hours"].get<double>(), 0);
  EXPECT_LT(std::abs(bal["routing"]["extra_step_fraction"].get<double>()),
            zipf["routing"]["extra_step_fraction"].get<double>() / 4);
  EXPECT_GT(zipf["step"]["time_s"].get<double>(), bal["step"]["time_s"].get<double>());
  EXPECT_NE(zipf["moe"]["routing"].get<std::string>().find("zipf(s=1.1)"), std::string::npos);
  // The HDF5 report: per-layer x per-GPU load and the link bytes, through h5py.
  const auto py = dsv3::test::run({"/usr/bin/python3", "-c",
                                   "import h5py, sys\n"
                                   "g = h5py.File(sys.argv[1], 'r')['routing']\n"
                                   "print(g['gpu_load'].shape, g['dispatch_link_bytes'].shape, g.attrs['routing'])\n"
                                   "print(float(g.attrs['extra_step_fraction']) > 0)\n",
                                   h5});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_NE(py.out.find("(2, 64) (64, 64) zipf(s=1.1)"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("True"), std::string::npos) << py.out;
}

TEST(RoutingSimulate, NoRoutingSectionKeepsAnalyticBalanced) {
  const auto r = run_dsv3({"simulate", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.contains("routing"));
}

TEST(RoutingSimulate, BadRoutingKeyNamesIt) {
  const auto r = run_dsv3({"simulate", "--set", "routing.model=pareto"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("routing.model"), std::string::npos) << r.err;
  const auto r2 = run_dsv3({"simulate", "--set", "routing.eplb_redundant_experts=32"});  // 288 slots over EP64
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_NE(r2.err.find("eplb_redundant_experts"), std::string::npos) << r2.err;
}
