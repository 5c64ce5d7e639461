#pragma once
// DeepSeekMoE on the GPU: the router (same semantics as model/moe_gate.hpp: sigmoid or softmax
// scores, bias for choosing only, group-limited top-k, normalised and scaled weights), the token
// permutation by expert, the expert FFNs as one cuBLASLt GEMM per non-empty expert (BF16, or FP8
// with DeepSeek block scales), and the weighted combine with the shared expert and the residual.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "model/cuda/gemm.hpp"

namespace dsv3::model::cuda {

struct RouterParams {
  int n_experts = 0, n_group = 1, topk_group = 1, top_k = 0;
  bool sigmoid = true;
  int method = 0;  // 0 noaux_tc (top-2-sum group score), 1 group_limited_greedy (max), 2 greedy (no groups)
  bool norm_topk_prob = true;
  float routed_scaling_factor = 1.0f;
};
constexpr int kMaxRouterExperts = 256;

// logits: [tokens, E] fp32 (router GEMM output); bias: [E] fp32 or nullptr. Writes experts
// [tokens, top_k] (descending choice score, ties to the lower index) and weights [tokens, top_k].
void route(const RouterParams& p, const float* logits, const float* bias, int64_t tokens, int32_t* experts,
           float* weights, cudaStream_t stream);

// The expert weights of one MoE layer, device pointers per expert. gate_up: [2I, H] (gate rows then
// up rows), down: [H, I]. For FP8, *_scales are the 128x128 block scales; null for BF16.
struct ExpertWeights {
  std::vector<const void*> gate_up, down;
  std::vector<const float*> gate_up_scales, down_scales;
  bool fp8 = false;
  // Optional: the same gate_up / down pointers in device memory ([n_experts] each). With them, BF16
  // experts and few routed rows (decode) take the grouped small-batch kernel: no host
  // synchronisation, every active expert's weights read once.
  const void* const* d_gate_up = nullptr;
  const void* const* d_down = nullptr;
};

// Routed rows (tokens x top_k) at or below which the grouped small-batch kernel is used.
constexpr int64_t kMoeSmallBatchRows = 512;

// Scratch the routed-expert pass needs for `tokens` tokens (bytes, one cudaMalloc by the caller).
size_t moe_scratch_bytes(int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter);

// y = combine: out[t] = bf16(residual[t] + bf16(bf16(sum_k w[t,k] * expert_k(x[t])) + shared[t])).
// x: [tokens, H] (the normalized input), shared: [tokens, H] shared-expert output or nullptr,
// residual: [tokens, H] or nullptr; out may alias residual. Copies the per-expert row counts to
// the host (one synchronisation) to size the GEMMs.
void moe_routed_experts(Gemm& gemm, const ExpertWeights& w, const __nv_bfloat16* x, const int32_t* experts,
                        const float* weights, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter,
                        const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out, void* scratch,
                        cudaStream_t stream);

}  // namespace dsv3::model::cuda
