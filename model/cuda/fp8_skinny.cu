#include "model/cuda/fp8_skinny.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/launch_env.hpp"
#include "model/cuda/mma_sm80.cuh"
#include "model/cuda/pdl.cuh"
#include "model/cuda/wgmma_fp8.cuh"

namespace dsv3::model::cuda {
namespace {

using mma::cp_async_16;
using mma::cp_async_4;
using mma::cp_async_commit;
using mma::cp_async_wait;

constexpr int kThreads = 128, kBk = 128, kBn = kFp8SkinnyTileN;

// One pipeline stage: W tile [64][128] and X tile [BM][128] in wgmma's 128-byte swizzle (chunk c of
// row r at c ^ (r & 7), 1024-byte aligned), then the BM activation scales and the W tile's scale.
// Four stages: deeper pipelines (about 100 KB a CTA) measured no faster.
template <int BM>
struct Stage {
  static constexpr int w = kBn * kBk, x = BM * kBk, xs = BM * 4;
  static constexpr int bytes = (w + x + xs + 16 + 1023) / 1024 * 1024;
  static constexpr int count = 4;
};

__device__ __forceinline__ int swz(int row, int chunk) { return row * kBk + ((chunk ^ (row & 7)) << 4); }

struct Params {
  Fp8SkinnyArgs a;
  int splits, kb_per_split;
  int64_t xs_rows;  // act_scale_rows(M)
  float* partials;  // [tiles, splits, BM, 64]
  int* counters;    // [tiles]
};

// One warpgroup: per 128-K block, four wgmma m64nBMk32 into a fresh fp32 partial, folded into the
// accumulator with the block's scales. Accumulator element 4q + e: weight row 16 warp + g + 8 (e / 2),
// activation row 8 q + 2 t + e % 2.
template <int BM>
__global__ void __launch_bounds__(kThreads) fp8_skinny_kernel(Params p) {
  using St = Stage<BM>;
  constexpr int kStages = St::count;
  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = reinterpret_cast<unsigned char*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t{1023});
  pdl_trigger();
  const Fp8SkinnyArgs& a = p.a;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  const int tile = blockIdx.x, split = blockIdx.y;
  const int64_t n0 = static_cast<int64_t>(tile) * kBn;
  const int kbs = static_cast<int>(a.K / kBk);
  const int kb0 = split * p.kb_per_split, kb1 = min(kbs, kb0 + p.kb_per_split);
  const int nk = max(0, kb1 - kb0);
  const unsigned char* W = reinterpret_cast<const unsigned char*>(a.W) + n0 * a.K;
  const unsigned char* X = reinterpret_cast<const unsigned char*>(a.X);
  const float* ws = a.w_scales + (n0 / 128) * kbs;

  // Thread tid copies 16-byte chunk tid % 8 of tile rows tid / 8 + 16 j: its source pointers and
  // swizzled destinations are fixed but for the K offset (j-th row block 16 j rows further on).
  const int r0 = tid >> 3, ch = tid & 7;
  const int dst0 = swz(r0, ch);  // + 2048 j (16 rows of 128 bytes; r & 7 unchanged)
  const int64_t row16 = 16 * a.K;
  const unsigned char* wsrc = W + r0 * a.K + ch * 16;
  const unsigned char* xsrc = X + r0 * a.K + ch * 16;
  constexpr int kXRowBlocks = (BM + 15) / 16;
  auto load_w = [&](int i) {
    unsigned char* s = smem + (i % kStages) * St::bytes;
    const int64_t k = static_cast<int64_t>(kb0 + i) * kBk;
#pragma unroll
    for (int j = 0; j < kBn / 16; ++j) cp_async_16(s + dst0 + 2048 * j, wsrc + k + j * row16, 16);
    if (tid == 0) cp_async_4(s + St::w + St::x + St::xs, ws + kb0 + i, 4);
  };
  auto load_x = [&](int i) {
    unsigned char* s = smem + (i % kStages) * St::bytes + St::w;
    const int64_t k = static_cast<int64_t>(kb0 + i) * kBk;
#pragma unroll
    for (int j = 0; j < kXRowBlocks; ++j) {
      const int r = r0 + 16 * j;
      if (r < BM) {
        const bool ok = r < a.M;
        cp_async_16(s + dst0 + 2048 * j, ok ? xsrc + k + j * row16 : X, ok ? 16 : 0);
      }
    }
    if (tid < BM) {
      const bool ok = tid < a.M;
      cp_async_4(s + St::x + tid * 4, a.x_scales + (kb0 + i) * p.xs_rows + (ok ? tid : 0), ok ? 4 : 0);
    }
  };

