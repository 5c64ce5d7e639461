#include "model/cuda/moe.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/norm_rope_swiglu.hpp"

namespace dsv3::model::cuda {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// Index of the largest v[i] over i in [0, n) not yet taken, ties to the lower index.
__device__ int argmax_free(const float* v, int n, const bool* taken) {
  int best = -1;
  float bv = 0.f;
  for (int i = 0; i < n; ++i) {
    if (taken[i]) continue;
    if (best < 0 || v[i] > bv) {
      best = i;
      bv = v[i];
    }
  }
  return best;
}

// One thread per token; mirrors model/moe_gate.cpp route_one.
__global__ void route_kernel(RouterParams p, const float* __restrict__ logits, const float* __restrict__ bias,
                             int64_t tokens, int32_t* __restrict__ experts, float* __restrict__ weights) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= tokens) return;
  const int E = p.n_experts, G = p.n_group, per = E / G;
  float score[kMaxRouterExperts], choice[kMaxRouterExperts];
  bool taken[kMaxRouterExperts];
  const float* l = logits + t * E;
  if (p.sigmoid) {
    for (int e = 0; e < E; ++e) score[e] = 1.0f / (1.0f + expf(-l[e]));
  } else {
    float m = l[0];
    for (int e = 1; e < E; ++e) m = fmaxf(m, l[e]);
    double z = 0;
    for (int e = 0; e < E; ++e) z += exp(static_cast<double>(l[e] - m));
    for (int e = 0; e < E; ++e) score[e] = static_cast<float>(exp(static_cast<double>(l[e] - m)) / z);
  }
  for (int e = 0; e < E; ++e) {
    choice[e] = score[e] + (bias ? bias[e] : 0.0f);
    taken[e] = false;
  }
  const bool grouped = p.method != 2 && G > 1 && p.topk_group < G;
  if (grouped) {
    float gs[kMaxRouterExperts];
    bool gtaken[kMaxRouterExperts];
    for (int g = 0; g < G; ++g) {
      const float* c = choice + g * per;
      if (p.method == 0) {
        float a = kMasked, b = kMasked;
        for (int i = 0; i < per; ++i) {
          if (c[i] > a) {
            b = a;
            a = c[i];
          } else if (c[i] > b) {
            b = c[i];
          }
        }
        gs[g] = per >= 2 ? a + b : a;
      } else {
        float a = c[0];
        for (int i = 1; i < per; ++i) a = fmaxf(a, c[i]);
        gs[g] = a;
      }
      gtaken[g] = false;
    }
    for (int i = 0; i < p.topk_group; ++i) gtaken[argmax_free(gs, G, gtaken)] = true;
    for (int g = 0; g < G; ++g)
      if (!gtaken[g])
        for (int i = 0; i < per; ++i) choice[g * per + i] = kMasked;
  }
  double sum = 0;
  int idx[kMaxRouterExperts];
  for (int k = 0; k < p.top_k; ++k) {
    const int e = argmax_free(choice, E, taken);
    taken[e] = true;
    idx[k] = e;
    sum += score[e];
  }
  const bool normalise = p.norm_topk_prob && p.top_k > 1;
  for (int k = 0; k < p.top_k; ++k) {
    double w = score[idx[k]];
    if (normalise) w /= (sum + 1e-20);
    experts[t * p.top_k + k] = idx[k];
    weights[t * p.top_k + k] = static_cast<float>(w * p.routed_scaling_factor);
  }
}

__global__ void count_kernel(const int32_t* __restrict__ experts, int64_t n, int32_t* __restrict__ counts) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) atomicAdd(&counts[experts[i]], 1);
}

// Single block: offsets[0..E] = exclusive scan of counts; cursor = offsets.
__global__ void scan_kernel(const int32_t* __restrict__ counts, int E, int32_t* __restrict__ offsets,
                            int32_t* __restrict__ cursor) {
  if (threadIdx.x != 0) return;
  int32_t run = 0;
  for (int e = 0; e < E; ++e) {
    offsets[e] = run;
    cursor[e] = run;
    run += counts[e];
  }
  offsets[E] = run;
}

// Row i = t * k + j of the assignment list goes to slot pos[i] in its expert's segment; the row of x
// is copied there (one block per assignment, 16-byte copies).
__global__ void scatter_kernel(const int32_t* __restrict__ experts, int top_k, const __nv_bfloat16* __restrict__ x,
                               int64_t hidden, int32_t* __restrict__ cursor, int32_t* __restrict__ pos,
                               __nv_bfloat16* __restrict__ xp) {
  const int64_t i = blockIdx.x;
  __shared__ int32_t slot;
  if (threadIdx.x == 0) {
    slot = atomicAdd(&cursor[experts[i]], 1);
    pos[i] = slot;
  }
  __syncthreads();
  const int4* src = reinterpret_cast<const int4*>(x + (i / top_k) * hidden);
  int4* dst = reinterpret_cast<int4*>(xp + static_cast<int64_t>(slot) * hidden);
  for (int64_t c = threadIdx.x; c < hidden / 8; c += blockDim.x) dst[c] = src[c];
}

