#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "model/moe_gate.hpp"

using dsv3::model::GateParams;
using dsv3::model::route_tokens;
using dsv3::model::route_tokens_from_scores;

namespace {
GateParams v3_like(int experts = 16, int groups = 4, int topk_group = 2, int top_k = 4) {
  GateParams p;
  p.n_experts = experts;
  p.n_group = groups;
  p.topk_group = topk_group;
  p.top_k = top_k;
  p.routed_scaling_factor = 2.5f;
  return p;
}
}  // namespace

TEST(MoeGate, HandWorkedExample) {
  // 8 experts in 4 groups of 2, keep 2 groups, top-2. Scores chosen so the bias flips the choice.
  GateParams p = v3_like(8, 4, 2, 2);
  float s[8] = {0.9f, 0.1f, 0.5f, 0.5f, 0.2f, 0.2f, 0.8f, 0.0f};
  // group sums (top-2 of 2): g0=1.0, g1=1.0, g2=0.4, g3=0.8 -> keep g0, g1 (tie to lower index).
  int32_t e[2];
  float w[2];
  route_tokens_from_scores(p, s, nullptr, 1, e, w);
  EXPECT_EQ(e[0], 0);
  EXPECT_EQ(e[1], 2);  // 0.5 tie between 2 and 3 -> lower index
  EXPECT_NEAR(w[0], 2.5 * 0.9 / 1.4, 1e-6);
  EXPECT_NEAR(w[1], 2.5 * 0.5 / 1.4, 1e-6);

  // Bias +0.5 on expert 6 lifts group 3 to 1.3: groups g3, then g0/g1 tie -> g0.
  float bias[8] = {0, 0, 0, 0, 0, 0, 0.5f, 0};
  route_tokens_from_scores(p, s, bias, 1, e, w);
  EXPECT_EQ(e[0], 6);  // choice score 1.3
  EXPECT_EQ(e[1], 0);
  // Weights use the unbiased scores.
  EXPECT_NEAR(w[0], 2.5 * 0.8 / 1.7, 1e-6);
  EXPECT_NEAR(w[1], 2.5 * 0.9 / 1.7, 1e-6);
}

TEST(MoeGate, SigmoidOfLogits) {
  GateParams p = v3_like(8, 1, 1, 1);
  p.routed_scaling_factor = 1.0f;
  p.norm_topk_prob = false;
  float l[8] = {0, 1, 2, 3, -1, -2, 0.5f, 2.9f};
  int32_t e;
  float w;
  route_tokens(p, l, nullptr, 1, &e, &w);
  EXPECT_EQ(e, 3);
  EXPECT_NEAR(w, 1.0 / (1.0 + std::exp(-3.0)), 1e-6);
}

TEST(MoeGate, NeverLeavesTheChosenGroups) {
  // Property: every token's experts lie in at most topk_group groups.
  GateParams p = v3_like(256, 8, 4, 8);
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0, 1);
  const int T = 2000;
  std::vector<float> logits(T * 256), bias(256);
  for (auto& x : logits) x = n(rng);
  for (auto& x : bias) x = 0.1f * n(rng);
  std::vector<int32_t> e(T * 8);
  std::vector<float> w(T * 8);
  route_tokens(p, logits.data(), bias.data(), T, e.data(), w.data());
  for (int t = 0; t < T; ++t) {
    std::set<int> groups, experts;
    double sum = 0;
    for (int k = 0; k < 8; ++k) {
      groups.insert(e[t * 8 + k] / 32);
      experts.insert(e[t * 8 + k]);
      sum += w[t * 8 + k];
    }
    EXPECT_LE(groups.size(), 4u);
    EXPECT_EQ(experts.size(), 8u);
    EXPECT_NEAR(sum, 2.5, 1e-4);
  }
}
