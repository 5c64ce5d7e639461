#pragma once
// Our own FP8 block-scaled GEMM for few activation rows (M <= 128: decode and small batches), in
// the model's orientation D[M, N] = X[M, K] · W[N, K]^T (+ beta · D), with DeepSeek's scaling: X
// e4m3 with 1x128 scales in fp8_quant.hpp's padded M-major layout, W e4m3 with 128x128 scales.
//
// Each CTA (one warpgroup) owns 64 weight rows and every activation row (up to 128, the wgmma N);
// the K range may be split over several CTAs. Weight and activation tiles of 128 along K stream
// through a 4-stage cp.async pipeline into shared memory in wgmma's 128-byte swizzle; per 128-K
// block four wgmma m64nBMk32 (Hopper, sm_90a) give a fresh fp32 partial that is folded into the
// fp32 accumulator with that block's two scales (DeepSeek's promotion: no tensor-core sum spans more
// than 128 of K). Measured (bench/cuda/NOTES.md, v5): faster than cuBLASLt at decode sizes (M <= 8,
// up to 3.5 TB/s of weights), slower at M = 64/128 (activation tiles re-read from L2 by every CTA,
// one serial wgmma-wait-promote step per 128-K tile); a first version on mma.sync m16n8k32 e4m3
// ran 2-6x slower still (Hopper's legacy FP8 mma is far below wgmma's rate). With a split K each CTA
// writes its fp32 partial and the last CTA of a tile to finish adds them in split order
// (deterministic) and writes D; its counter goes back to zero for the next call.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace dsv3::model::cuda {

constexpr int kFp8SkinnyMaxRows = 128, kFp8SkinnyTileN = 64;

struct Fp8SkinnyArgs {
  const __nv_fp8_e4m3* X = nullptr;  // [M, K], row stride K
  const float* x_scales = nullptr;   // act_scale_rows(M) * K/128, M-major
  const __nv_fp8_e4m3* W = nullptr;  // [N, K]
  const float* w_scales = nullptr;   // [ceil(N/128), K/128]
  __nv_bfloat16* D = nullptr;        // [M, ldd]
  int64_t ldd = 0;
  int M = 0;
  int64_t N = 0, K = 0;
  float beta = 0.f;
  int splits = 0;  // 0: chosen from the GPU size
};

// Whether the kernel takes the shape: 1 <= M <= 128, N a multiple of 64, K of 128, on sm_90 (Hopper).
bool fp8_skinny_supported(int64_t M, int64_t N, int64_t K);
// The K split the kernel would use, and the scratch it then needs: fp32 partials plus one counter
// per 64-row tile. The counters must be zero before the first call (the kernel leaves them so).
int fp8_skinny_splits(const Fp8SkinnyArgs& a);
size_t fp8_skinny_partial_bytes(const Fp8SkinnyArgs& a);
size_t fp8_skinny_counter_bytes(const Fp8SkinnyArgs& a);

void fp8_skinny_gemm(const Fp8SkinnyArgs& a, float* partials, int* counters, cudaStream_t stream);

}  // namespace dsv3::model::cuda
