#pragma once
// The DeepSeek-V3 layers on the CPU, one plain function each, FP32 compute (the CPU
// backend strings them together; tests call them one by one).
//
//   rms_norm      y = w * x / sqrt(mean(x^2) + eps)
//   mla           multi-head latent attention over the latent KV cache (absorbed or naive)
//   mlp           SwiGLU: down(silu(gate x) * up x) (dense layers, experts, shared experts)
//   moe           router (model/moe_gate) -> routed experts weighted -> + shared experts
//   decoder_layer pre-norm residual block: x += mla(norm(x)); x += ffn(norm(x))
#include <cstdint>
#include <vector>

#include "model/backend.hpp"
#include "model/config.hpp"
#include "model/kv_cache.hpp"
#include "model/rope.hpp"
#include "model/thread_pool.hpp"
#include "model/weights.hpp"

namespace dsv3::model {

struct CpuContext {
  const ModelConfig* config = nullptr;
  const Rope* rope = nullptr;
  ThreadPool* pool = nullptr;
};

// A batch of new tokens: sequences occupy contiguous row ranges; sequence s has rows
// [offset, offset + count), at positions start .. start + count - 1 of cache slot `slot`.
struct BatchLayout {
  struct Seq {
    int slot = 0;
    int64_t offset = 0, count = 0, start = 0;
  };
  std::vector<Seq> seqs;
  int64_t rows = 0;
};

void rms_norm(const float* x, int64_t n, int64_t dim, const std::vector<float>& w, double eps, float* y);

// y[n, H] = MLA(x[n, H]); writes the new tokens' latent rows into cache layer `layer`.
void mla(const CpuContext& ctx, const AttentionWeights& w, const float* x, const BatchLayout& b,
         LatentKvCache& cache, int64_t layer, AttentionPath path, float* y);

void mlp(const CpuContext& ctx, const MlpWeights& w, const float* x, int64_t n, float* y, bool parallel = true);

void moe(const CpuContext& ctx, const MoeWeights& w, const float* x, int64_t n, float* y);

// x[n, H] in place.
void decoder_layer(const CpuContext& ctx, const LayerWeights& w, float* x, const BatchLayout& b,
                   LatentKvCache& cache, int64_t layer, AttentionPath path);

}  // namespace dsv3::model