__global__ void combine_kernel(const __nv_bfloat16* __restrict__ yp, const int32_t* __restrict__ pos,
                               const float* __restrict__ weights, int top_k, int64_t hidden,
                               const __nv_bfloat16* __restrict__ shared, const __nv_bfloat16* residual,
                               __nv_bfloat16* out) {
  const int64_t t = blockIdx.x;
  for (int64_t c = threadIdx.x; c < hidden / 2; c += blockDim.x) {
    float ax = 0.f, ay = 0.f;
    for (int k = 0; k < top_k; ++k) {
      const float w = weights[t * top_k + k];
      const float2 v =
          __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(yp + static_cast<int64_t>(pos[t * top_k + k]) * hidden)[c]);
      ax += w * v.x;
      ay += w * v.y;
    }
    float2 r = __bfloat1622float2(__floats2bfloat162_rn(ax, ay));
    if (shared) {
      const float2 s = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(shared + t * hidden)[c]);
      r = __bfloat1622float2(__floats2bfloat162_rn(r.x + s.x, r.y + s.y));
    }
    if (residual) {
      const float2 s = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(residual + t * hidden)[c]);
      r = make_float2(r.x + s.x, r.y + s.y);
    }
    reinterpret_cast<__nv_bfloat162*>(out + t * hidden)[c] = __floats2bfloat162_rn(r.x, r.y);
  }
}

// Grouped small-batch expert product on CUDA cores: CTA (row block, expert e) computes, for the
// rows routed to e (segment [offsets[e], offsets[e+1]) of x), y = x · W_e^T over kRowsPerCta output
// rows, reading W_e once per 8 routed rows. With swiglu, W_e is [2I, K] (gate | up) and the output
// is act[., i] = silu(gate_i) * up_i for i in the block ([rows, I]); else W_e is [N, K].
constexpr int kGemvTok = 8, kGemvWarps = 8, kRowsPerWarp = 4, kRowsPerCta = kGemvWarps * kRowsPerWarp;

template <bool kSwiglu>
__global__ void __launch_bounds__(kGemvWarps * 32) expert_gemv_kernel(const __nv_bfloat16* __restrict__ x,
                                                                      const int32_t* __restrict__ offsets,
                                                                      const void* const* __restrict__ w, int64_t n_out,
                                                                      int64_t K, __nv_bfloat16* __restrict__ y) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __nv_bfloat16* xs = reinterpret_cast<__nv_bfloat16*>(smem_raw);
  const int e = blockIdx.y;
  const int64_t o = offsets[e], m = offsets[e + 1] - o;
  if (m == 0) return;
  const __nv_bfloat16* W = static_cast<const __nv_bfloat16*>(w[e]);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRowsPerCta + warp * kRowsPerWarp;
  for (int64_t t0 = 0; t0 < m; t0 += kGemvTok) {
    const int nt = static_cast<int>(m - t0 < kGemvTok ? m - t0 : kGemvTok);
    __syncthreads();
    for (int64_t i = threadIdx.x; i < nt * K / 8; i += blockDim.x) {
      const int64_t t = i / (K / 8), c = i % (K / 8);
      reinterpret_cast<int4*>(xs + t * K)[c] = reinterpret_cast<const int4*>(x + (o + t0 + t) * K)[c];
    }
    __syncthreads();
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t row = row0 + r;
      if (row >= n_out) break;
      float acc[kSwiglu ? 2 : 1][kGemvTok];
#pragma unroll
      for (int h = 0; h < (kSwiglu ? 2 : 1); ++h)
#pragma unroll
        for (int t = 0; t < kGemvTok; ++t) acc[h][t] = 0.f;
#pragma unroll
      for (int h = 0; h < (kSwiglu ? 2 : 1); ++h) {
        const __nv_bfloat16* wr = W + (row + h * n_out) * K;
        for (int64_t c = lane * 8; c < K; c += 32 * 8) {
          const int4 raw = *reinterpret_cast<const int4*>(wr + c);
          const __nv_bfloat162* wp = reinterpret_cast<const __nv_bfloat162*>(&raw);
          float wf[8];
#pragma unroll
          for (int j = 0; j < 4; ++j) {
            const float2 f = __bfloat1622float2(wp[j]);
            wf[2 * j] = f.x;
            wf[2 * j + 1] = f.y;
          }
#pragma unroll
          for (int t = 0; t < kGemvTok; ++t) {
            if (t >= nt) break;
            const int4 xr = *reinterpret_cast<const int4*>(xs + t * K + c);
            const __nv_bfloat162* xp = reinterpret_cast<const __nv_bfloat162*>(&xr);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
              const float2 f = __bfloat1622float2(xp[j]);
              acc[h][t] += wf[2 * j] * f.x + wf[2 * j + 1] * f.y;
            }
          }
        }
      }
