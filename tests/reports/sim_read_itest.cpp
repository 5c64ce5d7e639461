// Simulation files laid out as reports/schema/simulation.md says, read back into the scenario
// table, pivot and plots (the end-to-end test with `dsv3 simulate --out` lives with sim/).
#include <gtest/gtest.h>

#include <cmath>

#include "model/errors.hpp"
#include "reports/h5_file.hpp"
#include "reports/sim_read.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/routing_h5.hpp"
#include <yaml-cpp/yaml.h>
#include "model/config.hpp"
#include "support/test_support.hpp"

using namespace dsv3::reports;
namespace fs = std::filesystem;

namespace {

void root_attrs(hid_t f, const std::string& kind) {
  h5::set_attr(f, "schema", std::string("dsv3.simulation"));
  h5::set_attr(f, "schema_version", int64_t{1});
  h5::set_attr(f, "dsv3_version", std::string("0.1.0"));
  h5::set_attr(f, "dsv3_git_hash", std::string("test"));
  h5::set_attr(f, "kind", kind);
}

void write_single(const fs::path& p, const std::string& name, double compute) {
  auto f = h5::create_file(p);
  root_attrs(f.id(), "single");
  h5::set_attr(f.id(), "name", name);
  h5::set_attr(f.id(), "hardware_name", std::string("NVIDIA H800 SXM5"));
  auto cost = h5::create_group(f.id(), "cost");
  h5::set_attr(cost.id(), "total_gpu_hours", 2.7e6);
  h5::set_attr(cost.id(), "total_usd", 5.4e6);
  h5::set_attr(cost.id(), "total_days", 55.0);
  auto thr = h5::create_group(f.id(), "throughput");
  h5::set_attr(thr.id(), "mfu_bf16", 0.385);
  auto step = h5::create_group(f.id(), "step");
  h5::set_attr(step.id(), "time_s", compute + 4.0);
  h5::set_attr(step.id(), "compute_s", compute);
  h5::set_attr(step.id(), "exposed_comm_s", 1.0);
  h5::set_attr(step.id(), "bubble_s", 2.5);
  auto mem = h5::create_group(f.id(), "memory");
  h5::set_attr(mem.id(), "per_gpu_bytes", 60.0 * 1024 * 1024 * 1024);
  auto moe = h5::create_group(f.id(), "moe");
  h5::write_column(moe.id(), "expert_rows", std::vector<double>{100, 100, 100, 140});
}

void write_sweep(const fs::path& p) {
  auto f = h5::create_file(p);
  root_attrs(f.id(), "sweep");
  auto g = h5::create_group(f.id(), "sweep");
  h5::write_column(g.id(), "set:gpus", std::vector<std::string>{"1024", "2048", "1024", "2048", "4096"});
  h5::write_column(g.id(), "set:precision", std::vector<std::string>{"fp8", "fp8", "bf16", "bf16", "bf16"});
  h5::write_column(g.id(), "error", std::vector<std::string>{"", "", "", "", "does not fit"});
  h5::write_column(g.id(), "step_time_s", std::vector<double>{30, 16, 45, 24, NAN});
  h5::write_column(g.id(), "pretrain_days", std::vector<double>{100, 55, 150, 80, NAN});
  h5::write_column(g.id(), "total_gpu_hours", std::vector<double>{2.6e6, 2.7e6, 3.9e6, 4.0e6, NAN});
  h5::write_column(g.id(), "total_usd", std::vector<double>{5.2e6, 5.4e6, 7.8e6, 8.0e6, NAN});
  h5::write_column(g.id(), "mfu_bf16", std::vector<double>{0.39, 0.38, 0.26, 0.25, NAN});
  h5::write_column(g.id(), "memory_per_gpu_bytes", std::vector<double>{7e10, 6e10, 7e10, 6e10, NAN});
}

}  // namespace

TEST(SimRead, SingleAndSweep) {
  dsv3::test::TempDir tmp;
  write_single(tmp / "a.h5", "deepseek-v3-h800", 12.0);
  auto a = read_simulation(tmp / "a.h5");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].name, "deepseek-v3-h800");
  EXPECT_EQ(a[0].gpu, "NVIDIA H800 SXM5");
  EXPECT_DOUBLE_EQ(*a[0].usd, 5.4e6);
  EXPECT_DOUBLE_EQ(*a[0].memory_per_gpu_gib, 60.0);
  EXPECT_DOUBLE_EQ(*a[0].imbalance, 140.0 / 110.0);
  EXPECT_NEAR(*a[0].other_s, 0.5, 1e-12);  // 16 - 12 - 1 - 2.5

  write_sweep(tmp / "s.h5");
  auto s = read_simulation(tmp / "s.h5");
  ASSERT_EQ(s.size(), 4u);  // the failed point is left out
  EXPECT_EQ(s[0].name, "gpus=1024 precision=fp8");
  EXPECT_EQ(sweep_axes(s), (std::vector<std::string>{"gpus", "precision"}));
  auto pivot = sim_pivot(s, "gpus", "precision", "mfu", "test");
  EXPECT_EQ(pivot.rows[1], (std::vector<std::string>{"2048", "25", "38"}));
}

