#include "model/moe_gate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "model/errors.hpp"

namespace dsv3::model {

GateParams GateParams::from_config(const ModelConfig& c) {
  GateParams p;
  p.n_experts = static_cast<int>(c.n_routed_experts);
  p.n_group = static_cast<int>(c.n_group);
  p.topk_group = static_cast<int>(c.topk_group);
  p.top_k = static_cast<int>(c.num_experts_per_tok);
  p.sigmoid = c.scoring_func == "sigmoid";
  p.method = c.topk_method;
  p.norm_topk_prob = c.norm_topk_prob;
  p.routed_scaling_factor = static_cast<float>(c.routed_scaling_factor);
  return p;
}

namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// Indices of the k largest values of v[0..n), descending, ties to the lower index.
void top_k_indices(const float* v, int n, int k, int* out, int* scratch) {
  std::iota(scratch, scratch + n, 0);
  std::partial_sort(scratch, scratch + k, scratch + n, [v](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  std::copy(scratch, scratch + k, out);
}

void route_one(const GateParams& p, const float* scores, const float* bias, int32_t* experts, float* weights,
               std::vector<float>& choice, std::vector<float>& group_score, std::vector<int>& idx,
               std::vector<int>& scratch) {
  const int E = p.n_experts, G = p.n_group, per = E / G;
  for (int e = 0; e < E; ++e) choice[e] = scores[e] + (bias ? bias[e] : 0.0f);

  const bool grouped = (p.method == "noaux_tc" || p.method == "group_limited_greedy") && G > 1 && p.topk_group < G;
  if (grouped) {
    for (int g = 0; g < G; ++g) {
      const float* c = choice.data() + g * per;
      if (p.method == "noaux_tc") {
        // Sum of the top-2 choice scores of the group.
        float a = kMasked, b = kMasked;
        for (int i = 0; i < per; ++i) {
          if (c[i] > a) {
            b = a;
            a = c[i];
          } else if (c[i] > b) {
            b = c[i];
          }
        }
        group_score[g] = per >= 2 ? a + b : a;
      } else {
        group_score[g] = *std::max_element(c, c + per);
      }
    }
    top_k_indices(group_score.data(), G, p.topk_group, idx.data(), scratch.data());
    std::vector<char> keep(G, 0);
    for (int i = 0; i < p.topk_group; ++i) keep[idx[i]] = 1;
    for (int g = 0; g < G; ++g)
      if (!keep[g]) std::fill(choice.begin() + g * per, choice.begin() + (g + 1) * per, kMasked);
  }
  top_k_indices(choice.data(), E, p.top_k, idx.data(), scratch.data());
  double sum = 0;
  for (int i = 0; i < p.top_k; ++i) {
    experts[i] = idx[i];
    weights[i] = scores[idx[i]];
    sum += weights[i];
  }
  const bool normalise = p.norm_topk_prob && p.top_k > 1;
  for (int i = 0; i < p.top_k; ++i) {
    double w = weights[i];
    if (normalise) w /= (sum + 1e-20);
    weights[i] = static_cast<float>(w * p.routed_scaling_factor);
  }
}

void check(const GateParams& p) {
  if (p.n_experts <= 0 || p.top_k <= 0 || p.top_k > p.n_experts || p.n_group <= 0 || p.n_experts % p.n_group ||
      p.topk_group <= 0 || p.topk_group > p.n_group)
    throw InputError("router: inconsistent gate parameters (experts, groups, top-k)");
}

}  // namespace

void route_tokens_from_scores(const GateParams& p, const float* scores, const float* bias, int64_t n_tokens,
                              int32_t* experts, float* weights) {
  check(p);
  std::vector<float> choice(p.n_experts), group_score(p.n_group);
  std::vector<int> idx(std::max(p.n_experts, p.n_group)), scratch(std::max(p.n_experts, p.n_group));
  for (int64_t t = 0; t < n_tokens; ++t)
    route_one(p, scores + t * p.n_experts, bias, experts + t * p.top_k, weights + t * p.top_k, choice, group_score, idx,
              scratch);
}

void route_tokens(const GateParams& p, const float* logits, const float* bias, int64_t n_tokens, int32_t* experts,
                  float* weights) {
  check(p);
  std::vector<float> scores(p.n_experts), choice(p.n_experts), group_score(p.n_group);
  std::vector<int> idx(std::max(p.n_experts, p.n_group)), scratch(std::max(p.n_experts, p.n_group));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* l = logits + t * p.n_experts;
    if (p.sigmoid) {
      for (int e = 0; e < p.n_experts; ++e) scores[e] = 1.0f / (1.0f + std::exp(-l[e]));
    } else {
      float m = *std::max_element(l, l + p.n_experts);
      double z = 0;
      for (int e = 0; e < p.n_experts; ++e) z += std::exp(static_cast<double>(l[e] - m));
      for (int e = 0; e < p.n_experts; ++e) scores[e] = static_cast<float>(std::exp(static_cast<double>(l[e] - m)) / z);
    }
    route_one(p, scores.data(), bias, experts + t * p.top_k, weights + t * p.top_k, choice, group_score, idx, scratch);
  }
}

}  // namespace dsv3::model