  // The weights depend on no earlier kernel: their first stages are in flight before the wait.
  for (int i = 0; i < kStages - 1; ++i)
    if (i < nk) load_w(i);
  pdl_wait();
  for (int i = 0; i < kStages - 1; ++i) {
    if (i < nk) load_x(i);
    cp_async_commit();
  }

  float acc[BM / 2], part[BM / 2];
#pragma unroll
  for (int e = 0; e < BM / 2; ++e) acc[e] = part[e] = 0.f;

  for (int i = 0; i < nk; ++i) {
    cp_async_wait<kStages - 2>();
    wgmma::fence_proxy_async();
    __syncthreads();
    if (i + kStages - 1 < nk) {
      load_w(i + kStages - 1);
      load_x(i + kStages - 1);
    }
    cp_async_commit();

    const unsigned char* s = smem + (i % kStages) * St::bytes;
    const uint32_t sa = static_cast<uint32_t>(__cvta_generic_to_shared(s)), sb = sa + St::w;
    wgmma::wgmma_fence();
#pragma unroll
    for (int j = 0; j < kBk / 32; ++j)
      wgmma::wgmma_e4m3<BM>(part, wgmma::desc_sw128(sa + 32 * j), wgmma::desc_sw128(sb + 32 * j), j);
    wgmma::wgmma_commit();
    wgmma::wgmma_wait<0>();
    const float* sxs = reinterpret_cast<const float*>(s + St::w + St::x);
    const float wscale = *reinterpret_cast<const float*>(s + St::w + St::x + St::xs);
#pragma unroll
    for (int q = 0; q < BM / 8; ++q) {
      const float s0 = sxs[8 * q + 2 * t] * wscale, s1 = sxs[8 * q + 2 * t + 1] * wscale;
      acc[4 * q] = fmaf(part[4 * q], s0, acc[4 * q]);
      acc[4 * q + 1] = fmaf(part[4 * q + 1], s1, acc[4 * q + 1]);
      acc[4 * q + 2] = fmaf(part[4 * q + 2], s0, acc[4 * q + 2]);
      acc[4 * q + 3] = fmaf(part[4 * q + 3], s1, acc[4 * q + 3]);
    }
  }
  cp_async_wait<0>();

