// The shared gate (model/moe_gate) as the routing simulator uses it: its fast path must pick
// exactly what a plain full-sort reference picks, ties included, and group-limited routing must
// keep every token inside topk_group groups.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <limits>
#include <set>

#include "model/moe_gate.hpp"

using dsv3::model::GateParams;

namespace {

// Reference: the noaux_tc rule written as directly as possible (full sorts, no shortcuts).
std::vector<int> reference_route(const GateParams& p, const std::vector<float>& s, const std::vector<float>& b) {
  const int E = p.n_experts, G = p.n_group, per = E / G;
  std::vector<float> c(E);
  for (int e = 0; e < E; ++e) c[e] = s[e] + b[e];
  auto by_value = [](const std::vector<float>& v) {
    return [&v](int x, int y) { return v[x] > v[y] || (v[x] == v[y] && x < y); };
  };
  std::vector<char> keep(G, 1);
  if (G > 1 && p.topk_group < G) {
    std::vector<float> gs(G);
    for (int g = 0; g < G; ++g) {
      std::vector<float> v(c.begin() + g * per, c.begin() + (g + 1) * per);
      std::sort(v.rbegin(), v.rend());
      gs[g] = per >= 2 ? v[0] + v[1] : v[0];
    }
    std::vector<int> gi(G);
    std::iota(gi.begin(), gi.end(), 0);
    std::sort(gi.begin(), gi.end(), by_value(gs));
    std::fill(keep.begin(), keep.end(), 0);
    for (int i = 0; i < p.topk_group; ++i) keep[gi[i]] = 1;
  }
  std::vector<int> cand;
  for (int e = 0; e < E; ++e)
    if (keep[e / per]) cand.push_back(e);
  std::sort(cand.begin(), cand.end(), by_value(c));
  cand.resize(p.top_k);
  return cand;
}

}  // namespace

TEST(RoutingGate, FastPathMatchesFullSortReferenceWithTies) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    GateParams p;
    const int configs[4][4] = {{256, 8, 4, 8}, {64, 8, 3, 6}, {32, 4, 2, 4}, {160, 1, 1, 6}};
    const auto& c = configs[trial % 4];
    p.n_experts = c[0], p.n_group = c[1], p.topk_group = c[2], p.top_k = c[3];
    p.routed_scaling_factor = 2.5f;
    const int T = 200;
    // Quantised scores make ties common; the bias is quantised too.
    std::uniform_int_distribution<int> q(0, 12);
    std::vector<float> scores(T * p.n_experts), bias(p.n_experts);
    for (auto& x : scores) x = q(rng) / 12.0f;
    for (auto& x : bias) x = (q(rng) - 6) / 48.0f;
    std::vector<int32_t> experts(T * p.top_k);
    std::vector<float> weights(T * p.top_k);
    dsv3::model::route_tokens_from_scores(p, scores.data(), bias.data(), T, experts.data(), weights.data());
    for (int t = 0; t < T; ++t) {
      std::vector<float> s(scores.begin() + t * p.n_experts, scores.begin() + (t + 1) * p.n_experts);
      const auto ref = reference_route(p, s, bias);
      for (int k = 0; k < p.top_k; ++k) ASSERT_EQ(experts[t * p.top_k + k], ref[k]) << "trial " << trial << " token " << t;
    }
  }
}

TEST(RoutingGate, LogitsPathMatchesExactSigmoid) {
  // route_tokens computes the sigmoid with a fast exp; the weights agree with std::exp to float
  // precision, also for logits far out of range (which take std::exp).
  GateParams p;
  p.n_experts = 256, p.n_group = 8, p.topk_group = 4, p.top_k = 8, p.routed_scaling_factor = 2.5f;
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0, 3);
  const int T = 500;
  std::vector<float> logits(T * 256);
  for (auto& x : logits) x = n(rng);
  logits[17] = 1e6f;
  logits[300] = -std::numeric_limits<float>::infinity();
  std::vector<float> scores(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) scores[i] = 1.0f / (1.0f + std::exp(-logits[i]));
  std::vector<int32_t> e1(T * 8), e2(T * 8);
  std::vector<float> w1(T * 8), w2(T * 8);
  dsv3::model::route_tokens(p, logits.data(), nullptr, T, e1.data(), w1.data());
  dsv3::model::route_tokens_from_scores(p, scores.data(), nullptr, T, e2.data(), w2.data());
  int differ = 0;
  for (int i = 0; i < T * 8; ++i) {
    differ += e1[i] != e2[i];
    EXPECT_NEAR(w1[i], w2[i], 1e-5f);
  }
  EXPECT_LE(differ, 2);  // a 1-ulp sigmoid difference may at most swap a near-tie
}
