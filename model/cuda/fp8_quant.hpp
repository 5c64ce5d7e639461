#pragma once
// FP8 e4m3 quantization in DeepSeek-V3's recipe.
//  - activations: one fp32 scale per 1x128 group along K, s = max(amax, 1e-4) / 448, y = e4m3(x / s);
//    scales are written in the layout cuBLASLt's VEC128_32F mode reads (measured on cuBLAS 13.1,
//    H200): for an [M, K] operand, scale(m, kb) at kb * Mp + m with Mp = M rounded up to a multiple
//    of 4 (M-major, padded). With segments (MoE: rows grouped by expert, one GEMM per segment)
//    segment s = rows [o_s, o_{s+1}) gets its own padded M-major block at act_scale_segment_base.
//  - weights: one fp32 scale per 128x128 tile, row-major [ceil(N/128), ceil(K/128)], the checkpoint's
//    weight_scale_inv layout (dequantized value = e4m3 * scale). cuBLASLt's BLK128x128_32F reads
//    rows of ceil(K/128) rounded up to a multiple of 4: the GEMM rejects other K (DeepSeek-V3's K are
//    all multiples of 512).
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

constexpr float kFp8E4m3Max = 448.0f;

// Rows of the activation-scale layout for M rows (M rounded up to a multiple of 4).
__host__ __device__ constexpr int64_t act_scale_rows(int64_t M) { return (M + 3) / 4 * 4; }
// Start of segment s (first row o_s) in a segmented activation-scale buffer; the whole buffer holds
// (total_rows + 3 * n_segs) * K/128 floats.
__host__ __device__ constexpr int64_t act_scale_segment_base(int64_t o_s, int64_t s, int64_t k_blocks) {
  return (o_s + 3 * s) * k_blocks;
}

// x: [M, K] bf16 with row stride ldx (elements); K % 128 == 0. q: [M, K] e4m3 (row stride K).
// scales: act_scale_rows(M) * K/128 floats (or the segmented size above).
// seg_offsets: nullptr (one segment of M rows) or n_segs+1 row offsets on the device.
// ue8m0: round each scale up to a power of two (DeepSeek-V3.1's scale_fmt).
void quantize_act_1x128(const __nv_bfloat16* x, int64_t ldx, int64_t M, int64_t K, __nv_fp8_e4m3* q, float* scales,
                        const int32_t* seg_offsets, int n_segs, bool ue8m0, cudaStream_t stream);

// w: [N, K] float (row-major) -> q [N, K] e4m3 and scales [ceil(N/128), ceil(K/128)] row-major.
void quantize_weight_128x128(const float* w, int64_t N, int64_t K, __nv_fp8_e4m3* q, float* scales,
                             cudaStream_t stream);

// Inverse of quantize_weight_128x128, to bf16 (W8A16 path): w[n, k] = q[n, k] * scales[n/128, k/128].
void dequantize_weight_128x128(const __nv_fp8_e4m3* q, const float* scales, int64_t N, int64_t K, __nv_bfloat16* w,
                               cudaStream_t stream);

}  // namespace dsv3::model::cuda
