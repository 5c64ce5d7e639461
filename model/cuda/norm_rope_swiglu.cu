#include "model/cuda/norm_rope_swiglu.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/pdl.cuh"

namespace dsv3::model::cuda {
namespace {

constexpr int kNormThreads = 256;

// The sum of v over the block (at most kNormThreads threads), returned to every thread.
__device__ float block_sum(float v) {
  __shared__ float red[kNormThreads / 32];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x < 32) {
    float w = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0.f;
    for (int o = 16; o > 0; o /= 2) w += __shfl_xor_sync(0xffffffffu, w, o);
    if (threadIdx.x == 0) red[0] = w;
  }
  __syncthreads();
  return red[0];
}

__global__ void rmsnorm_kernel(__nv_bfloat16* __restrict__ x, int64_t ldx, const __nv_bfloat16* __restrict__ residual,
                               int64_t ldr, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y,
                               int64_t ldy, int64_t n, float eps) {
  pdl_trigger();
  pdl_wait();
  const int64_t row = blockIdx.x;
  __nv_bfloat162* xr = reinterpret_cast<__nv_bfloat162*>(x + row * ldx);
  const int64_t half = n / 2;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
    __nv_bfloat162 v = xr[i];
    if (residual) {
      const float2 a = __bfloat1622float2(v);
      const float2 r = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(residual + row * ldr)[i]);
      v = __floats2bfloat162_rn(a.x + r.x, a.y + r.y);
      xr[i] = v;
    }
    const float2 f = __bfloat1622float2(v);
    ss += f.x * f.x + f.y * f.y;
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(n) + eps);
  __nv_bfloat162* yr = reinterpret_cast<__nv_bfloat162*>(y + row * ldy);
  const __nv_bfloat162* wr = reinterpret_cast<const __nv_bfloat162*>(w);
  for (int64_t i = threadIdx.x; i < half; i += blockDim.x) {
    const float2 f = __bfloat1622float2(xr[i]);
    const float2 nrm = __bfloat1622float2(__floats2bfloat162_rn(f.x * inv, f.y * inv));
    const float2 ww = __bfloat1622float2(wr[i]);
    yr[i] = __floats2bfloat162_rn(nrm.x * ww.x, nrm.y * ww.y);
  }
}

// Rotates the interleaved pairs of src's slices into dst's (dst may be src).
__global__ void rope_kernel(const __nv_bfloat16* src, int64_t src_ld_token, int64_t src_ld_head, int src_offset,
                            __nv_bfloat16* dst, int64_t dst_ld_token, int64_t dst_ld_head, int dst_offset,
                            int64_t tokens, int heads, int pairs, const int32_t* __restrict__ positions,
                            const float* __restrict__ inv_freq, float mscale) {
  pdl_trigger();
  pdl_wait();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= tokens * heads * pairs) return;
  const int p = static_cast<int>(i % pairs);
  const int h = static_cast<int>((i / pairs) % heads);
  const int64_t t = i / (static_cast<int64_t>(pairs) * heads);
  const float angle = static_cast<float>(positions[t]) * inv_freq[p];
  float s, c;
  sincosf(angle, &s, &c);
  c *= mscale;
  s *= mscale;
  const float2 v = __bfloat1622float2(
      *reinterpret_cast<const __nv_bfloat162*>(src + t * src_ld_token + h * src_ld_head + src_offset + 2 * p));
  *reinterpret_cast<__nv_bfloat162*>(dst + t * dst_ld_token + h * dst_ld_head + dst_offset + 2 * p) =
      __floats2bfloat162_rn(v.x * c - v.y * s, v.x * s + v.y * c);
}

