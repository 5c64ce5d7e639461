#include "model/cuda/random_fill.hpp"

#include "model/cuda/cuda_check.hpp"

namespace dsv3::model::cuda {
namespace {

__device__ inline float hash_uniform(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + i + 0x632BE59BD9B4E019ull;  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (2.0f / 16777216.0f) - 1.0f;  // [-1, 1)
}

template <class T>
__global__ void fill_kernel(T* p, int64_t n, uint64_t seed, float scale) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    p[i] = T(hash_uniform(seed, static_cast<uint64_t>(i)) * scale);
}

__global__ void const_kernel(float* p, int64_t n, float v) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    p[i] = v;
}

unsigned grid_for(int64_t n) { return static_cast<unsigned>(n / 256 + 1 < 65536 ? n / 256 + 1 : 65536); }

}  // namespace

void fill_uniform(__nv_bfloat16* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream) {
  fill_kernel<<<grid_for(n), 256, 0, stream>>>(p, n, seed, scale);
  DSV3_CUDA_CHECK(cudaGetLastError());
}
void fill_uniform(float* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream) {
  fill_kernel<<<grid_for(n), 256, 0, stream>>>(p, n, seed, scale);
  DSV3_CUDA_CHECK(cudaGetLastError());
}
void fill_uniform(__nv_fp8_e4m3* p, int64_t n, uint64_t seed, float scale, cudaStream_t stream) {
  fill_kernel<<<grid_for(n), 256, 0, stream>>>(p, n, seed, scale);
  DSV3_CUDA_CHECK(cudaGetLastError());
}
void fill_constant(float* p, int64_t n, float value, cudaStream_t stream) {
  const_kernel<<<grid_for(n), 256, 0, stream>>>(p, n, value);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
