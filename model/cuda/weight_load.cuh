#pragma once
// Loads of weights that a decode step reads once, and the dot product the decode GEMVs form with
// them. The loads: `ld.global.cs` (cache streaming, evict-first in
// L1 and L2), so that streaming several GB of weights a step does not push the activations, the
// KV cache and the small tables out of L2. At batch 1 on the mid model this took a decode step
// from 1500 to 1370 us (run AF, bench/cuda/NOTES.md).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace dsv3::model::cuda {

__device__ __forceinline__ int4 load_weight16(const int4* p) { return __ldcs(p); }

// acc + w . x over one 16-byte chunk of a weight row and of an activation row (8 BF16 each), in
// fp32, pair j's second products first, j = 0..3: the order of the dense GEMV (gemm.cu's
// gemv_kernel) and the expert GEMV (moe.cu), so that they round alike.
__device__ __forceinline__ float dot8_bf16(const int4& w, const int4& x, float acc) {
  const __nv_bfloat162* wp = reinterpret_cast<const __nv_bfloat162*>(&w);
  const __nv_bfloat162* xp = reinterpret_cast<const __nv_bfloat162*>(&x);
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const float2 wf = __bfloat1622float2(wp[j]), xf = __bfloat1622float2(xp[j]);
    acc = fmaf(wf.x, xf.x, fmaf(wf.y, xf.y, acc));
  }
  return acc;
}

}  // namespace dsv3::model::cuda
