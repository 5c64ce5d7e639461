#include "model/cuda/mla_decode.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/launch_env.hpp"
#include "model/cuda/pdl.cuh"
#include "model/cuda/mma_sm80.cuh"

namespace dsv3::model::cuda {
namespace {

using namespace mma;

constexpr int kThreads = 256;  // 8 warps
constexpr int kLd = kMlaKvDim + 8;  // padded smem row (bf16): conflict-free fragment loads
constexpr int kChunksPerRow = kMlaKvDim / 8;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// MT m-tiles of 16 heads per CTA.
template <int MT>
struct Smem {
  static constexpr int R = 16 * MT;
  static constexpr int kS = 64 + 4, kP = 64 + 8;
  static constexpr size_t q = size_t{R} * kLd * 2;
  static constexpr size_t kv = size_t{2} * kMlaBlock * kLd * 2;
  static constexpr size_t s = size_t{R} * kS * 4;
  static constexpr size_t p = size_t{R} * kP * 2;
  static constexpr size_t rows = size_t{3} * R * 4;
  static constexpr size_t total = q + kv + s + p + rows;
};

struct Params {
  MlaDecodeArgs a;
  int splits;
  float* o_part;    // [batch, splits, heads, 512] (normalized partial outputs)
  float* lse_part;  // [batch, splits, heads]
};

template <int MT>
__global__ void __launch_bounds__(kThreads, 1) mla_decode_kernel(Params p) {
  pdl_trigger();
  pdl_wait();
  using S = Smem<MT>;
  constexpr int R = S::R;
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* kvs = reinterpret_cast<__nv_bfloat16*>(smem + S::q);
  float* ss = reinterpret_cast<float*>(smem + S::q + S::kv);
  __nv_bfloat16* ps = reinterpret_cast<__nv_bfloat16*>(smem + S::q + S::kv + S::s);
  float* row_m = reinterpret_cast<float*>(smem + S::q + S::kv + S::s + S::p);
  float* row_l = row_m + R;
  float* row_alpha = row_l + R;

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t4 = lane % 4;
  const int head0 = blockIdx.x * R, split = blockIdx.y, b = blockIdx.z;
  const MlaDecodeArgs& a = p.a;
  const int L = a.seq_lens[b];
  const int nblocks = (L + kMlaBlock - 1) / kMlaBlock;
  const int per = (nblocks + p.splits - 1) / p.splits;
  const int blk0 = split * per, blk1 = min(nblocks, blk0 + per);

  const int64_t part = (static_cast<int64_t>(b) * p.splits + split) * a.heads + head0;
  if (blk0 >= blk1) {  // nothing for this split: an empty partial
    for (int i = tid; i < R; i += kThreads) p.lse_part[part + i] = kNegInf;
    return;
  }

  // Q tile and the first KV block.
  const __nv_bfloat16* qg = a.q + (static_cast<int64_t>(b) * a.heads + head0) * kMlaKvDim;
  for (int c = tid; c < R * kChunksPerRow; c += kThreads) {
    const int r = c / kChunksPerRow, col = (c % kChunksPerRow) * 8;
    cp_async_16(qs + r * kLd + col, qg + static_cast<int64_t>(r) * kMlaKvDim + col, 16);
  }
  auto load_block = [&](int blk, int stage) {
    const int64_t phys = a.block_table[static_cast<int64_t>(b) * a.block_table_stride + blk];
    const __nv_bfloat16* src = a.kv_cache + phys * kMlaBlock * kMlaKvDim;
    __nv_bfloat16* dst = kvs + stage * kMlaBlock * kLd;
    const int valid = min(kMlaBlock, L - blk * kMlaBlock);
    // Warp w copies rows w, w + 8, ...; lane l chunks l, l + 32, l + 64 (< 72) of each: no divisions.
#pragma unroll
    for (int r = warp; r < kMlaBlock; r += kThreads / 32) {
      const int bytes = r < valid ? 16 : 0;
#pragma unroll
      for (int c = lane; c < kChunksPerRow; c += 32)
        cp_async_16(dst + r * kLd + c * 8, src + static_cast<int64_t>(r) * kMlaKvDim + c * 8, bytes);
    }
  };
  // 16 heads a CTA: the Q fragments (36 k-steps x 4 registers) stay in registers for the whole
  // KV range instead of being re-read from shared memory for every block.
  constexpr bool kQInRegs = MT == 1;
  constexpr int kKSteps = kMlaKvDim / 16;
  uint32_t qf[kQInRegs ? kKSteps : 1][4];
  if (kQInRegs) cp_async_commit();  // the Q tile as its own group
  load_block(blk0, 0);
  cp_async_commit();
  for (int i = tid; i < R; i += kThreads) {
    row_m[i] = kNegInf;
    row_l[i] = 0.f;
  }
  if constexpr (kQInRegs) {
    cp_async_wait<1>();
    __syncthreads();
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) ldmatrix_x4(qf[ks], qs + (lane & 15) * kLd + 8 * (lane >> 4) + ks * 16);
  }

