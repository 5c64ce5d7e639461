// Balanced routing traffic and all-to-all time against hand calculations.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "sim/moe_traffic.hpp"

using namespace dsv3::sim;

namespace {
BalancedRouting v3_ep64(double tokens) {
  BalancedRouting r;
  r.ep = 64;
  r.gpus_per_node = 8;
  r.experts = 256;
  r.topk = 8;
  r.n_group = 8;
  r.topk_group = 4;
  r.tokens_per_rank = tokens;
  return r;
}
}  // namespace

TEST(MoeTraffic, NodeLimitedRoutingHitsFourOfEightNodes) {
  BalancedRouting r = v3_ep64(4096);
  // One group per node: 4 of 8 groups chosen, each with 2 experts -> the node is hit iff chosen.
  EXPECT_DOUBLE_EQ(balanced_node_hit_probability(r), 0.5);
  // A rank holds 4 of its group's 32 experts: P = 1/2 x (1 - C(28,2)/C(32,2)).
  double p = 0.5 * (1.0 - (28.0 * 27) / (32.0 * 31));
  EXPECT_DOUBLE_EQ(balanced_rank_hit_probability(r), p);
  EXPECT_NEAR(64 * p, 7.6, 0.05);  // facts §2.4: about 7.5 distinct GPUs per token
}

TEST(MoeTraffic, BalancedMatricesAndAllToAllTime) {
  const double T = 4096;
  MoeLayerTraffic t = balanced_moe_traffic(v3_ep64(T));
  EXPECT_EQ(t.local_experts, 4);
  EXPECT_DOUBLE_EQ(t.expert_rows[5], T * 8);
  // Rank 0 sends over IB only to ranks 8, 16, ..., 56 (same local index), T x 0.5 tokens each.
  EXPECT_DOUBLE_EQ(t.ib_tokens[0 * 64 + 8], T * 0.5);
  EXPECT_DOUBLE_EQ(t.ib_tokens[0 * 64 + 9], 0.0);
  EXPECT_DOUBLE_EQ(t.ib_tokens[0 * 64 + 1], 0.0);
  double p = balanced_rank_hit_probability(v3_ep64(T));
  EXPECT_DOUBLE_EQ(t.nvlink_tokens[0 * 64 + 1], T * p * 8);  // own copies + forwarded from 7 nodes
  const double bytes = 7168 * (1 + 4.0 / 128);             // 7392 B: DeepEP's FP8 token
  LinkModel links{40e9, 160e9, 0};
  A2ATime a = all_to_all_time(t, bytes, false, links);
  double ib = 7 * T * 0.5 * bytes;  // to the 7 other nodes
  EXPECT_NEAR(a.max_ib_bytes, ib, 1e-6);
  EXPECT_NEAR(a.ib_s, ib / 40e9, 1e-12);
  double nv = 7 * T * p * 8 * bytes;
  EXPECT_NEAR(a.nvlink_s, nv / 160e9, 1e-12);
  EXPECT_DOUBLE_EQ(a.seconds, std::max(a.ib_s, a.nvlink_s));
  // The combine moves the same copies back: same time with the same bytes per token.
  EXPECT_NEAR(all_to_all_time(t, bytes, true, links).seconds, a.seconds, 1e-12);
}

TEST(MoeTraffic, SkewedLoadsAreAccepted) {
  // The interface takes any per-rank load (the routing model feeds skewed ones).
  MoeLayerTraffic t = balanced_moe_traffic(v3_ep64(100));
  t.ib_tokens[0 * 64 + 8] *= 3;
  LinkModel links{40e9, 160e9, 1e-6};
  A2ATime base = all_to_all_time(balanced_moe_traffic(v3_ep64(100)), 1000, false, links);
  A2ATime skew = all_to_all_time(t, 1000, false, links);
  EXPECT_GT(skew.seconds, base.seconds);
  t.expert_rows.pop_back();
  EXPECT_THROW(validate(t), std::invalid_argument);
}

TEST(MoeTraffic, SingleNodeEpUsesOnlyNvlink) {
  BalancedRouting r = v3_ep64(1000);
  r.ep = 8;
  MoeLayerTraffic t = balanced_moe_traffic(r);
  LinkModel links{40e9, 160e9, 0};
  A2ATime a = all_to_all_time(t, 1000, false, links);
  EXPECT_EQ(a.total_ib_bytes, 0);
  EXPECT_GT(a.nvlink_s, 0);
}