TEST(SimRead, CliTableAndPlotsFromSimulationFiles) {
  dsv3::test::TempDir tmp;
  write_single(tmp / "a.h5", "fp8", 12.0);
  write_single(tmp / "b.h5", "bf16", 19.0);
  write_sweep(tmp / "s.h5");
  auto t = dsv3::test::run_dsv3({"report", "table", (tmp / "a.h5").string(), (tmp / "b.h5").string(), "--format", "csv"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("fp8,NVIDIA H800 SXM5,2700.0,5.400,55.0,38.5,16.000,12.000,1.000,2.500,60.0,1.273"),
            std::string::npos)
      << t.out;
  auto p = dsv3::test::run_dsv3({"report", "table", (tmp / "s.h5").string(), "--metric", "usd"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find("| gpus \\ precision | bf16 | fp8 |"), std::string::npos) << p.out;
  auto plots = dsv3::test::run_dsv3({"report", "plot", (tmp / "a.h5").string(), (tmp / "b.h5").string(),
                                     (tmp / "s.h5").string(), "--out-dir", (tmp / "fig").string(), "--no-png"});
  ASSERT_EQ(plots.exit_code, 0) << plots.err;
  EXPECT_TRUE(fs::exists(tmp / "fig/step_breakdown.svg"));
  EXPECT_TRUE(fs::exists(tmp / "fig/sweep.svg"));
  dsv3::test::write_file(tmp / "x.h5", "");
  {
    auto f = h5::create_file(tmp / "x.h5");
    h5::set_attr(f.id(), "schema", std::string("dsv3.simulation"));
    h5::set_attr(f.id(), "schema_version", int64_t{1});
    h5::set_attr(f.id(), "kind", std::string("single"));
  }
  auto bad = dsv3::test::run_dsv3({"report", "table", (tmp / "x.h5").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("x.h5: missing attributes /cost"), std::string::npos) << bad.err;
}

TEST(SimRead, ExpertLoadHeatmapFromTheRoutingGroup) {
  // A real /routing group, written by the routing simulator's own writer.
  namespace routing = dsv3::sim::routing;
  routing::MoeRoutingSetup setup;
  setup.config = dsv3::model::ModelConfig::deepseek_v3();
  setup.ep_gpus = 16;
  setup.tokens_per_gpu = 128;
  setup.spec = routing::RoutingSpec::from_yaml(YAML::Load("{model: dirichlet, alpha: 0.5, layers_sampled: 4}"), "test");
  auto r = routing::simulate_moe_routing(setup, routing::LinkModel::load(), routing::roofline_grouped_gemm(7168, 2048, 1346));
  dsv3::test::TempDir tmp;
  write_single(tmp / "a.h5", "dirichlet-0.5", 12.0);
  {
    auto f = h5::open_file(tmp / "a.h5", true);
    routing::write_routing_group(f.id(), r);
  }
  auto s = read_simulation(tmp / "a.h5");
  ASSERT_EQ(s[0].gpu_load.size(), 4u);
  ASSERT_EQ(s[0].gpu_load[0].size(), 16u);
  EXPECT_DOUBLE_EQ(*s[0].imbalance, r.mean_imbalance);
  auto dir = tmp / "fig";
  auto p = dsv3::test::run_dsv3({"report", "plot", (tmp / "a.h5").string(), "--out-dir", dir.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto svg = dsv3::test::read_file(dir / "expert_load.svg");
  EXPECT_NE(svg.find("GPU (EP rank)"), std::string::npos);
  EXPECT_NE(svg.find("MoE layer"), std::string::npos);
  EXPECT_NE(svg.find("Source: dsv3 simulate (a.h5)"), std::string::npos);
  if (auto keep = std::getenv("DSV3_PLOT_DIR"))
    if (fs::exists(dir / "expert_load.png"))
      fs::copy_file(dir / "expert_load.png", fs::path(keep) / "expert_load.png", fs::copy_options::overwrite_existing);
}