  float o[MT][8][4];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) o[mt][j][e] = 0.f;

  constexpr int kTpr = kThreads / R;  // softmax threads per head row
  constexpr int kCols = kMlaBlock / kTpr;

  for (int blk = blk0; blk < blk1; ++blk) {
    const int stage = (blk - blk0) & 1;
    if (blk + 1 < blk1) {
      load_block(blk + 1, stage ^ 1);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const __nv_bfloat16* kv = kvs + stage * kMlaBlock * kLd;

    // S = Q K^T: warp w owns tokens [8w, 8w + 8) of the block, all heads of the CTA.
    {
      float acc[2][MT][4];
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int e = 0; e < 4; ++e) acc[h][mt][e] = 0.f;
      // ldmatrix: one x4 gives the K fragments of two k-steps, one x4 a Q fragment.
      const __nv_bfloat16* kaddr = kv + (warp * 8 + (lane & 7)) * kLd + 8 * (lane >> 3);
      const __nv_bfloat16* qaddr = qs + (lane & 15) * kLd + 8 * (lane >> 4);
      if constexpr (kQInRegs) {
#pragma unroll
        for (int ks = 0; ks < kKSteps; ks += 2) {
          uint32_t bk[4];
          ldmatrix_x4(bk, kaddr + ks * 16);
          mma_bf16_16816(acc[0][0], qf[ks], bk[0], bk[1]);
          mma_bf16_16816(acc[1][0], qf[ks + 1], bk[2], bk[3]);
        }
      } else {
#pragma unroll 2
        for (int ks = 0; ks < kKSteps; ks += 2) {
          uint32_t bk[4];
          ldmatrix_x4(bk, kaddr + ks * 16);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            uint32_t a0[4], a1[4];
            ldmatrix_x4(a0, qaddr + mt * 16 * kLd + ks * 16);
            ldmatrix_x4(a1, qaddr + mt * 16 * kLd + (ks + 1) * 16);
            mma_bf16_16816(acc[0][mt], a0, bk[0], bk[1]);
            mma_bf16_16816(acc[1][mt], a1, bk[2], bk[3]);
          }
        }
      }
      const int tok = warp * 8 + 2 * t4;
      const int base = blk * kMlaBlock + tok;
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        float* s0 = ss + (mt * 16 + g) * S::kS + tok;
        float* s1 = s0 + 8 * S::kS;
        const float v0 = (acc[0][mt][0] + acc[1][mt][0]) * a.softmax_scale;
        const float v1 = (acc[0][mt][1] + acc[1][mt][1]) * a.softmax_scale;
        const float v2 = (acc[0][mt][2] + acc[1][mt][2]) * a.softmax_scale;
        const float v3 = (acc[0][mt][3] + acc[1][mt][3]) * a.softmax_scale;
        s0[0] = base < L ? v0 : kNegInf;
        s0[1] = base + 1 < L ? v1 : kNegInf;
        s1[0] = base < L ? v2 : kNegInf;
        s1[1] = base + 1 < L ? v3 : kNegInf;
      }
    }
    __syncthreads();

    // Online softmax, one head row per kTpr consecutive threads.
    {
      const int r = tid / kTpr, c0 = (tid % kTpr) * kCols;
      float v[kCols];
      float mx = kNegInf;
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        v[c] = ss[r * S::kS + c0 + c];
        mx = fmaxf(mx, v[c]);
      }