// One block per token: the latent row [c (R) | k_pe (P)] at x[t * ld]: c RMS-normalized (as
// rmsnorm_kernel), k_pe rotated (as rope_kernel), written back and into the cache row of
// (row_slot[t], positions[t]).
__global__ void latent_to_cache_kernel(__nv_bfloat16* __restrict__ x, int64_t ld, int R, int P,
                                       const __nv_bfloat16* __restrict__ w, float eps,
                                       const int32_t* __restrict__ positions, const float* __restrict__ inv_freq,
                                       float mscale, __nv_bfloat16* __restrict__ cache, int64_t slot_stride,
                                       const int32_t* __restrict__ row_slot) {
  pdl_trigger();
  pdl_wait();
  const int64_t t = blockIdx.x;
  __nv_bfloat162* xr = reinterpret_cast<__nv_bfloat162*>(x + t * ld);
  __nv_bfloat162* cr = reinterpret_cast<__nv_bfloat162*>(
      cache + (static_cast<int64_t>(row_slot[t]) * slot_stride + positions[t]) * (R + P));
  float ss = 0.f;
  for (int i = threadIdx.x; i < R / 2; i += blockDim.x) {
    const float2 f = __bfloat1622float2(xr[i]);
    ss += f.x * f.x + f.y * f.y;
  }
  const float inv = rsqrtf(block_sum(ss) / static_cast<float>(R) + eps);
  const __nv_bfloat162* wr = reinterpret_cast<const __nv_bfloat162*>(w);
  for (int i = threadIdx.x; i < R / 2; i += blockDim.x) {
    const float2 f = __bfloat1622float2(xr[i]);
    const float2 nrm = __bfloat1622float2(__floats2bfloat162_rn(f.x * inv, f.y * inv));
    const float2 ww = __bfloat1622float2(wr[i]);
    const __nv_bfloat162 y = __floats2bfloat162_rn(nrm.x * ww.x, nrm.y * ww.y);
    xr[i] = y;
    cr[i] = y;
  }
  const float pos = static_cast<float>(positions[t]);
  for (int p = threadIdx.x; p < P / 2; p += blockDim.x) {
    float s, c;
    sincosf(pos * inv_freq[p], &s, &c);
    c *= mscale;
    s *= mscale;
    const float2 v = __bfloat1622float2(xr[R / 2 + p]);
    const __nv_bfloat162 y = __floats2bfloat162_rn(v.x * c - v.y * s, v.x * s + v.y * c);
    xr[R / 2 + p] = y;
    cr[R / 2 + p] = y;
  }
}

__global__ void swiglu_kernel(const __nv_bfloat16* __restrict__ gu, int64_t tokens, int64_t inter,
                              __nv_bfloat16* __restrict__ out) {
  pdl_trigger();
  pdl_wait();
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;  // pair index
  const int64_t half = inter / 2;
  if (i >= tokens * half) return;
  const int64_t t = i / half, j = i % half;
  const float2 g = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(gu + t * 2 * inter)[j]);
  const float2 u = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(gu + t * 2 * inter + inter)[j]);
  const float a = g.x / (1.f + __expf(-g.x)), b = g.y / (1.f + __expf(-g.y));
  reinterpret_cast<__nv_bfloat162*>(out + t * inter)[j] = __floats2bfloat162_rn(a * u.x, b * u.y);
}

__global__ void embedding_kernel(const __nv_bfloat16* __restrict__ table, const int32_t* __restrict__ ids, int64_t n,
                                 __nv_bfloat16* __restrict__ out) {
  pdl_trigger();
  pdl_wait();
  const int64_t t = blockIdx.x;
  const int4* src = reinterpret_cast<const int4*>(table + static_cast<int64_t>(ids[t]) * n);
  int4* dst = reinterpret_cast<int4*>(out + t * n);
  for (int64_t i = threadIdx.x; i < n / 8; i += blockDim.x) dst[i] = src[i];
}

