#pragma once
// DeepSeekMoE on the GPU: the router (same semantics as model/moe_gate.hpp: sigmoid or softmax
// scores, bias for choosing only, group-limited top-k, normalised and scaled weights), the token
// permutation by expert, the expert FFNs, and the weighted combine with the shared expert (computed
// by the caller, possibly on another stream) and the residual.
//
// Two ways through the experts:
// - decode-sized batches (tokens x top_k <= kMoeSmallBatchRows) with BF16 experts and device
//   pointer tables: one kernel routes and assigns slots, two grouped kernels stream every active
//   expert's weights once (gate_up with SwiGLU, then down; at one token the down kernel also
//   combines); no host synchronisation, so the pass can be captured in a CUDA graph;
// - otherwise (prefill, FP8 experts): the rows are permuted, the per-expert counts come to the host
//   (one synchronisation), and each non-empty expert runs cuBLASLt GEMMs (BF16, or FP8 with
//   DeepSeek's block scales), spread over side streams when given.
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
  // Optional, BF16: all experts in one buffer each (expert e's gate_up at gate_up_all + e * 2I * H
  // elements, down at down_all + e * H * I). With them, large batches run the experts as two
  // strided-batched GEMMs over rows padded to the busiest expert's count (when that wastes at most
  // half the rows), else as cuBLAS grouped GEMMs.
  const void* gate_up_all = nullptr;
  const void* down_all = nullptr;
};

// Routed rows (tokens x top_k) at or below which the grouped small-batch kernel is used.
constexpr int64_t kMoeSmallBatchRows = 512;

// Side streams for the per-expert GEMMs of large batches: the k-th non-empty expert runs on
// streams[k % n] (forked from and joined back to the caller's stream with events).
struct ExpertStreams {
  explicit ExpertStreams(int n);
  ~ExpertStreams();
  ExpertStreams(const ExpertStreams&) = delete;
  ExpertStreams& operator=(const ExpertStreams&) = delete;
  std::vector<cudaStream_t> streams;
  std::vector<cudaEvent_t> done;
  cudaEvent_t start = nullptr;
};

struct MoeExtras {
  const ExpertStreams* streams = nullptr;  // side streams for the per-expert GEMMs (or none)
  cudaEvent_t shared_ready = nullptr;      // the caller's stream waits for it before reading `shared`
};

// Whether the MoE pass for `tokens` tokens runs without host synchronisation (capturable).
bool moe_graph_safe(const ExpertWeights& w, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter);

// Scratch the routed-expert pass needs for `tokens` tokens (bytes, one cudaMalloc by the caller).
size_t moe_scratch_bytes(int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter);

// y = combine: out[t] = bf16(residual[t] + bf16(bf16(sum_k w[t,k] * expert_k(x[t])) + shared[t])).
// x: [tokens, H] (the normalized input), shared: [tokens, H] shared-expert output or nullptr,
// residual: [tokens, H] or nullptr; out may alias residual. Outside the small-batch path, copies the
// per-expert row counts to the host (one synchronisation) to size the GEMMs.
void moe_routed_experts(Gemm& gemm, const ExpertWeights& w, const __nv_bfloat16* x, const int32_t* experts,
                        const float* weights, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter,
                        const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out, void* scratch,
                        cudaStream_t stream, const MoeExtras& extras = {});

// Router and experts together: routes `tokens` rows of router logits (writing experts/weights,
// [tokens, top_k] each) and runs moe_routed_experts; in the small-batch path routing and slot
// assignment are one kernel.
void moe_forward(Gemm& gemm, const RouterParams& p, const float* logits, const float* bias, const ExpertWeights& w,
                 const __nv_bfloat16* x, int64_t tokens, int64_t hidden, int64_t inter, int32_t* experts,
                 float* weights, const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out,
                 void* scratch, cudaStream_t stream, const MoeExtras& extras = {});

}  // namespace dsv3::model::cuda