#pragma unroll
      for (int off = kTpr / 2; off > 0; off /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
      const float m_old = row_m[r];
      const float m_new = fmaxf(m_old, mx);
      float sum = 0.f;
#pragma unroll
      for (int c = 0; c < kCols; c += 2) {
        const float e0 = m_new == kNegInf ? 0.f : __expf(v[c] - m_new);
        const float e1 = m_new == kNegInf ? 0.f : __expf(v[c + 1] - m_new);
        sum += e0 + e1;
        *reinterpret_cast<uint32_t*>(ps + r * S::kP + c0 + c) = pack_bf16(e0, e1);
      }
#pragma unroll
      for (int off = kTpr / 2; off > 0; off /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, off);
      __syncwarp();
      if (tid % kTpr == 0) {
        const float alpha = m_old == kNegInf ? 0.f : __expf(m_old - m_new);
        row_alpha[r] = alpha;
        row_l[r] = row_l[r] * alpha + sum;
        row_m[r] = m_new;
      }
    }
    __syncthreads();

    // O = alpha * O + P V: warp w owns latent dims [64w, 64w + 64).
    {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        const float al0 = row_alpha[mt * 16 + g], al1 = row_alpha[mt * 16 + g + 8];
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          o[mt][j][0] *= al0;
          o[mt][j][1] *= al0;
          o[mt][j][2] *= al1;
          o[mt][j][3] *= al1;
        }
      }
#pragma unroll
      for (int kk = 0; kk < kMlaBlock / 16; ++kk) {
        uint32_t af[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
          ldmatrix_x4(af[mt], ps + (mt * 16 + (lane & 15)) * S::kP + kk * 16 + 8 * (lane >> 4));
#pragma unroll
        for (int jj = 0; jj < 4; ++jj) {
          uint32_t bf[4];
          const __nv_bfloat16* vrow = kv + (kk * 16 + (lane & 15)) * kLd + warp * 64 + jj * 16 + (lane >> 4) * 8;
          ldmatrix_x4_trans(bf, vrow);
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_bf16_16816(o[mt][2 * jj], af[mt], bf[0], bf[1]);
            mma_bf16_16816(o[mt][2 * jj + 1], af[mt], bf[2], bf[3]);
          }
        }
      }
    }
    __syncthreads();
  }

  // Epilogue: normalized partial output (or the final output when there is one split).
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int r = mt * 16 + g + 8 * half;
      const float l = row_l[r];
      const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const int d = warp * 64 + j * 8 + 2 * t4;
        const float x0 = o[mt][j][2 * half] * inv, x1 = o[mt][j][2 * half + 1] * inv;
        if (p.splits == 1) {
          *reinterpret_cast<__nv_bfloat162*>(a.out + (static_cast<int64_t>(b) * a.heads + head0 + r) * kMlaLatent + d) =
              __floats2bfloat162_rn(x0, x1);
        } else {
          *reinterpret_cast<float2*>(p.o_part + (part + r) * kMlaLatent + d) = make_float2(x0, x1);
        }
      }
    }
  }
  if (p.splits > 1)
    for (int i = tid; i < R; i += kThreads)
      p.lse_part[part + i] = row_l[i] > 0.f ? row_m[i] + logf(row_l[i]) : kNegInf;
}

