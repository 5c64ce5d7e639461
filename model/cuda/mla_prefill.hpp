#pragma once
// MLA prefill attention, FlashAttention-2 style, in the non-absorbed (MHA) form: per head
// Q = [q_nope (128) | RoPE(q_pe) (64)], K = [k_nope (128) | RoPE(k_pe) (64), shared by all heads],
// V (128); causal within each sequence; sequences packed back to back (cu_seqlens).
// Strided inputs let the kernel read the projection outputs in place: q_b_proj's [T, heads*192],
// kv_b_proj's [T, heads*(128+128)] (k_nope | v per head) and kv_a's rope part.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

struct MlaPrefillArgs {
  const __nv_bfloat16* q = nullptr;  // (t, h, j<192) at q[t*q_ld + h*q_hs + j]
  int64_t q_ld = 0, q_hs = 0;
  const __nv_bfloat16* k_nope = nullptr;  // (t, h, j<128)
  int64_t kn_ld = 0, kn_hs = 0;
  const __nv_bfloat16* k_rope = nullptr;  // (t, j<64), one per token
  int64_t kr_ld = 0;
  const __nv_bfloat16* v = nullptr;  // (t, h, j<128)
  int64_t v_ld = 0, v_hs = 0;
  __nv_bfloat16* out = nullptr;  // (t, h, j<128) at out[t*o_ld + h*128 + j]
  int64_t o_ld = 0;
  const int32_t* cu_seqlens = nullptr;  // [n_seqs + 1] (device)
  int n_seqs = 0, max_len = 0, heads = 0;
  float softmax_scale = 0.f;
};

void mla_prefill(const MlaPrefillArgs& a, cudaStream_t stream);

}  // namespace dsv3::model::cuda