  auto row_of = [&](int e) { return 8 * (e / 4) + 2 * t + (e & 1); };      // activation row
  auto col_of = [&](int e) { return 16 * warp + g + 8 * ((e >> 1) & 1); };  // weight row in the tile
  auto store = [&](int m, int64_t n, float v) {
    if (m >= a.M) return;
    __nv_bfloat16* d = a.D + m * a.ldd + n;
    *d = __float2bfloat16(v + (a.beta != 0.f ? a.beta * __bfloat162float(*d) : 0.f));
  };
  if (p.splits == 1) {
#pragma unroll
    for (int e = 0; e < BM / 2; ++e) store(row_of(e), n0 + col_of(e), acc[e]);
    return;
  }
  // Split K: this CTA's partial, then the tile's last CTA sums the partials in split order.
  float* mine = p.partials + static_cast<int64_t>(tile) * p.splits * BM * kBn;
#pragma unroll
  for (int e = 0; e < BM / 2; ++e) mine[static_cast<int64_t>(split) * BM * kBn + row_of(e) * kBn + col_of(e)] = acc[e];
  __threadfence();
  __syncthreads();
  __shared__ int last;
  // atomicInc wraps to 0 after splits - 1: the last CTA's increment resets the counter.
  if (tid == 0) last = atomicInc(reinterpret_cast<unsigned*>(&p.counters[tile]), p.splits - 1) == p.splits - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
#pragma unroll
  for (int e = 0; e < BM / 2; ++e) {
    float v = 0.f;
    for (int sp = 0; sp < p.splits; ++sp) v += __ldcg(mine + static_cast<int64_t>(sp) * BM * kBn + row_of(e) * kBn + col_of(e));
    store(row_of(e), n0 + col_of(e), v);
  }
}

int rows_per_cta(int M) {
  for (int bm : {8, 16, 32, 64}) if (M <= bm) return bm;
  return 128;
}

template <int BM>
void launch(const Params& p, cudaStream_t stream) {
  const size_t smem = static_cast<size_t>(Stage<BM>::count) * Stage<BM>::bytes + 1024;  // + alignment slack
  static bool attr = false;
  if (!attr) {
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(fp8_skinny_kernel<BM>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem)));
    attr = true;
  }
  const dim3 grid(static_cast<unsigned>(p.a.N / kBn), static_cast<unsigned>(p.splits));
  launch_pdl(fp8_skinny_kernel<BM>, grid, dim3(kThreads), smem, stream, p);
}

}  // namespace

bool fp8_skinny_supported(int64_t M, int64_t N, int64_t K) {
  if (M < 1 || M > kFp8SkinnyMaxRows || N % kBn || K % kBk || N <= 0 || K <= 0) return false;
  static const bool arch = [] {
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) return false;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
    return major == 9 && minor == 0;  // wgmma: sm_90a
  }();
  return arch;
}

int fp8_skinny_splits(const Fp8SkinnyArgs& a) {
  if (a.splits > 0) return a.splits;
  static const int forced = std::atoi(env_value("DSV3_CUDA_FP8_SPLITS").c_str());  // a fixed split (a diagnostic)
  if (forced > 0) return std::min(forced, static_cast<int>(a.K / kBk));
  const int tiles = static_cast<int>(a.N / kBn), kbs = static_cast<int>(a.K / kBk);
  // About two CTAs per multiprocessor, at most 4 splits (the last CTA reads them all back), and
  // at least 4 K-blocks per split (the pipeline's depth).
  const int want = (2 * sm_count() + tiles - 1) / tiles;
  return std::max(1, std::min({want, 4, kbs / 4}));
}

size_t fp8_skinny_partial_bytes(const Fp8SkinnyArgs& a) {
  const int s = fp8_skinny_splits(a);
  if (s == 1) return 0;
  return static_cast<size_t>(a.N / kBn) * s * rows_per_cta(a.M) * kBn * sizeof(float);
}

size_t fp8_skinny_counter_bytes(const Fp8SkinnyArgs& a) { return static_cast<size_t>(a.N / kBn) * sizeof(int); }

void fp8_skinny_gemm(const Fp8SkinnyArgs& a, float* partials, int* counters, cudaStream_t stream) {
  if (!fp8_skinny_supported(a.M, a.N, a.K))
    throw std::invalid_argument("fp8_skinny_gemm: unsupported shape M=" + std::to_string(a.M) + " N=" +
                                std::to_string(a.N) + " K=" + std::to_string(a.K));
  Params p{a, fp8_skinny_splits(a), 0, act_scale_rows(a.M), partials, counters};
  const int kbs = static_cast<int>(a.K / kBk);
  p.kb_per_split = (kbs + p.splits - 1) / p.splits;
  p.splits = (kbs + p.kb_per_split - 1) / p.kb_per_split;  // no empty split
  if (p.splits > 1 && (!partials || !counters)) throw std::invalid_argument("fp8_skinny_gemm: split K needs scratch");
  switch (rows_per_cta(a.M)) {
    case 8: launch<8>(p, stream); break;
    case 16: launch<16>(p, stream); break;
    case 32: launch<32>(p, stream); break;
    case 64: launch<64>(p, stream); break;
    default: launch<128>(p, stream); break;
  }
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
