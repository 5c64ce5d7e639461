#pragma once
// Loads of weights that a decode step reads once: `ld.global.cs` (cache streaming, evict-first in
// L1 and L2), so that streaming several GB of weights a step does not push the activations, the
// KV cache and the small tables out of L2. At batch 1 on the mid model this took a decode step
// from 1500 to 1370 us (run AF, bench/cuda/NOTES.md).
#include <cuda_runtime.h>

namespace dsv3::model::cuda {

__device__ __forceinline__ int4 load_weight16(const int4* p) { return __ldcs(p); }

}  // namespace dsv3::model::cuda
