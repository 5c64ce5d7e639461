#pragma once
// The DeepSeekMoE router, one implementation shared by the model (model/) and the routing
// simulator (sim/).
//
// noaux_tc (DeepSeek-V3): s = sigmoid(logits); choice scores s + bias (the bias chooses only);
// experts form n_group contiguous groups, a group scores the sum of its top-2 choice scores,
// the topk_group best groups stay; top-k experts among them by choice score; weights are the
// unbiased s of those experts, normalised to sum 1 (norm_topk_prob), times routed_scaling_factor.
// greedy / group_limited_greedy (DeepSeek-V2): softmax scores, group score = max.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"

namespace dsv3::model {

struct GateParams {
  int n_experts = 0;
  int n_group = 1;
  int topk_group = 1;
  int top_k = 0;
  bool sigmoid = true;         // scoring_func: sigmoid (V3) or softmax (V2)
  std::string method = "noaux_tc";
  bool norm_topk_prob = true;
  float routed_scaling_factor = 1.0f;

  static GateParams from_config(const ModelConfig& c);
};

// Routes tokens. logits: [n_tokens, n_experts] router logits (pre-activation), row-major.
// bias: [n_experts] e_score_correction_bias, or nullptr. Writes experts [n_tokens, top_k]
// (in descending choice-score order; ties go to the lower expert index) and weights
// [n_tokens, top_k]. Thread-safe; scratch is per call.
void route_tokens(const GateParams& p, const float* logits, const float* bias, int64_t n_tokens,
                  int32_t* experts, float* weights);

// The same, for scores already through the scoring function (sigmoid/softmax affinities).
void route_tokens_from_scores(const GateParams& p, const float* scores, const float* bias, int64_t n_tokens,
                              int32_t* experts, float* weights);

}  // namespace dsv3::model