#pragma unroll
      for (int t = 0; t < kGemvTok; ++t) {
        if (t >= nt) break;
        float g = acc[0][t];
        for (int off = 16; off > 0; off /= 2) g += __shfl_xor_sync(0xffffffffu, g, off);
        float u = 0.f;
        if (kSwiglu) {
          u = acc[kSwiglu ? 1 : 0][t];
          for (int off = 16; off > 0; off /= 2) u += __shfl_xor_sync(0xffffffffu, u, off);
        }
        if (lane == 0) {
          // SwiGLU on the bf16-rounded gate/up values, as the GEMM path computes it.
          float v = g;
          if (kSwiglu) {
            const float gb = __bfloat162float(__float2bfloat16(g)), ub = __bfloat162float(__float2bfloat16(u));
            v = gb / (1.f + __expf(-gb)) * ub;
          }
          y[(o + t0 + t) * n_out + row] = __float2bfloat16(v);
        }
      }
    }
  }
}

size_t align_up(size_t n) { return (n + 255) / 256 * 256; }

struct Scratch {
  int32_t *counts, *offsets, *cursor, *pos;
  __nv_bfloat16 *xp, *gu, *act, *yp;
  __nv_fp8_e4m3* q;
  float* qs;
};

Scratch carve(void* base, int64_t tokens, int top_k, int E, int64_t H, int64_t I) {
  const int64_t n = tokens * top_k;
  char* p = static_cast<char*>(base);
  Scratch s{};
  auto take = [&](size_t bytes) {
    char* r = p;
    p += align_up(bytes);
    return r;
  };
  s.counts = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * E));
  s.offsets = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * (E + 1)));
  s.cursor = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * E));
  s.pos = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * n));
  s.xp = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * n * H));
  s.gu = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * n * 2 * I));
  s.act = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * n * I));
  s.yp = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * n * H));
  s.q = reinterpret_cast<__nv_fp8_e4m3*>(take(n * std::max(H, I)));
  s.qs = reinterpret_cast<float*>(take(sizeof(float) * (n + 3 * E) * (std::max(H, I) / 128)));
  return s;
}

}  // namespace

