// Routing models, the router, and MoE-layer time under skew.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <numeric>

#include "model/config.hpp"
#include "model/errors.hpp"
#include "sim/routing/moe_layer.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/router.hpp"
#include "sim/routing/routing_spec.hpp"

namespace routing = dsv3::sim::routing;
using dsv3::model::ModelConfig;

namespace {
routing::RoutingSpec spec_of(const std::string& yaml) {
  return routing::RoutingSpec::from_yaml(YAML::Load(yaml), "test.yaml");
}
}  // namespace

TEST(RoutingSpec, ParsesTheIssueExampleAndRejectsUnknownKeys) {
  const auto s = spec_of("{model: zipf, s: 1.1, bias_gamma: 0.001, eplb_redundant_experts: 32}");
  EXPECT_EQ(s.model, routing::PopularityKind::Zipf);
  EXPECT_DOUBLE_EQ(s.zipf_s, 1.1);
  EXPECT_DOUBLE_EQ(s.bias_gamma, 0.001);
  EXPECT_EQ(s.eplb_redundant_experts, 32);
  try {
    spec_of("{model: zipf, sigma: 2}");
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("test.yaml: routing.sigma: unknown key"), std::string::npos) << e.what();
  }
  EXPECT_THROW(spec_of("{model: pareto}"), dsv3::InputError);
  EXPECT_THROW(spec_of("{s: abc}"), dsv3::InputError);
  EXPECT_THROW(spec_of("{model: measured}"), dsv3::InputError);  // needs load_file
  EXPECT_THROW(spec_of("{eplb_redundant_experts: -1}"), dsv3::InputError);
}

TEST(RoutingPopularity, ModelsAreDistributions) {
  for (const char* y : {"{model: balanced}", "{model: zipf, s: 1.1}", "{model: dirichlet, alpha: 0.3}",
                        "{model: drift, drift_sigma: 0.2}"}) {
    const routing::PopularityModel pop(spec_of(y), 3, 256);
    for (int l = 0; l < 3; ++l) {
      const auto p = pop.at(l, 5);
      EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-9) << y;
      for (double x : p) EXPECT_GT(x, 0) << y;
    }
  }
  const routing::PopularityModel zipf(spec_of("{model: zipf, s: 1.1}"), 2, 256);
  auto p = zipf.at(0);
  std::sort(p.rbegin(), p.rend());
  EXPECT_NEAR(p[0] / p[1], std::pow(2.0, 1.1), 1e-9);
  EXPECT_NE(zipf.at(0), zipf.at(1));  // a different hot expert order per layer
  const routing::PopularityModel drift(spec_of("{model: drift, drift_sigma: 0.2}"), 1, 64);
  EXPECT_NE(drift.at(0, 0), drift.at(0, 10));
  EXPECT_EQ(drift.at(0, 10), drift.at(0, 10));  // reproducible
}

TEST(RoutingRouter, GumbelTopKFollowsPopularityWithoutGroups) {
  // Top-1 of 16 experts, no groups, no bias: the chosen expert is a draw from p.
  dsv3::model::GateParams g;
  g.n_experts = 16, g.n_group = 1, g.topk_group = 1, g.top_k = 1;
  std::vector<double> p(16);
  for (int e = 0; e < 16; ++e) p[e] = (e + 1) / 136.0;
  std::vector<int32_t> ex;
  const int64_t T = 200000;
  routing::route_tokens(g, p, {}, 7, T, ex);
  const auto c = routing::expert_counts(ex, 16);
  for (int e = 0; e < 16; ++e) {
    const double mean = T * p[e], sd = std::sqrt(mean);
    EXPECT_NEAR(c[e], mean, 5 * sd) << e;
  }
}

namespace {
routing::MoeRoutingSetup v3_setup(const std::string& yaml, int64_t tokens_per_gpu = 512) {
  routing::MoeRoutingSetup s;
  s.config = ModelConfig::deepseek_v3();
  s.ep_gpus = 64;
  s.gpus_per_node = 8;
  s.tokens_per_gpu = tokens_per_gpu;
  s.spec = spec_of(yaml);
  s.spec.layers_sampled = 2;
  return s;
}
routing::GroupedGemmTime gemm() { return routing::roofline_grouped_gemm(7168, 2048, 1346); }
}  // namespace

TEST(RoutingMoeLayer, BalancedRoutingImbalanceIsOneWithinSamplingNoise) {
  const auto links = routing::LinkModel::load();
  for (int64_t tpg : {256, 2048}) {
    const auto r = routing::simulate_moe_routing(v3_setup("{model: balanced}", tpg), links, gemm());
    // Per-GPU token-expert pairs ~ multinomial: mean m = tpg * 8, sd ~ sqrt(m); the max of 64
    // GPUs sits about 2.4 sd above the mean. Allow 5 sd.
    const double m = tpg * 8.0, noise = 5 * std::sqrt(m) / m;
    for (const auto& L : r.layers) {
      EXPECT_GE(L.imbalance, 1.0);
      EXPECT_LT(L.imbalance, 1.0 + noise) << "tokens per GPU " << tpg;
      EXPECT_LE(L.max_nodes_per_token, 4);
    }
  }
}

TEST(RoutingMoeLayer, ZipfSkewRaisesMoeTime) {
  const auto links = routing::LinkModel::load();
  const auto bal = routing::simulate_moe_routing(v3_setup("{model: balanced}"), links, gemm());
  const auto zipf = routing::simulate_moe_routing(v3_setup("{model: zipf, s: 1.1}"), links, gemm());
  EXPECT_GT(zipf.mean_imbalance, bal.mean_imbalance + 0.5);
  EXPECT_GT(zipf.mean_time_s, 1.2 * bal.mean_time_s);
  for (const auto& L : zipf.layers) {
    EXPECT_GT(L.gemm_s, L.gemm_balanced_s);
    EXPECT_GT(L.time_s, L.balanced_time_s);
    EXPECT_LE(L.max_nodes_per_token, 4);
  }
  // EPLB with redundant slots buys part of it back (256 + 64 slots = 5 per GPU).
  auto with_eplb = v3_setup("{model: zipf, s: 1.1, eplb_redundant_experts: 64}");
  const auto eplb = routing::simulate_moe_routing(with_eplb, links, gemm());
  EXPECT_EQ(eplb.slots_per_gpu, 5);
  EXPECT_LT(eplb.mean_imbalance, zipf.mean_imbalance);
  EXPECT_LT(eplb.mean_time_s, zipf.mean_time_s);
}

TEST(RoutingMoeLayer, RedundantSlotsMustDivideOverGpus) {
  try {
    routing::simulate_moe_routing(v3_setup("{model: zipf, eplb_redundant_experts: 32}"), routing::LinkModel::load(),
                                  gemm());
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("routing.eplb_redundant_experts"), std::string::npos) << e.what();
  }
}
