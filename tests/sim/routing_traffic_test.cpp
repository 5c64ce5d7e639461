// All-to-all byte accounting (DeepEP's two-hop path), the node limit, the link model.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "model/moe_gate.hpp"
#include "sim/routing/eplb.hpp"
#include "sim/routing/link_model.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/router.hpp"
#include "sim/routing/traffic.hpp"

namespace routing = dsv3::sim::routing;

TEST(RoutingTraffic, TwoHopByHand) {
  // 2 nodes x 2 GPUs, one expert per GPU, 1 token per GPU. Token 0 (GPU 0) -> experts 1, 2, 3:
  // NVLink 0->1; IB 0->2 once (same local index 0), then NVLink 2->3.
  const auto pl = routing::Placement::contiguous(4, 4, 2);
  const int32_t experts[] = {1, 2, 3,   // token 0 on GPU 0
                             0, 1, 1,   // token 1 on GPU 1: expert 1 is local, 0 over NVLink (dup counted once)
                             2, 3, 0,   // token 2 on GPU 2: 3 over NVLink, 0 over IB to GPU 0
                             3, 2, 1};  // token 3 on GPU 3: 2 NVLink, IB to GPU 1 (local index 1)
  routing::TrafficBytes b;
  b.hidden = 128;
  const double fp8 = 128 * (1 + 4.0 / 128);  // 132 bytes
  const auto tr = routing::build_traffic(pl, experts, 4, 3, 1, b, routing::A2aPath::TwoHop);
  EXPECT_DOUBLE_EQ(fp8, b.dispatch_per_token());
  auto hop = [&](int f, int t) { return tr.dispatch_hops[f * 4 + t]; };
  EXPECT_DOUBLE_EQ(hop(0, 1), fp8);
  EXPECT_DOUBLE_EQ(hop(0, 2), fp8);
  EXPECT_DOUBLE_EQ(hop(2, 3), fp8 * 2);  // token 0 forwarded, token 2 direct
  EXPECT_DOUBLE_EQ(hop(1, 0), fp8);
  EXPECT_DOUBLE_EQ(hop(2, 0), fp8);
  EXPECT_DOUBLE_EQ(hop(3, 1), fp8);
  EXPECT_DOUBLE_EQ(hop(3, 2), fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_out[0], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_in[2], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_out[2], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_out[3], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_in[1], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch.nvl_out[2], fp8 * 2);
  EXPECT_DOUBLE_EQ(tr.dispatch.nvl_in[3], fp8 * 2);
  // Logical matrix: one copy per (token, GPU).
  EXPECT_DOUBLE_EQ(tr.dispatch_matrix[1 * 4 + 1], fp8);
  EXPECT_DOUBLE_EQ(tr.dispatch_matrix[1 * 4 + 0], fp8);
  // Tokens computed per GPU count every (token, expert) pair: GPU 1 gets 1 + 2 + 1.
  EXPECT_EQ(tr.gpu_tokens[1], 4);
  // Combine: reverse path in BF16.
  const double bf16 = 256;
  EXPECT_DOUBLE_EQ(tr.combine.ib_in[0], bf16);
  EXPECT_DOUBLE_EQ(tr.combine.ib_out[2], bf16);
  EXPECT_DOUBLE_EQ(tr.combine.nvl_out[3], bf16 * 2);
  EXPECT_EQ(tr.max_nodes_per_token, 2);
  // DeepEP's RDMA accounting counts (token, node) pairs, own node included.
  EXPECT_DOUBLE_EQ(tr.deepep_rdma_bytes[0], 2 * fp8);
  EXPECT_DOUBLE_EQ(tr.deepep_rdma_bytes[1], 1 * fp8);
}

TEST(RoutingTraffic, DirectPathSendsEverySelection) {
  const auto pl = routing::Placement::contiguous(4, 4, 2);
  const int32_t experts[] = {1, 2, 3, 0, 1, 1, 2, 3, 0, 3, 2, 1};
  routing::TrafficBytes b;
  b.hidden = 128;
  const auto tr = routing::build_traffic(pl, experts, 4, 3, 1, b, routing::A2aPath::Direct);
  const double ll = b.dispatch_ll_per_token();
  EXPECT_DOUBLE_EQ(ll, 132 + 16);
  EXPECT_DOUBLE_EQ(tr.dispatch.ib_out[0], 2 * ll);  // experts 2 and 3, no forwarding
  EXPECT_DOUBLE_EQ(tr.dispatch.nvl_out[1], ll);     // expert 0; the two expert-1 picks are local
}

