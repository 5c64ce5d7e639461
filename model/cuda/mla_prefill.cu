#include "model/cuda/mla_prefill.hpp"

#include <limits>
#include <stdexcept>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/mma_sm80.cuh"

namespace dsv3::model::cuda {
namespace {

using namespace mma;

constexpr int kNope = 128, kRope = 64, kQk = kNope + kRope, kV = 128, kBlk = 64, kThreads = 128;
constexpr int kLdK = kQk + 8, kLdV = kV + 8;
constexpr size_t kSmemQ = size_t{kBlk} * kLdK * 2, kSmemK = size_t{kBlk} * kLdK * 2, kSmemV = size_t{kBlk} * kLdV * 2;
constexpr size_t kSmem = kSmemQ + 2 * (kSmemK + kSmemV);
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kLog2e = 1.4426950408889634f;

__global__ void __launch_bounds__(kThreads, 2) mla_prefill_kernel(MlaPrefillArgs a) {
  extern __shared__ __align__(16) unsigned char smem[];
  __nv_bfloat16* qs = reinterpret_cast<__nv_bfloat16*>(smem);
  __nv_bfloat16* ks = reinterpret_cast<__nv_bfloat16*>(smem + kSmemQ);
  __nv_bfloat16* vs = reinterpret_cast<__nv_bfloat16*>(smem + kSmemQ + 2 * kSmemK);

  const int qb = gridDim.x - 1 - blockIdx.x, h = blockIdx.y, seq = blockIdx.z;  // longest rows first
  const int start = a.cu_seqlens[seq], len = a.cu_seqlens[seq + 1] - start;
  if (qb * kBlk >= len) return;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32, g = lane / 4, t4 = lane % 4;

  // Q tile (rows past the end zero-filled).
  for (int c = tid; c < kBlk * (kQk / 8); c += kThreads) {
    const int r = c / (kQk / 8), col = (c % (kQk / 8)) * 8;
    const int tok = qb * kBlk + r;
    const bool ok = tok < len;
    const __nv_bfloat16* src = a.q + static_cast<int64_t>(start + (ok ? tok : 0)) * a.q_ld + h * a.q_hs + col;
    cp_async_16(qs + r * kLdK + col, src, ok ? 16 : 0);
  }
  auto load_kv = [&](int kb, int stage) {
    __nv_bfloat16* kd = ks + stage * kBlk * kLdK;
    __nv_bfloat16* vd = vs + stage * kBlk * kLdV;
    for (int c = tid; c < kBlk * (kQk / 8); c += kThreads) {
      const int r = c / (kQk / 8), col = (c % (kQk / 8)) * 8;
      const int tok = kb * kBlk + r;
      const bool ok = tok < len;
      const int64_t row = start + (ok ? tok : 0);
      const __nv_bfloat16* src = col < kNope ? a.k_nope + row * a.kn_ld + h * a.kn_hs + col
                                             : a.k_rope + row * a.kr_ld + (col - kNope);
      cp_async_16(kd + r * kLdK + col, src, ok ? 16 : 0);
    }
    for (int c = tid; c < kBlk * (kV / 8); c += kThreads) {
      const int r = c / (kV / 8), col = (c % (kV / 8)) * 8;
      const int tok = kb * kBlk + r;
      const bool ok = tok < len;
      const int64_t row = start + (ok ? tok : 0);
      cp_async_16(vd + r * kLdV + col, a.v + row * a.v_ld + h * a.v_hs + col, ok ? 16 : 0);
    }
  };
  load_kv(0, 0);
  cp_async_commit();

  float o[kV / 8][4];
#pragma unroll
  for (int j = 0; j < kV / 8; ++j)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[j][e] = 0.f;
  float m[2] = {kNegInf, kNegInf}, l[2] = {0.f, 0.f};
  const int q0 = qb * kBlk + warp * 16 + g;  // this thread's rows: q0 and q0 + 8
  const float sl2 = a.softmax_scale * kLog2e;
  uint32_t qf[kQk / 16][4];

  const int last = qb;  // causal: key blocks 0..qb
  for (int kb = 0; kb <= last; ++kb) {
    const int stage = kb & 1;
    if (kb + 1 <= last) {
      load_kv(kb + 1, stage ^ 1);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    if (kb == 0) {
#pragma unroll
      for (int kk = 0; kk < kQk / 16; ++kk) {
        const __nv_bfloat16* qr = qs + (warp * 16 + g) * kLdK + kk * 16 + 2 * t4;
        qf[kk][0] = lds32(qr);
        qf[kk][1] = lds32(qr + 8 * kLdK);
        qf[kk][2] = lds32(qr + 8);
        qf[kk][3] = lds32(qr + 8 * kLdK + 8);
      }
    }
    const __nv_bfloat16* kt = ks + stage * kBlk * kLdK;
    const __nv_bfloat16* vt = vs + stage * kBlk * kLdV;

    float s[kBlk / 8][4];
#pragma unroll
    for (int n = 0; n < kBlk / 8; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) s[n][e] = 0.f;
      const __nv_bfloat16* kr = kt + (n * 8 + g) * kLdK + 2 * t4;
#pragma unroll
      for (int kk = 0; kk < kQk / 16; ++kk) mma_bf16_16816(s[n], qf[kk], lds32(kr + kk * 16), lds32(kr + kk * 16 + 8));
    }
    // Mask (causal and sequence end), row max over the 4 threads of a row.
    float mx[2] = {kNegInf, kNegInf};
#pragma unroll
    for (int n = 0; n < kBlk / 8; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int qi = q0 + (e >= 2 ? 8 : 0);
        const int kj = kb * kBlk + n * 8 + 2 * t4 + (e & 1);
        s[n][e] = (kj <= qi && kj < len) ? s[n][e] * sl2 : kNegInf;
        mx[e >> 1] = fmaxf(mx[e >> 1], s[n][e]);
      }
    }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      const float mn = fmaxf(m[r], mx[r]);
      alpha[r] = (m[r] == kNegInf) ? 0.f : exp2f(m[r] - mn);
      m[r] = mn;
    }
    float sum[2] = {0.f, 0.f};
#pragma unroll
    for (int n = 0; n < kBlk / 8; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float mm = m[e >> 1];
        s[n][e] = mm == kNegInf ? 0.f : exp2f(s[n][e] - mm);
        sum[e >> 1] += s[n][e];
      }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      sum[r] += __shfl_xor_sync(0xffffffffu, sum[r], 1);
      sum[r] += __shfl_xor_sync(0xffffffffu, sum[r], 2);
      l[r] = l[r] * alpha[r] + sum[r];
    }
#pragma unroll
    for (int j = 0; j < kV / 8; ++j) {
      o[j][0] *= alpha[0];
      o[j][1] *= alpha[0];
      o[j][2] *= alpha[1];
      o[j][3] *= alpha[1];
    }
    // O += P V, P straight from the S accumulators.
#pragma unroll
    for (int kk = 0; kk < kBlk / 16; ++kk) {
      const uint32_t pf[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                              pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                              pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int jj = 0; jj < kV / 16; ++jj) {
        uint32_t bf[4];
        ldmatrix_x4_trans(bf, vt + (kk * 16 + (lane & 15)) * kLdV + jj * 16 + (lane >> 4) * 8);
        mma_bf16_16816(o[2 * jj], pf, bf[0], bf[1]);
        mma_bf16_16816(o[2 * jj + 1], pf, bf[2], bf[3]);
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int qi = q0 + 8 * r;
    if (qi >= len) continue;
    const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
    __nv_bfloat16* dst = a.out + static_cast<int64_t>(start + qi) * a.o_ld + h * kV + 2 * t4;
#pragma unroll
    for (int j = 0; j < kV / 8; ++j)
      *reinterpret_cast<__nv_bfloat162*>(dst + j * 8) = __floats2bfloat162_rn(o[j][2 * r] * inv, o[j][2 * r + 1] * inv);
  }
}

}  // namespace

void mla_prefill(const MlaPrefillArgs& a, cudaStream_t stream) {
  if (a.n_seqs == 0 || a.max_len == 0) return;
  if (a.q_ld % 8 || a.q_hs % 8 || a.kn_ld % 8 || a.kn_hs % 8 || a.kr_ld % 8 || a.v_ld % 8 || a.v_hs % 8 || a.o_ld % 8)
    throw std::invalid_argument("mla_prefill: strides must be multiples of 8 elements (16 bytes)");
  static bool attr = false;
  if (!attr) {
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(mla_prefill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(kSmem)));
    attr = true;
  }
  const dim3 grid(static_cast<unsigned>((a.max_len + kBlk - 1) / kBlk), static_cast<unsigned>(a.heads),
                  static_cast<unsigned>(a.n_seqs));
  mla_prefill_kernel<<<grid, kThreads, kSmem, stream>>>(a);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