unsigned blocks_for(int64_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace

void rmsnorm(__nv_bfloat16* x, int64_t ldx, const __nv_bfloat16* residual, int64_t ldr, const __nv_bfloat16* w,
             __nv_bfloat16* y, int64_t ldy, int64_t rows, int64_t n, float eps, cudaStream_t stream) {
  if (n % 2) throw std::invalid_argument("rmsnorm: row length must be even");
  if (rows == 0) return;
  launch_pdl(rmsnorm_kernel, dim3(static_cast<unsigned>(rows)), dim3(kNormThreads), 0, stream, x, ldx, residual, ldr, w, y,
             ldy, n, eps);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm(const __nv_bfloat16* x, int64_t ldx, const __nv_bfloat16* w, __nv_bfloat16* y, int64_t ldy, int64_t rows,
             int64_t n, float eps, cudaStream_t stream) {
  // The kernel writes x back only when it adds a residual.
  rmsnorm(const_cast<__nv_bfloat16*>(x), ldx, nullptr, 0, w, y, ldy, rows, n, eps, stream);
}

std::vector<float> yarn_inv_freq(int dim, double theta, double factor, int64_t original_max_positions,
                                 double beta_fast, double beta_slow) {
  const int half = dim / 2;
  std::vector<float> f(half);
  for (int i = 0; i < half; ++i)
    f[i] = static_cast<float>(1.0 / std::pow(theta, static_cast<double>(2 * i) / dim));
  if (factor <= 1.0) return f;
  auto corr = [&](double beta) {
    return dim * std::log(static_cast<double>(original_max_positions) / (beta * 2 * std::numbers::pi)) /
           (2 * std::log(theta));
  };
  double low = std::max(std::floor(corr(beta_fast)), 0.0);
  double high = std::min(std::ceil(corr(beta_slow)), static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int i = 0; i < half; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double smooth = 1.0 - ramp;  // 1 keeps the base frequency, 0 divides it by factor
    f[i] = static_cast<float>(f[i] / factor * (1.0 - smooth) + f[i] * smooth);
  }
  return f;
}

void rope_interleaved(__nv_bfloat16* x, int64_t tokens, int heads, int64_t ld_token, int64_t ld_head, int offset,
                      int dim, const int32_t* positions, const float* inv_freq, float mscale, cudaStream_t stream) {
  rope_interleaved_to(x, ld_token, ld_head, offset, x, ld_token, ld_head, offset, tokens, heads, dim, positions,
                      inv_freq, mscale, stream);
}

void rope_interleaved_to(const __nv_bfloat16* src, int64_t src_ld_token, int64_t src_ld_head, int src_offset,
                         __nv_bfloat16* dst, int64_t dst_ld_token, int64_t dst_ld_head, int dst_offset, int64_t tokens,
                         int heads, int dim, const int32_t* positions, const float* inv_freq, float mscale,
                         cudaStream_t stream) {
  const int64_t n = tokens * heads * (dim / 2);
  if (n == 0) return;
  launch_pdl(rope_kernel, dim3(blocks_for(n, 256)), dim3(256), 0, stream, src, src_ld_token, src_ld_head, src_offset, dst, dst_ld_token,
                                                      dst_ld_head, dst_offset, tokens, heads, dim / 2, positions,
                                                      inv_freq, mscale);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void latent_to_cache(__nv_bfloat16* x, int64_t ld, int64_t tokens, int R, int P, const __nv_bfloat16* norm_w, float eps,
                     const int32_t* positions, const float* inv_freq, float mscale, __nv_bfloat16* cache,
                     int64_t slot_stride, const int32_t* row_slot, cudaStream_t stream) {
  if (R % 2 || P % 2) throw std::invalid_argument("latent_to_cache: latent and rope dims must be even");
  if (tokens == 0) return;
  launch_pdl(latent_to_cache_kernel, dim3(static_cast<unsigned>(tokens)), dim3(kNormThreads), 0, stream,
      x, ld, R, P, norm_w, eps, positions, inv_freq, mscale, cache, slot_stride, row_slot);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void swiglu(const __nv_bfloat16* gu, int64_t tokens, int64_t inter, __nv_bfloat16* out, cudaStream_t stream) {
  if (inter % 2) throw std::invalid_argument("swiglu: intermediate size must be even");
  const int64_t n = tokens * inter / 2;
  if (n == 0) return;
  launch_pdl(swiglu_kernel, dim3(blocks_for(n, 256)), dim3(256), 0, stream, gu, tokens, inter, out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void embedding(const __nv_bfloat16* table, const int32_t* ids, int64_t tokens, int64_t n, __nv_bfloat16* out,
               cudaStream_t stream) {
  if (n % 8) throw std::invalid_argument("embedding: row length must be a multiple of 8");
  if (tokens == 0) return;
  launch_pdl(embedding_kernel, dim3(static_cast<unsigned>(tokens)), dim3(128), 0, stream, table, ids, n, out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
