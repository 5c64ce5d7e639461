#pragma once
// MLA attention in the absorbed form for any head dimensions (the general path of the CUDA
// backend; mla_decode / mla_prefill are the fast paths for DeepSeek-V3's 512/64/128 shapes):
// per query row and head, scores against the cached latent rows [c_n (R) | RoPE(k_pe) (P)],
// causal up to the row's position, softmax, and the softmax-weighted sum of the latents c_n.
// One block per (row, head), scores in shared memory: simple, for small models and odd shapes.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

struct LatentAttentionArgs {
  const __nv_bfloat16* q = nullptr;  // [rows, heads, R + P]: absorbed query | RoPE'd query
  const __nv_bfloat16* cache = nullptr;  // the layer's rows; row of (slot, pos) at (slot * slot_stride + pos)
  int64_t slot_stride = 0;               // rows per slot
  const int32_t* row_slot = nullptr;     // [rows] (device)
  const int32_t* row_pos = nullptr;      // [rows] position of the query: keys 0..pos (device)
  __nv_bfloat16* out = nullptr;          // [rows, heads, R]
  int64_t rows = 0;
  int heads = 0, R = 0, P = 0;
  int max_keys = 0;  // 1 + the largest position (host): sizes shared memory
  float softmax_scale = 0.f;
};

void mla_latent_attention(const LatentAttentionArgs& a, cudaStream_t stream);

}  // namespace dsv3::model::cuda

namespace dsv3::model::cuda {

// Writes rows [rows, width] of src (row stride ld_src) into the latent cache: row r goes to
// cache + (row_slot[r] * slot_stride + row_pos[r]) * width.
void write_latent_cache(const __nv_bfloat16* src, int64_t ld_src, int64_t rows, int width, __nv_bfloat16* cache,
                        int64_t slot_stride, const int32_t* row_slot, const int32_t* row_pos, cudaStream_t stream);

}  // namespace dsv3::model::cuda