// One block per (head, sequence): out = sum_s exp(lse_s - lse_max) o_s / sum_s exp(lse_s - lse_max).
__global__ void mla_combine_kernel(Params p) {
  pdl_trigger();
  pdl_wait();
  const int h = blockIdx.x, b = blockIdx.y;
  const MlaDecodeArgs& a = p.a;
  const int64_t base = static_cast<int64_t>(b) * p.splits * a.heads + h;
  float mx = kNegInf;
  for (int s = 0; s < p.splits; ++s) mx = fmaxf(mx, p.lse_part[base + static_cast<int64_t>(s) * a.heads]);
  const int d = threadIdx.x * 4;
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  float z = 0.f;
  if (mx != kNegInf) {
    for (int s = 0; s < p.splits; ++s) {
      const float lse = p.lse_part[base + static_cast<int64_t>(s) * a.heads];
      if (lse == kNegInf) continue;
      const float w = __expf(lse - mx);
      z += w;
      const float4 v = *reinterpret_cast<const float4*>(p.o_part + (base + static_cast<int64_t>(s) * a.heads) * kMlaLatent + d);
      acc[0] += w * v.x;
      acc[1] += w * v.y;
      acc[2] += w * v.z;
      acc[3] += w * v.w;
    }
  }
  const float inv = z > 0.f ? 1.f / z : 0.f;
  __nv_bfloat162* dst = reinterpret_cast<__nv_bfloat162*>(a.out + (static_cast<int64_t>(b) * a.heads + h) * kMlaLatent + d);
  dst[0] = __floats2bfloat162_rn(acc[0] * inv, acc[1] * inv);
  dst[1] = __floats2bfloat162_rn(acc[2] * inv, acc[3] * inv);
}

int heads_per_cta(int heads) { return heads % 32 == 0 ? 32 : 16; }

}  // namespace

int mla_decode_splits(const MlaDecodeArgs& a) {
  if (a.n_splits > 0) return a.n_splits;
  const int nb = std::max(1, (a.max_seq_len + kMlaBlock - 1) / kMlaBlock);
  const int ctas = a.batch * (a.heads / heads_per_cta(a.heads));
  const int sms = sm_count();
  // Minimise waves x blocks-per-CTA, plus a small cost per extra split (the merge).
  int best = 1;
  double best_cost = 1e30;
  for (int s = 1; s <= std::min(nb, 64); ++s) {
    const int waves = (ctas * s + sms - 1) / sms;
    const int per = (nb + s - 1) / s;
    const double cost = static_cast<double>(waves) * (per + 1) + 0.02 * s;
    if (cost < best_cost) {
      best_cost = cost;
      best = s;
    }
  }
  return best;
}

size_t mla_decode_scratch_bytes(const MlaDecodeArgs& a) {
  const int s = mla_decode_splits(a);
  if (s == 1) return 0;
  return static_cast<size_t>(a.batch) * s * a.heads * (kMlaLatent + 1) * sizeof(float);
}

void mla_decode(const MlaDecodeArgs& a, void* scratch, cudaStream_t stream) {
  if (a.heads <= 0 || a.heads % 16) throw std::invalid_argument("mla_decode: heads must be a positive multiple of 16");
  if (a.batch == 0) return;
  Params p{a, mla_decode_splits(a), nullptr, nullptr};
  if (p.splits > 1) {
    if (!scratch) throw std::invalid_argument("mla_decode: scratch needed for a split KV");
    p.o_part = static_cast<float*>(scratch);
    p.lse_part = p.o_part + static_cast<size_t>(a.batch) * p.splits * a.heads * kMlaLatent;
  }
  const int hpc = heads_per_cta(a.heads);
  const dim3 grid(static_cast<unsigned>(a.heads / hpc), static_cast<unsigned>(p.splits), static_cast<unsigned>(a.batch));
  if (hpc == 32) {
    static bool attr = false;
    if (!attr) {
      DSV3_CUDA_CHECK(cudaFuncSetAttribute(mla_decode_kernel<2>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(Smem<2>::total)));
      attr = true;
    }
    launch_pdl(mla_decode_kernel<2>, grid, dim3(kThreads), Smem<2>::total, stream, p);
  } else {
    static bool attr = false;
    if (!attr) {
      DSV3_CUDA_CHECK(cudaFuncSetAttribute(mla_decode_kernel<1>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(Smem<1>::total)));
      attr = true;
    }
    launch_pdl(mla_decode_kernel<1>, grid, dim3(kThreads), Smem<1>::total, stream, p);
  }
  DSV3_CUDA_CHECK(cudaGetLastError());
  if (p.splits > 1) {
    launch_pdl(mla_combine_kernel, dim3(static_cast<unsigned>(a.heads), static_cast<unsigned>(a.batch)), dim3(kMlaLatent / 4), 0,
               stream, p);
    DSV3_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace dsv3::model::cuda
