#pragma once
// Deterministic pseudo-random fills on the device (counter-based hash, no state): random weights
// for benchmark models generated on the GPU itself, and test inputs. Values are uniform in
// [-scale, scale] (bf16 / f32) or e4m3 codes of uniform values in [-scale, scale] (fp8).
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

void fill_uniform(__nv_bfloat16* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream);
void fill_uniform(float* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream);
void fill_uniform(__nv_fp8_e4m3* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream);
void fill_constant(float* p, int64_t n, float value, cudaStream_t stream);

}  // namespace dsv3::model::cuda
