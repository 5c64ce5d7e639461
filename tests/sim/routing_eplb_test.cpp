// EPLB: the deepseek-ai/EPLB README example reproduced exactly, and properties of both policies.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <random>

#include "model/errors.hpp"
#include "sim/routing/eplb.hpp"

namespace routing = dsv3::sim::routing;

namespace {
// The README example (github.com/deepseek-ai/EPLB): 2 layers, 12 experts, 16 replicas,
// 4 groups, 2 nodes, 8 GPUs.
const routing::LoadMatrix kReadmeWeight = {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
                                           {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}};
}  // namespace

TEST(RoutingEplb, ReadmeExamplePhy2LogExact) {
  const auto r = routing::rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  EXPECT_TRUE(r.hierarchical);
  const std::vector<std::vector<int>> expected = {{5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
                                                  {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};
  EXPECT_EQ(r.phy2log, expected);
}

TEST(RoutingEplb, ReadmeExampleLoadsAndInverseMaps) {
  const auto r = routing::rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  const auto loads = routing::gpu_loads(r, kReadmeWeight);
  const std::vector<double> l0 = {121.5, 86.5, 125, 113, 147.5, 131.5, 156, 152};
  const std::vector<double> l1 = {173, 179.5, 120.5, 172, 123, 152, 118.5, 117.5};
  for (int g = 0; g < 8; ++g) {
    EXPECT_DOUBLE_EQ(loads[0][g], l0[g]);
    EXPECT_DOUBLE_EQ(loads[1][g], l1[g]);
  }
  EXPECT_NEAR(routing::max_over_mean(loads[0]), 156 / 129.125, 1e-12);
  EXPECT_NEAR(routing::max_over_mean(loads[1]), 179.5 / 144.5, 1e-12);
  // log2phy is the inverse of phy2log; logcnt counts the replicas.
  for (int l = 0; l < 2; ++l) {
    int total = 0;
    for (int e = 0; e < 12; ++e) {
      total += r.logcnt[l][e];
      for (int k = 0; k < r.logcnt[l][e]; ++k) EXPECT_EQ(r.phy2log[l][r.log2phy[l][e][k]], e);
      for (size_t k = r.logcnt[l][e]; k < r.log2phy[l][e].size(); ++k) EXPECT_EQ(r.log2phy[l][e][k], -1);
    }
    EXPECT_EQ(total, 16);
  }
}

TEST(RoutingEplb, BalancingLowersMaxOverMean) {
  const auto r = routing::rebalance_experts(kReadmeWeight, 16, 4, 2, 8);
  const auto before = routing::contiguous_gpu_loads({kReadmeWeight[0]}, 4);  // 12 experts, 3 per GPU
  EXPECT_GT(routing::max_over_mean(before[0]), routing::max_over_mean(routing::gpu_loads(r, kReadmeWeight)[0]));
}

TEST(RoutingEplb, HierarchicalKeepsGroupsInsideNodes) {
  // Property over random loads: with the hierarchical policy every replica of a group's experts
  // sits on the node the group was packed to, so group-limited routing stays node-limited.
  std::mt19937 rng(3);
  std::gamma_distribution<double> gam(0.5, 1.0);
  for (int trial = 0; trial < 20; ++trial) {
    routing::LoadMatrix w(3, std::vector<double>(64));
    for (auto& row : w)
      for (auto& x : row) x = 1000 * gam(rng);
    const int groups = 8, nodes = 4, gpus = 16, replicas = 80;
    const auto r = routing::rebalance_experts(w, replicas, groups, nodes, gpus);
    ASSERT_TRUE(r.hierarchical);
    const int per_node = replicas / nodes;
    for (int l = 0; l < 3; ++l) {
      std::map<int, std::set<int>> group_nodes;
      for (int p = 0; p < replicas; ++p) group_nodes[r.phy2log[l][p] / (64 / groups)].insert(p / per_node);
      for (auto& [g, ns] : group_nodes) EXPECT_EQ(ns.size(), 1u) << "group " << g;
      // Every expert has at least one replica and the counts add up.
      int total = 0;
      for (int c : r.logcnt[l]) {
        EXPECT_GE(c, 1);
        total += c;
      }
      EXPECT_EQ(total, replicas);
      // Every GPU holds the same number of slots by construction; the balance does not get worse.
      EXPECT_LE(routing::max_over_mean(routing::gpu_loads(r, w)[l]),
                routing::max_over_mean(routing::contiguous_gpu_loads({w[l]}, gpus)[0]) + 1e-9);
    }
  }
}

TEST(RoutingEplb, GlobalPolicyWhenGroupsDoNotDivideNodes) {
  const auto r = routing::rebalance_experts(kReadmeWeight, 16, 3, 2, 8);  // 3 % 2 != 0
  EXPECT_FALSE(r.hierarchical);
  int total = 0;
  for (int c : r.logcnt[0]) total += c;
  EXPECT_EQ(total, 16);
  // The hottest expert (10, load 183) gets a second replica first.
  EXPECT_GE(r.logcnt[0][10], 2);
}

TEST(RoutingEplb, BadSizesAreInputErrors) {
  EXPECT_THROW(routing::rebalance_experts(kReadmeWeight, 15, 4, 2, 8), dsv3::InputError);  // 15 % 8
  EXPECT_THROW(routing::rebalance_experts(kReadmeWeight, 8, 4, 2, 8), dsv3::InputError);   // fewer than experts
  EXPECT_THROW(routing::rebalance_experts(kReadmeWeight, 16, 5, 2, 8), dsv3::InputError);  // 12 % 5
  EXPECT_THROW(routing::rebalance_experts(kReadmeWeight, 16, 4, 3, 8), dsv3::InputError);  // 8 % 3
  EXPECT_THROW(routing::rebalance_experts({}, 16, 4, 2, 8), dsv3::InputError);
}
