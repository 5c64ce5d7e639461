#pragma once
// RMSNorm of rows already staged in shared memory, for kernels that normalize their input while
// loading it (the decode-sized GEMVs): the rounding of cuda::rmsnorm, x = bf16(bf16(x / rms(x)) * w)
// with rms(x) = sqrt(mean(x^2) + eps) in fp32.
#include <cuda_bf16.h>

#include <cstdint>

namespace dsv3::model::cuda {

// In place on `rows` rows of length K (even; row stride K) at xs; warp r takes rows r, r + warps,
// ... Call between two __syncthreads().
__device__ inline void rmsnorm_staged(__nv_bfloat16* xs, int rows, int64_t K, const __nv_bfloat16* __restrict__ w,
                                      float eps) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  const __nv_bfloat162* wr = reinterpret_cast<const __nv_bfloat162*>(w);
  for (int r = warp; r < rows; r += warps) {
    __nv_bfloat162* row = reinterpret_cast<__nv_bfloat162*>(xs + r * K);
    float ss = 0.f;
    for (int64_t i = lane; i < K / 2; i += 32) {
      const float2 f = __bfloat1622float2(row[i]);
      ss += f.x * f.x + f.y * f.y;
    }
    for (int off = 16; off > 0; off /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, off);
    const float inv = rsqrtf(ss / static_cast<float>(K) + eps);
    for (int64_t i = lane; i < K / 2; i += 32) {
      const float2 f = __bfloat1622float2(row[i]);
      const float2 nrm = __bfloat1622float2(__floats2bfloat162_rn(f.x * inv, f.y * inv));
      const float2 ww = __bfloat1622float2(wr[i]);
      row[i] = __floats2bfloat162_rn(nrm.x * ww.x, nrm.y * ww.y);
    }
  }
}

}  // namespace dsv3::model::cuda