void route(const RouterParams& p, const float* logits, const float* bias, int64_t tokens, int32_t* experts,
           float* weights, cudaStream_t stream) {
  if (p.n_experts <= 0 || p.n_experts > kMaxRouterExperts || p.top_k <= 0 || p.top_k > p.n_experts ||
      p.n_group <= 0 || p.n_experts % p.n_group || p.topk_group <= 0 || p.topk_group > p.n_group)
    throw std::invalid_argument("route: inconsistent gate parameters (experts, groups, top-k)");
  if (tokens == 0) return;
  route_kernel<<<static_cast<unsigned>((tokens + 63) / 64), 64, 0, stream>>>(p, logits, bias, tokens, experts, weights);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

size_t moe_scratch_bytes(int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter) {
  const int64_t n = tokens * top_k;
  const int64_t wide = std::max(hidden, inter);
  return align_up(4 * n_experts) * 2 + align_up(4 * (n_experts + 1)) + align_up(4 * n) + align_up(2 * n * hidden) * 2 +
         align_up(2 * n * 2 * inter) + align_up(2 * n * inter) + align_up(n * wide) +
         align_up(4 * (n + 3 * n_experts) * (wide / 128)) + 4096;
}

void moe_routed_experts(Gemm& gemm, const ExpertWeights& w, const __nv_bfloat16* x, const int32_t* experts,
                        const float* weights, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter,
                        const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out, void* scratch,
                        cudaStream_t stream) {
  if (tokens == 0) return;
  if (hidden % 8 || inter % 2) throw std::invalid_argument("moe: hidden must be a multiple of 8, inter even");
  const int64_t n = tokens * top_k;
  Scratch s = carve(scratch, tokens, top_k, n_experts, hidden, inter);
  DSV3_CUDA_CHECK(cudaMemsetAsync(s.counts, 0, sizeof(int32_t) * n_experts, stream));
  count_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(experts, n, s.counts);
  DSV3_CUDA_CHECK(cudaGetLastError());
  scan_kernel<<<1, 32, 0, stream>>>(s.counts, n_experts, s.offsets, s.cursor);
  DSV3_CUDA_CHECK(cudaGetLastError());
  scatter_kernel<<<static_cast<unsigned>(n), 128, 0, stream>>>(experts, top_k, x, hidden, s.cursor, s.pos, s.xp);
  DSV3_CUDA_CHECK(cudaGetLastError());
  if (!w.fp8 && w.d_gate_up && w.d_down && n <= kMoeSmallBatchRows && hidden % 8 == 0 && inter % 8 == 0) {
    // Decode-sized batches: grouped kernels over all experts, no host round trip.
    const size_t smem_gu = static_cast<size_t>(kGemvTok) * hidden * 2, smem_dn = static_cast<size_t>(kGemvTok) * inter * 2;
    if (smem_gu > 48 * 1024 || smem_dn > 48 * 1024) {
      DSV3_CUDA_CHECK(cudaFuncSetAttribute(expert_gemv_kernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(smem_gu)));
      DSV3_CUDA_CHECK(cudaFuncSetAttribute(expert_gemv_kernel<false>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(smem_dn)));
    }
    const dim3 g1(static_cast<unsigned>((inter + kRowsPerCta - 1) / kRowsPerCta), static_cast<unsigned>(n_experts));
    expert_gemv_kernel<true><<<g1, kGemvWarps * 32, smem_gu, stream>>>(s.xp, s.offsets, w.d_gate_up, inter, hidden,
                                                                         s.act);
    DSV3_CUDA_CHECK(cudaGetLastError());
    const dim3 g2(static_cast<unsigned>((hidden + kRowsPerCta - 1) / kRowsPerCta), static_cast<unsigned>(n_experts));
    expert_gemv_kernel<false><<<g2, kGemvWarps * 32, smem_dn, stream>>>(s.act, s.offsets, w.d_down, hidden, inter,
                                                                          s.yp);
    DSV3_CUDA_CHECK(cudaGetLastError());
    combine_kernel<<<static_cast<unsigned>(tokens), 256, 0, stream>>>(s.yp, s.pos, weights, top_k, hidden, shared,
                                                                       residual, out);
    DSV3_CUDA_CHECK(cudaGetLastError());
    return;
  }
  std::vector<int32_t> off(n_experts + 1);
  DSV3_CUDA_CHECK(cudaMemcpyAsync(off.data(), s.offsets, sizeof(int32_t) * (n_experts + 1), cudaMemcpyDeviceToHost, stream));
  DSV3_CUDA_CHECK(cudaStreamSynchronize(stream));

  if (w.fp8) {
    // Quantize the permuted rows once, each expert's rows as their own 1x128-scaled operand.
    quantize_act_1x128(s.xp, hidden, n, hidden, s.q, s.qs, s.offsets, n_experts, false, stream);
  }
  for (int e = 0; e < n_experts; ++e) {
    const int64_t o = off[e], m = off[e + 1] - off[e];
    if (m == 0) continue;
    if (w.fp8) {
      gemm.fp8_block(s.q + o * hidden, s.qs + act_scale_segment_base(o, e, hidden / 128), static_cast<const __nv_fp8_e4m3*>(w.gate_up[e]),
                     w.gate_up_scales[e], s.gu + o * 2 * inter, 2 * inter, m, 2 * inter, hidden, 0.f, stream);
    } else {
      gemm.bf16(s.xp + o * hidden, hidden, static_cast<const __nv_bfloat16*>(w.gate_up[e]), s.gu + o * 2 * inter,
                2 * inter, OutType::BF16, m, 2 * inter, hidden, 0.f, stream);
    }
  }
  swiglu(s.gu, n, inter, s.act, stream);
  if (w.fp8) quantize_act_1x128(s.act, inter, n, inter, s.q, s.qs, s.offsets, n_experts, false, stream);
  for (int e = 0; e < n_experts; ++e) {
    const int64_t o = off[e], m = off[e + 1] - off[e];
    if (m == 0) continue;
    if (w.fp8) {
      gemm.fp8_block(s.q + o * inter, s.qs + act_scale_segment_base(o, e, inter / 128), static_cast<const __nv_fp8_e4m3*>(w.down[e]),
                     w.down_scales[e], s.yp + o * hidden, hidden, m, hidden, inter, 0.f, stream);
    } else {
      gemm.bf16(s.act + o * inter, inter, static_cast<const __nv_bfloat16*>(w.down[e]), s.yp + o * hidden, hidden,
                OutType::BF16, m, hidden, inter, 0.f, stream);
    }
  }
  combine_kernel<<<static_cast<unsigned>(tokens), 256, 0, stream>>>(s.yp, s.pos, weights, top_k, hidden, shared,
                                                                     residual, out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
