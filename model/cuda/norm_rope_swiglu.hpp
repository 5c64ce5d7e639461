#pragma once
// Per-token layer pieces of DeepSeek-V3 on the GPU: RMSNorm (optionally fused with the residual
// add), interleaved RoPE with YaRN frequencies, SwiGLU, embedding lookup. Activations are bf16,
// arithmetic fp32, one rounding to bf16 per stored result (HF's RMSNorm rounds the normalized value
// before the weight product; so does this one).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

namespace dsv3::model::cuda {

// y[t] = bf16(bf16(x[t] / rms(x[t])) * w), rows of length n (even), row strides ldx / ldy.
// With residual != nullptr: first x[t] = bf16(x[t] + residual[t]) is written back to x (the
// pre-norm residual stream, DeepSeek's h = x + attn(x)), then normalized.
void rmsnorm(__nv_bfloat16* x, int64_t ldx, const __nv_bfloat16* residual, int64_t ldr, const __nv_bfloat16* w,
             __nv_bfloat16* y, int64_t ldy, int64_t rows, int64_t n, float eps, cudaStream_t stream);
// The same without a residual: x is only read.
void rmsnorm(const __nv_bfloat16* x, int64_t ldx, const __nv_bfloat16* w, __nv_bfloat16* y, int64_t ldy, int64_t rows,
             int64_t n, float eps, cudaStream_t stream);

// RoPE frequencies (fp32) for rotary dim `dim`: plain theta^(-2i/dim), or YaRN-blended when factor > 1
// (floor/ceil correction range, as DeepSeek's reference and HF with truncate=true).
std::vector<float> yarn_inv_freq(int dim, double theta, double factor, int64_t original_max_positions,
                                 double beta_fast, double beta_slow);

// In place, interleaved pairs (x[2i], x[2i+1]) rotated by angle pos * inv_freq[i] (fp32 angle),
// on the 64-wide slice at `offset` of each of `heads` heads of each token:
// element (t, h, j) at x[t * ld_token + h * ld_head + offset + j]. positions: [tokens] int32 (device);
// inv_freq: [dim/2] fp32 (device); mscale multiplies cos and sin (1 for DeepSeek-V3).
void rope_interleaved(__nv_bfloat16* x, int64_t tokens, int heads, int64_t ld_token, int64_t ld_head, int offset,
                      int dim, const int32_t* positions, const float* inv_freq, float mscale, cudaStream_t stream);

// The same rotation out of place: element (t, h, j) of src's slices (strides src_ld_*, offset
// src_offset) rotated into dst's.
void rope_interleaved_to(const __nv_bfloat16* src, int64_t src_ld_token, int64_t src_ld_head, int src_offset,
                         __nv_bfloat16* dst, int64_t dst_ld_token, int64_t dst_ld_head, int dst_offset, int64_t tokens,
                         int heads, int dim, const int32_t* positions, const float* inv_freq, float mscale,
                         cudaStream_t stream);

// MLA's new latent rows in one pass: for each token t, x[t * ld] = [c (R) | k_pe (P)] becomes
// [rmsnorm(c) * norm_w | RoPE(k_pe)] (the same roundings as rmsnorm and rope_interleaved), in place
// and in the cache row cache + (row_slot[t] * slot_stride + positions[t]) * (R + P).
void latent_to_cache(__nv_bfloat16* x, int64_t ld, int64_t tokens, int R, int P, const __nv_bfloat16* norm_w, float eps,
                     const int32_t* positions, const float* inv_freq, float mscale, __nv_bfloat16* cache,
                     int64_t slot_stride, const int32_t* row_slot, cudaStream_t stream);

// out[t, i] = bf16(silu(gu[t, i]) * gu[t, I + i]): gate and up halves of one [tokens, 2I] GEMM output.
void swiglu(const __nv_bfloat16* gu, int64_t tokens, int64_t inter, __nv_bfloat16* out, cudaStream_t stream);

// out[t] = table[ids[t]], rows of length n.
void embedding(const __nv_bfloat16* table, const int32_t* ids, int64_t tokens, int64_t n, __nv_bfloat16* out,
               cudaStream_t stream);

}  // namespace dsv3::model::cuda
