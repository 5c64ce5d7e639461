#include "model/cuda/fp8_quant.hpp"

#include <cmath>

#include "model/cuda/cuda_check.hpp"

namespace dsv3::model::cuda {
namespace {

__device__ inline int find_segment(const int32_t* offsets, int n, int64_t row) {
  int lo = 0, hi = n - 1;  // largest s with offsets[s] <= row
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (offsets[mid] <= row) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// One warp per (row, 128-group): 32 lanes x 4 elements.
__global__ void act_quant_kernel(const __nv_bfloat16* __restrict__ x, int64_t ldx, int64_t M, int64_t K,
                                 __nv_fp8_e4m3* __restrict__ q, float* __restrict__ scales,
                                 const int32_t* __restrict__ seg_offsets, int n_segs, bool ue8m0) {
  const int64_t groups_per_row = K / 128;
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (warp >= M * groups_per_row) return;
  const int64_t m = warp / groups_per_row, kb = warp % groups_per_row;
  const __nv_bfloat16* src = x + m * ldx + kb * 128 + lane * 4;
  const uint2 raw = *reinterpret_cast<const uint2*>(src);
  const __nv_bfloat162 p0 = *reinterpret_cast<const __nv_bfloat162*>(&raw.x);
  const __nv_bfloat162 p1 = *reinterpret_cast<const __nv_bfloat162*>(&raw.y);
  const float2 f0 = __bfloat1622float2(p0), f1 = __bfloat1622float2(p1);
  float amax = fmaxf(fmaxf(fabsf(f0.x), fabsf(f0.y)), fmaxf(fabsf(f1.x), fabsf(f1.y)));
  for (int o = 16; o > 0; o /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  float s = fmaxf(amax, 1e-4f) / kFp8E4m3Max;
  if (ue8m0) s = exp2f(ceilf(log2f(s)));
  const float inv = 1.0f / s;
  const __nv_fp8x2_storage_t lo = __nv_cvt_float2_to_fp8x2(make_float2(f0.x * inv, f0.y * inv), __NV_SATFINITE, __NV_E4M3);
  const __nv_fp8x2_storage_t hi = __nv_cvt_float2_to_fp8x2(make_float2(f1.x * inv, f1.y * inv), __NV_SATFINITE, __NV_E4M3);
  *reinterpret_cast<uint32_t*>(reinterpret_cast<uint8_t*>(q) + m * K + kb * 128 + lane * 4) =
      static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
  if (lane == 0) {
    int64_t idx;
    if (seg_offsets) {
      const int sgm = find_segment(seg_offsets, n_segs, m);
      const int64_t o = seg_offsets[sgm], rows = act_scale_rows(seg_offsets[sgm + 1] - o);
      idx = act_scale_segment_base(o, sgm, groups_per_row) + kb * rows + (m - o);
    } else {
      idx = kb * act_scale_rows(M) + m;
    }
    scales[idx] = s;
  }
}

// One block of 256 threads per 128x128 tile.
__global__ void weight_quant_kernel(const float* __restrict__ w, int64_t N, int64_t K, __nv_fp8_e4m3* __restrict__ q,
                                    float* __restrict__ scales) {
  const int64_t nb = blockIdx.y, kb = blockIdx.x, kblocks = gridDim.x;
  __shared__ float red[256];
  float amax = 0.f;
  for (int i = threadIdx.x; i < 128 * 128; i += blockDim.x) {
    const int64_t n = nb * 128 + i / 128, k = kb * 128 + i % 128;
    if (n < N && k < K) amax = fmaxf(amax, fabsf(w[n * K + k]));
  }
  red[threadIdx.x] = amax;
  __syncthreads();
  for (int s = 128; s > 0; s /= 2) {
    if (threadIdx.x < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
    __syncthreads();
  }
  const float sc = fmaxf(red[0], 1e-12f) / kFp8E4m3Max;
  if (threadIdx.x == 0) scales[nb * kblocks + kb] = sc;
  for (int i = threadIdx.x; i < 128 * 128; i += blockDim.x) {
    const int64_t n = nb * 128 + i / 128, k = kb * 128 + i % 128;
    if (n < N && k < K) q[n * K + k] = __nv_fp8_e4m3(w[n * K + k] / sc);
  }
}

__global__ void weight_dequant_kernel(const __nv_fp8_e4m3* __restrict__ q, const float* __restrict__ scales,
                                      int64_t N, int64_t K, __nv_bfloat16* __restrict__ w) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= N * K) return;
  const int64_t n = i / K, k = i % K, kblocks = (K + 127) / 128;
  w[i] = __float2bfloat16(static_cast<float>(q[i]) * scales[(n / 128) * kblocks + k / 128]);
}

}  // namespace

void quantize_act_1x128(const __nv_bfloat16* x, int64_t ldx, int64_t M, int64_t K, __nv_fp8_e4m3* q, float* scales,
                        const int32_t* seg_offsets, int n_segs, bool ue8m0, cudaStream_t stream) {
  if (K % 128 != 0) throw std::invalid_argument("quantize_act_1x128: K must be a multiple of 128");
  if (M == 0) return;
  const int64_t warps = M * (K / 128);
  const int threads = 256;
  const int64_t blocks = (warps * 32 + threads - 1) / threads;
  act_quant_kernel<<<static_cast<unsigned>(blocks), threads, 0, stream>>>(x, ldx, M, K, q, scales, seg_offsets, n_segs,
                                                                            ue8m0);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void quantize_weight_128x128(const float* w, int64_t N, int64_t K, __nv_fp8_e4m3* q, float* scales,
                             cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((K + 127) / 128), static_cast<unsigned>((N + 127) / 128));
  weight_quant_kernel<<<grid, 256, 0, stream>>>(w, N, K, q, scales);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void dequantize_weight_128x128(const __nv_fp8_e4m3* q, const float* scales, int64_t N, int64_t K, __nv_bfloat16* w,
                               cudaStream_t stream) {
  const int64_t n = N * K;
  weight_dequant_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(q, scales, N, K, w);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
