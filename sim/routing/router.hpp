#pragma once
// Token-level routing: router logits drawn from an expert popularity, then DeepSeek-V3's gate
// (model/moe_gate, the one implementation shared with the model) picks the experts.
//
// Logits: l[t,e] = G[t,e] + ln(p_e * E) - ln(E / k), with G standard Gumbel noise. Without a
// bias and a group limit, top-k of the logits is then exactly a draw of k experts without
// replacement with probability proportional to p (the Gumbel-top-k trick); the shift puts the
// top-k boundary near logit 0, where the sigmoid is steepest, so the correction bias moves
// choices the way it does in training. Group-limited choice and the bias act on top, exactly
// as in the model.
#include <cstdint>
#include <vector>

#include "model/moe_gate.hpp"

namespace dsv3::sim::routing {

// Logits for tokens [first_token, first_token + n_tokens) of stream `stream`.
// log_offset[e] = ln(p_e * E) - ln(E / k) (see logit_offsets). out: [n_tokens, E].
void draw_logits(const std::vector<float>& log_offset, uint64_t stream, int64_t first_token, int64_t n_tokens,
                 float* out);
std::vector<float> logit_offsets(const std::vector<double>& popularity, int top_k);

// Routes n_tokens tokens of `stream` through the gate. bias may be empty (no correction bias).
// experts: [n_tokens, top_k] expert ids.
void route_tokens(const model::GateParams& gate, const std::vector<double>& popularity, const std::vector<float>& bias,
                  uint64_t stream, int64_t n_tokens, std::vector<int32_t>& experts);

// Tokens per expert.
std::vector<int64_t> expert_counts(const int32_t* experts, int64_t n_assignments, int n_experts);
inline std::vector<int64_t> expert_counts(const std::vector<int32_t>& experts, int n_experts) {
  return expert_counts(experts.data(), static_cast<int64_t>(experts.size()), n_experts);
}

// MaxVio = max_i load_i / mean_i load_i - 1 (0 for perfect balance).
double max_vio(const std::vector<int64_t>& counts);
double max_vio(const std::vector<double>& loads);

}  // namespace dsv3::sim::routing