TEST(RoutingTraffic, PropertyNoTokenReachesMoreThanMNodes) {
  // Random configurations, popularities and biases; groups = nodes, M = topk_group. With the
  // contiguous layout and with hierarchical EPLB replicas, no token goes to more than M nodes.
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 24; ++trial) {
    const int nodes = std::uniform_int_distribution<int>(2, 8)(rng);
    const int gpus_per_node = std::uniform_int_distribution<int>(1, 4)(rng);
    const int per_gpu = std::uniform_int_distribution<int>(1, 3)(rng);
    const int G = nodes * gpus_per_node, E = G * per_gpu;
    dsv3::model::GateParams gate;
    gate.n_experts = E;
    gate.n_group = nodes;
    gate.topk_group = std::uniform_int_distribution<int>(1, std::min(4, nodes - 1))(rng);
    gate.top_k = std::uniform_int_distribution<int>(1, std::min(8, gate.topk_group * E / nodes))(rng);
    routing::RoutingSpec spec;
    spec.model = routing::PopularityKind::Dirichlet;
    spec.dirichlet_alpha = std::uniform_real_distribution<double>(0.1, 3)(rng);
    spec.seed = trial;
    const routing::PopularityModel pop(spec, 1, E);
    std::vector<float> bias(E);
    for (auto& x : bias) x = std::normal_distribution<float>(0, 0.2f)(rng);
    const int64_t per = 64;
    std::vector<int32_t> experts;
    routing::route_tokens(gate, pop.at(0), bias, trial, per * G, experts);
    routing::TrafficBytes b;
    b.hidden = 256;
    for (int layout = 0; layout < 2; ++layout) {
      routing::Placement pl;
      if (layout == 0) {
        pl = routing::Placement::contiguous(E, G, gpus_per_node);
      } else {
        const int slots = E + G;  // one redundant slot per GPU
        std::vector<double> w(E);
        for (int e = 0; e < E; ++e) w[e] = pop.at(0)[e];
        const auto r = routing::rebalance_experts({w}, slots, nodes, nodes, G);
        ASSERT_TRUE(r.hierarchical);
        pl = routing::Placement::from_phy2log(r.phy2log[0], E, G, gpus_per_node);
      }
      const auto tr = routing::build_traffic(pl, experts.data(), per * G, gate.top_k, per, b, routing::A2aPath::TwoHop);
      EXPECT_LE(tr.max_nodes_per_token, gate.topk_group) << "trial " << trial << " layout " << layout;
      // And per token, straight from the expert ids: at most M distinct groups (= nodes).
      for (int64_t t = 0; t < per * G; ++t) {
        std::set<int> g;
        for (int k = 0; k < gate.top_k; ++k) g.insert(experts[t * gate.top_k + k] / (E / nodes));
        ASSERT_LE(static_cast<int>(g.size()), gate.topk_group);
      }
    }
  }
}

TEST(RoutingLinkModel, SlowestPortAndSmBudget) {
  auto m = routing::LinkModel::load();
  routing::PortLoads p;
  p.resize(2);
  p.ib_out[0] = 44e6;   // 44 MB
  p.nvl_in[1] = 136e6;  // 136 MB
  const double ib = m.ib_GBps * 1e9 * m.ib_efficiency, nvl = m.nvlink_GBps * 1e9 * m.normal_nvlink_efficiency;
  const auto t = routing::comm_time(p, m, 20, false);
  EXPECT_NEAR(t.per_gpu_s[0], 44e6 / ib, 1e-12);
  EXPECT_NEAR(t.per_gpu_s[1], 136e6 / nvl, 1e-12);
  EXPECT_NEAR(t.seconds, std::max(44e6 / ib, 136e6 / nvl), 1e-12);
  // Half the saturating SM count: half the bandwidth.
  const auto half = routing::comm_time(p, m, 10, false);
  EXPECT_NEAR(half.seconds, 2 * t.seconds, 1e-12);
  // More SMs than needed do not help.
  EXPECT_NEAR(routing::comm_time(p, m, 40, false).seconds, t.seconds, 1e-12);
}
