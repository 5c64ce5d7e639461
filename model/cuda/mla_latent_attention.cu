#include "model/cuda/mla_latent_attention.hpp"

#include <stdexcept>
#include <string>

#include "model/cuda/cuda_check.hpp"

namespace dsv3::model::cuda {
namespace {

constexpr int kThreads = 128;

__device__ float block_reduce(float v, float* red, bool is_max) {
  for (int o = 16; o > 0; o /= 2) {
    const float w = __shfl_xor_sync(0xffffffffu, v, o);
    v = is_max ? fmaxf(v, w) : v + w;
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  float r = red[0];
  for (int i = 1; i < kThreads / 32; ++i) r = is_max ? fmaxf(r, red[i]) : r + red[i];
  return r;
}

__global__ void latent_attention_kernel(LatentAttentionArgs a) {
  extern __shared__ float scores[];
  __shared__ float red[kThreads / 32];
  const int64_t row = blockIdx.x;
  const int h = blockIdx.y, D = a.R + a.P;
  const int keys = a.row_pos[row] + 1;
  const __nv_bfloat16* q = a.q + (row * a.heads + h) * D;
  const __nv_bfloat16* base = a.cache + static_cast<int64_t>(a.row_slot[row]) * a.slot_stride * D;
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < keys; j += kThreads) {
    const __nv_bfloat16* k = base + static_cast<int64_t>(j) * D;
    float acc = 0.f;
    for (int d = 0; d < D; ++d) acc += __bfloat162float(q[d]) * __bfloat162float(k[d]);
    scores[j] = acc * a.softmax_scale;
    mx = fmaxf(mx, scores[j]);
  }
  mx = block_reduce(mx, red, true);
  float z = 0.f;
  for (int j = threadIdx.x; j < keys; j += kThreads) {
    scores[j] = __expf(scores[j] - mx);
    z += scores[j];
  }
  z = block_reduce(z, red, false);
  __syncthreads();
  const float inv = 1.f / z;
  for (int d = threadIdx.x; d < a.R; d += kThreads) {
    float acc = 0.f;
    for (int j = 0; j < keys; ++j) acc += scores[j] * __bfloat162float(base[static_cast<int64_t>(j) * D + d]);
    a.out[(row * a.heads + h) * a.R + d] = __float2bfloat16(acc * inv);
  }
}

__global__ void write_cache_kernel(const __nv_bfloat16* __restrict__ src, int64_t ld_src, int width,
                                   __nv_bfloat16* __restrict__ cache, int64_t slot_stride,
                                   const int32_t* __restrict__ row_slot, const int32_t* __restrict__ row_pos) {
  const int64_t r = blockIdx.x;
  __nv_bfloat16* dst = cache + (static_cast<int64_t>(row_slot[r]) * slot_stride + row_pos[r]) * width;
  for (int i = threadIdx.x; i < width; i += blockDim.x) dst[i] = src[r * ld_src + i];
}

}  // namespace

void write_latent_cache(const __nv_bfloat16* src, int64_t ld_src, int64_t rows, int width, __nv_bfloat16* cache,
                        int64_t slot_stride, const int32_t* row_slot, const int32_t* row_pos, cudaStream_t stream) {
  if (rows == 0) return;
  write_cache_kernel<<<static_cast<unsigned>(rows), 128, 0, stream>>>(src, ld_src, width, cache, slot_stride, row_slot,
                                                                       row_pos);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void mla_latent_attention(const LatentAttentionArgs& a, cudaStream_t stream) {
  if (a.rows == 0) return;
  const size_t smem = static_cast<size_t>(a.max_keys) * sizeof(float);
  if (smem > 200 * 1024)
    throw std::invalid_argument("mla_latent_attention: " + std::to_string(a.max_keys) + " keys exceed shared memory");
  if (smem > 48 * 1024)
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(latent_attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
  latent_attention_kernel<<<dim3(static_cast<unsigned>(a.rows), static_cast<unsigned>(a.heads)), kThreads, smem,
                            stream>>>(a);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
