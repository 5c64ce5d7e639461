// The /routing group of the simulation report: written, read with h5py, and its expert_load read
// back as a measured-load file.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "model/config.hpp"
#include "reports/h5_file.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/routing_h5.hpp"
#include "support/test_support.hpp"

namespace routing = dsv3::sim::routing;
namespace h5 = dsv3::reports::h5;

TEST(RoutingH5, GroupOpensInH5pyAndFeedsTheMeasuredModel) {
  routing::MoeRoutingSetup s;
  s.config = dsv3::model::ModelConfig::deepseek_v3();
  s.ep_gpus = 16;
  s.tokens_per_gpu = 128;
  s.spec = routing::RoutingSpec::from_yaml(YAML::Load("{model: dirichlet, alpha: 0.5, layers_sampled: 3}"), "t");
  const auto links = routing::LinkModel::load();
  const auto r = routing::simulate_moe_routing(s, links, routing::roofline_grouped_gemm(7168, 2048, 1346));
  dsv3::test::TempDir dir;
  const auto path = (dir / "r.h5").string();
  {
    h5::Handle f = h5::create_file(path);
    routing::write_routing_group(f.id(), r);
  }
  const auto py = dsv3::test::run(
      {"/usr/bin/python3", "-c",
       "import h5py, sys\n"
       "g = h5py.File(sys.argv[1], 'r')['routing']\n"
       "print(g['gpu_load'].shape, g['expert_load'].shape, g['dispatch_link_bytes'].shape, len(g['layers']))\n"
       "print(round(float(g.attrs['mean_imbalance']), 6), g.attrs['routing'])\n"
       "print(int(g['gpu_load'][0].sum()))\n",
       path});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_NE(py.out.find("(3, 16) (3, 256) (16, 16) 3"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find("dirichlet(alpha=0.5)"), std::string::npos) << py.out;
  EXPECT_NE(py.out.find(std::to_string(16 * 128 * 8)), std::string::npos) << py.out;  // every pair computed once
  // expert_load reads back as a measured load matrix.
  const auto m = routing::read_expert_load(path);
  ASSERT_EQ(m.size(), 3u);
  ASSERT_EQ(m[0].size(), 256u);
  EXPECT_EQ(m[1][7], static_cast<double>(r.layers[1].expert_tokens[7]));
}
