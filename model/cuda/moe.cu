#include "model/cuda/moe.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/launch_env.hpp"
#include "model/cuda/pdl.cuh"
#include "model/cuda/weight_load.cuh"
#include "model/cuda/norm_rope_swiglu.hpp"
#include "model/moe_group_score.hpp"

namespace dsv3::model::cuda {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// model/moe_gate.cpp's fast_expf, operation for operation (no FMA contraction), so that the GPU's
// sigmoid scores are the CPU gate's bit for bit.
__device__ inline float gate_expf(float x) {
  const float kRound = 12582912.0f;  // 1.5 * 2^23
  const float n = __fsub_rn(__fadd_rn(__fmul_rn(x, 1.44269504088896341f), kRound), kRound);
  const float r = __fsub_rn(__fsub_rn(x, __fmul_rn(n, 0.693145751953125f)), __fmul_rn(n, 1.428606765330187045e-06f));
  float q = 1.0f / 720;
  q = __fadd_rn(__fmul_rn(q, r), 1.0f / 120);
  q = __fadd_rn(__fmul_rn(q, r), 1.0f / 24);
  q = __fadd_rn(__fmul_rn(q, r), 1.0f / 6);
  q = __fadd_rn(__fmul_rn(q, r), 0.5f);
  q = __fadd_rn(__fmul_rn(q, r), 1.0f);
  q = __fadd_rn(__fmul_rn(q, r), 1.0f);
  return __fmul_rn(q, __int_as_float((static_cast<int>(n) + 127) << 23));
}

// Routes one token with one warp; mirrors model/moe_gate.cpp route_one (the same sigmoid, the
// same tie order: the lower expert index wins; softmax scores use the device's exp). Lane l holds experts l, l + 32, ... (up to
// 8 each); the first G lanes score the groups; every top-k pick is a warp argmax.
constexpr int kPerLane = kMaxRouterExperts / 32;

struct Best {
  float v;
  int i;  // -1: none
};

__device__ inline Best warp_best(Best b) {
  for (int off = 16; off > 0; off /= 2) {
    const float ov = __shfl_xor_sync(0xffffffffu, b.v, off);
    const int oi = __shfl_xor_sync(0xffffffffu, b.i, off);
    if (oi >= 0 && (b.i < 0 || ov > b.v || (ov == b.v && oi < b.i))) {
      b.v = ov;
      b.i = oi;
    }
  }
  return b;
}

// choice_sh: this warp's kMaxRouterExperts floats of shared memory.
__device__ void route_token_warp(const RouterParams& p, const float* __restrict__ l, const float* __restrict__ bias,
                                 int32_t* __restrict__ experts, float* __restrict__ weights, float* choice_sh,
                                 int32_t* experts_sh = nullptr) {
  const int lane = threadIdx.x % 32, E = p.n_experts, G = p.n_group, per = E / G;
  float score[kPerLane], choice[kPerLane];
  if (p.sigmoid) {
    // As the CPU gate: rows with a |logit| over 80 (or inf, NaN) take the library exp.
    bool out_of_range = false;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j)
      if (lane + 32 * j < E) out_of_range |= (__float_as_uint(l[lane + 32 * j]) & 0x7fffffffu) > 0x42a00000u;
    out_of_range = __any_sync(0xffffffffu, out_of_range);
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + 32 * j;
      score[j] = e < E ? 1.0f / (1.0f + (out_of_range ? expf(-l[e]) : gate_expf(-l[e]))) : 0.f;
    }
  } else {
    float m = kMasked;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j)
      if (lane + 32 * j < E) m = fmaxf(m, l[lane + 32 * j]);
    for (int off = 16; off > 0; off /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    double z = 0;
    // The sum in index order, as model/moe_gate.cpp (lane 0 adds up all E terms).
    if (lane == 0)
      for (int e = 0; e < E; ++e) z += exp(static_cast<double>(l[e] - m));
    z = __shfl_sync(0xffffffffu, z, 0);
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + 32 * j;
      score[j] = e < E ? static_cast<float>(exp(static_cast<double>(l[e] - m)) / z) : 0.f;
    }
  }
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int e = lane + 32 * j;
    choice[j] = score[j] + (bias && e < E ? bias[e] : 0.0f);
    if (e < E) choice_sh[e] = choice[j];
  }
  __syncwarp();
  const bool grouped = p.method != 2 && G > 1 && p.topk_group < G;
  if (grouped) {
    // Lane g < G: the score of group g (top-2 sum or max, as model/moe_gate.cpp).
    float gs = kMasked;
    if (lane < G) gs = moe_group_score(choice_sh + lane * per, per, p.method == 0, kMasked);
    bool gtaken = false;
    for (int i = 0; i < p.topk_group; ++i) {
      const Best b = warp_best({gs, lane < G && !gtaken ? lane : -1});
      if (lane == b.i) gtaken = true;
    }
    const unsigned keep = __ballot_sync(0xffffffffu, gtaken);
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + 32 * j;
      if (e < E && !((keep >> (e / per)) & 1u)) choice[j] = kMasked;
    }
  }
  unsigned taken = 0;
  double sum = 0;
  int idx_mine = -1;  // lane k < top_k keeps the k-th pick
  float score_mine = 0.f;
  for (int k = 0; k < p.top_k; ++k) {
    Best b{0.f, -1};
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane + 32 * j;
      if (e < E && !((taken >> j) & 1u) && (b.i < 0 || choice[j] > b.v)) {
        b.v = choice[j];
        b.i = e;
      }
    }
    b = warp_best(b);
    const int e = b.i;
    if (lane == e % 32) taken |= 1u << (e / 32);
    // The winner's score from its lane.
    float sc = 0.f;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j)
      if (lane + 32 * j == e) sc = score[j];
    sc = __shfl_sync(0xffffffffu, sc, e % 32);
    sum += sc;
    if (lane == k) {
      idx_mine = e;
      score_mine = sc;
    }
  }
  const bool normalise = p.norm_topk_prob && p.top_k > 1;
  if (lane < p.top_k) {
    double w = score_mine;
    if (normalise) w /= (sum + 1e-20);
    experts[lane] = idx_mine;
    if (experts_sh) experts_sh[lane] = idx_mine;
    weights[lane] = static_cast<float>(w * p.routed_scaling_factor);
  }
  __syncwarp();
}

// One warp per token (kRouteWarps tokens per CTA).
constexpr int kRouteWarps = 4;
__global__ void __launch_bounds__(kRouteWarps * 32) route_kernel(RouterParams p, const float* __restrict__ logits,
                                                                 const float* __restrict__ bias, int64_t tokens,
                                                                 int32_t* __restrict__ experts,
                                                                 float* __restrict__ weights) {
  __shared__ float choice_sh[kRouteWarps][kMaxRouterExperts];
  const int warp = threadIdx.x / 32;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * kRouteWarps + warp;
  if (t >= tokens) return;
  route_token_warp(p, logits + t * p.n_experts, bias, experts + t * p.top_k, weights + t * p.top_k, choice_sh[warp]);
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

// out[t, 2c..2c+1] = bf16(residual + bf16(bf16(sum_k w[t,k] * yp[pos[t,k]]) + shared)): the combine of
// one token's pair of columns, the k in the token's pick order. yp is read around L1 (the fused
// combine reads what other CTAs of its kernel wrote).
__device__ __forceinline__ void combine_pair(const __nv_bfloat16* yp, const int32_t* __restrict__ pos,
                                             const float* __restrict__ weights, int top_k, int64_t hidden,
                                             const __nv_bfloat16* shared, const __nv_bfloat16* residual,
                                             __nv_bfloat16* out, int64_t t, int64_t c) {
  float ax = 0.f, ay = 0.f;
  for (int k = 0; k < top_k; ++k) {
    const float w = weights[t * top_k + k];
    const float2 v = __bfloat1622float2(
        __ldcg(reinterpret_cast<const __nv_bfloat162*>(yp + static_cast<int64_t>(pos[t * top_k + k]) * hidden) + c));
    ax += w * v.x;
    ay += w * v.y;
  }
  float2 r = __bfloat1622float2(__floats2bfloat162_rn(ax, ay));
  if (shared) {
    const float2 sh = __bfloat1622float2(__ldcg(reinterpret_cast<const __nv_bfloat162*>(shared + t * hidden) + c));
    r = __bfloat1622float2(__floats2bfloat162_rn(r.x + sh.x, r.y + sh.y));
  }
  if (residual) {
    const float2 sh = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(residual + t * hidden)[c]);
    r = make_float2(r.x + sh.x, r.y + sh.y);
  }
  reinterpret_cast<__nv_bfloat162*>(out + t * hidden)[c] = __floats2bfloat162_rn(r.x, r.y);
}

__global__ void combine_kernel(const __nv_bfloat16* __restrict__ yp, const int32_t* __restrict__ pos,
                               const float* __restrict__ weights, int top_k, int64_t hidden,
                               const __nv_bfloat16* __restrict__ shared, const __nv_bfloat16* residual,
                               __nv_bfloat16* out) {
  pdl_trigger();
  pdl_wait();
  const int64_t t = blockIdx.x;
  for (int64_t c = static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x; c < hidden / 2;
       c += static_cast<int64_t>(blockDim.x) * gridDim.y)
    combine_pair(yp, pos, weights, top_k, hidden, shared, residual, out, t, c);
}

// SwiGLU over the padded expert rows (row r belongs to expert r / mmax), skipping the padding:
// act[r, i] = bf16(silu(gu[r, i]) * gu[r, I + i]), as cuda::swiglu.
__global__ void swiglu_padded_kernel(const __nv_bfloat16* __restrict__ gu, const int32_t* __restrict__ counts,
                                     int64_t mmax, int64_t inter, __nv_bfloat16* __restrict__ out) {
  pdl_trigger();
  pdl_wait();
  const int64_t r = blockIdx.x;
  if (r % mmax >= counts[r / mmax]) return;
  const __nv_bfloat162* g = reinterpret_cast<const __nv_bfloat162*>(gu + r * 2 * inter);
  const __nv_bfloat162* u = reinterpret_cast<const __nv_bfloat162*>(gu + r * 2 * inter + inter);
  __nv_bfloat162* o = reinterpret_cast<__nv_bfloat162*>(out + r * inter);
  for (int64_t j = threadIdx.x; j < inter / 2; j += blockDim.x) {
    const float2 gf = __bfloat1622float2(g[j]), uf = __bfloat1622float2(u[j]);
    const float a = gf.x / (1.f + __expf(-gf.x)), b = gf.y / (1.f + __expf(-gf.y));
    o[j] = __floats2bfloat162_rn(a * uf.x, b * uf.y);
  }
}

// Decode-sized batches (tokens * top_k <= kMoeSmallBatchRows): one CTA routes every token (when
// logits are given; else reads experts), counts the rows per expert, lays out the expert segments
// (offsets), lists the active experts in index order, and gives each assignment i = t * top_k + j
// its slot: offsets[e] + the number of earlier assignments to the same expert (deterministic).
// row_token[slot] = t; the grouped kernels read x through it (no gathered copy).
constexpr int kPermuteThreads = 512;

__global__ void __launch_bounds__(kPermuteThreads) permute_small_kernel(
    RouterParams p, const float* __restrict__ logits, const float* __restrict__ bias, int tokens,
    int32_t* __restrict__ experts, float* __restrict__ weights, int32_t* __restrict__ offsets,
    int32_t* __restrict__ active, int32_t* __restrict__ n_active, int32_t* __restrict__ row_token,
    int32_t* __restrict__ pos, bool late_trigger, int32_t* __restrict__ done, int n_done) {
  __shared__ int32_t ex[kMoeSmallBatchRows];
  __shared__ int32_t cnt[kMaxRouterExperts], off[kMaxRouterExperts];
  __shared__ float choice_sh[kPermuteThreads / 32][kMaxRouterExperts];
  __shared__ float bias_sh[kMaxRouterExperts];
  if (!late_trigger) pdl_trigger();
  const int E = p.n_experts, K = p.top_k, n = tokens * K, tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  // The bias and the zeroed counts depend on no earlier kernel: before the wait.
  for (int e = tid; e < E; e += blockDim.x) {
    if (bias) bias_sh[e] = bias[e];
    cnt[e] = 0;
  }
  __syncthreads();
  pdl_wait();
  for (int i = tid; i < n_done; i += blockDim.x) done[i] = 0;  // the fused combine's counters
  if (logits)
    for (int t = warp; t < tokens; t += kPermuteThreads / 32)
      route_token_warp(p, logits + static_cast<int64_t>(t) * E, bias ? bias_sh : nullptr, experts + t * K,
                       weights + t * K, choice_sh[warp], ex + t * K);
  else
    for (int i = tid; i < n; i += blockDim.x) ex[i] = experts[i];
  __syncthreads();
  for (int i = tid; i < n; i += blockDim.x) atomicAdd(&cnt[ex[i]], 1);
  __syncthreads();
  if (warp == 0) {
    // Lane l owns experts [l * kPerLane, (l + 1) * kPerLane): segment offsets and the active list
    // (index order) by a warp-wide exclusive scan of its row and active counts.
    int rows = 0, act = 0;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane * kPerLane + j;
      const int c = e < E ? cnt[e] : 0;
      rows += c;
      act += c > 0;
    }
    int rows_in = rows, act_in = act;
    for (int o = 1; o < 32; o *= 2) {
      const int r = __shfl_up_sync(0xffffffffu, rows_in, o), a = __shfl_up_sync(0xffffffffu, act_in, o);
      if (lane >= o) {
        rows_in += r;
        act_in += a;
      }
    }
    int run = rows_in - rows, na = act_in - act;
#pragma unroll
    for (int j = 0; j < kPerLane; ++j) {
      const int e = lane * kPerLane + j;
      if (e >= E) break;
      off[e] = run;
      offsets[e] = run;
      if (cnt[e] > 0) active[na++] = e;
      run += cnt[e];
    }
    if (lane == 31) {
      offsets[E] = rows_in;
      *n_active = act_in;
    }
  }
  __syncthreads();
  for (int i = tid; i < n; i += blockDim.x) {
    const int e = ex[i];
    int r = 0;
    for (int j = 0; j < i; ++j) r += ex[j] == e;
    const int slot = off[e] + r;
    pos[i] = slot;
    row_token[slot] = i / K;
  }
  if (late_trigger) pdl_trigger();
}

// Grouped expert product for few rows per expert, on CUDA cores, streaming each active expert's
// weights once at close to the HBM bandwidth. CTA (row block, j) works on the j-th active expert e
// (blockIdx.y >= n_active: nothing) and its routed rows (segment [offsets[e], offsets[e+1]),
// activations x[row_token[slot]] or x[slot] when row_token is null): y[slot, row] = x · W_e[row]^T
// for kGemvWarps x kRowsPerWarp output rows, up to tok_cap (<= kGemvTok) routed rows at a time staged in shared memory. Each
// lane keeps a whole slab (kSlab 16-byte chunks, gate and up) of a weight row in flight before
// using it. With kSwiglu, W_e is [2I, K] (gate | up) and y[slot, i] = silu(gate_i) * up_i ([rows, I]).
constexpr int kGemvTok = 8, kGemvWarps = 8, kSlab = 8;

// The combine fused into the down kernel (done non-null): the last of the CTAs that share a block
// of output rows (one per active expert; done[blockIdx.x] counts them) combines those rows of every
// token, as combine_kernel. The routing kernel zeroes the counters.
struct FusedCombine {
  const int32_t* pos = nullptr;
  const float* weights = nullptr;
  int top_k = 0, tokens = 0;
  const __nv_bfloat16* shared = nullptr;
  const __nv_bfloat16* residual = nullptr;
  __nv_bfloat16* out = nullptr;
  int32_t* done = nullptr;
};

template <bool kSwiglu, int kRowsPerWarp>
__global__ void __launch_bounds__(kGemvWarps * 32) expert_gemv_kernel(
    const __nv_bfloat16* __restrict__ x, const int32_t* __restrict__ row_token, const int32_t* __restrict__ offsets,
    const int32_t* __restrict__ active, const int32_t* __restrict__ n_active, const void* const* __restrict__ w,
    int64_t n_out, int64_t K, int tok_cap, __nv_bfloat16* y, FusedCombine fc) {
  pdl_trigger();
  pdl_wait();
  constexpr int kH = kSwiglu ? 2 : 1;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  __nv_bfloat16* xs = reinterpret_cast<__nv_bfloat16*>(smem_raw);
  if (static_cast<int>(blockIdx.y) >= *n_active) return;
  const int e = active[blockIdx.y];
  const int64_t o = offsets[e], m = offsets[e + 1] - o;
  const __nv_bfloat16* W = static_cast<const __nv_bfloat16*>(w[e]);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp) * kRowsPerWarp;
  const int64_t chunks = K / 8;
  for (int64_t t0 = 0; t0 < m; t0 += tok_cap) {
    const int nt = static_cast<int>(m - t0 < tok_cap ? m - t0 : tok_cap);
    __syncthreads();
    for (int64_t i = threadIdx.x; i < nt * chunks; i += blockDim.x) {
      const int64_t t = i / chunks, c = i % chunks, slot = o + t0 + t;
      const int64_t src = row_token ? row_token[slot] : slot;
      reinterpret_cast<int4*>(xs + t * K)[c] = reinterpret_cast<const int4*>(x + src * K)[c];
    }
    __syncthreads();
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t row = row0 + r;
      if (row >= n_out) break;
      float acc[kH][kGemvTok];
#pragma unroll
      for (int h = 0; h < kH; ++h)
#pragma unroll
        for (int t = 0; t < kGemvTok; ++t) acc[h][t] = 0.f;
      for (int64_t c0 = 0; c0 < chunks; c0 += 32 * kSlab) {
        int4 wv[kH][kSlab];
#pragma unroll
        for (int h = 0; h < kH; ++h)
#pragma unroll
          for (int s = 0; s < kSlab; ++s) {
            const int64_t c = c0 + s * 32 + lane;
            wv[h][s] = c < chunks ? load_weight16(reinterpret_cast<const int4*>(W + (row + h * n_out) * K) + c) : int4{0, 0, 0, 0};
          }
#pragma unroll
        for (int s = 0; s < kSlab; ++s) {
          const int64_t c = c0 + s * 32 + lane;
          if (c >= chunks) break;
#pragma unroll
          for (int t = 0; t < kGemvTok; ++t) {
            if (t >= nt) break;
            const int4 xr = reinterpret_cast<const int4*>(xs + t * K)[c];
#pragma unroll
            for (int h = 0; h < kH; ++h) acc[h][t] = dot8_bf16(wv[h][s], xr, acc[h][t]);
          }
        }
      }
      float mine = 0.f;
#pragma unroll
      for (int t = 0; t < kGemvTok; ++t) {
        if (t >= nt) break;
        float g = acc[0][t];
        for (int off = 16; off > 0; off /= 2) g += __shfl_xor_sync(0xffffffffu, g, off);
        float v = g;
        if (kSwiglu) {
          float u = acc[kH - 1][t];
          for (int off = 16; off > 0; off /= 2) u += __shfl_xor_sync(0xffffffffu, u, off);
          // SwiGLU on the bf16-rounded gate/up values, as the GEMM path computes it.
          const float gb = __bfloat162float(__float2bfloat16(g)), ub = __bfloat162float(__float2bfloat16(u));
          v = gb / (1.f + __expf(-gb)) * ub;
        }
        if (lane == t) mine = v;
      }
      if (lane < nt) y[(o + t0 + lane) * n_out + row] = __float2bfloat16(mine);
    }
  }
  if (!kSwiglu && fc.done) {
    __shared__ int last;
    __threadfence();  // this CTA's rows of y before its count
    __syncthreads();
    if (threadIdx.x == 0) {
      last = atomicAdd(fc.done + blockIdx.x, 1) == *n_active - 1;
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    const int64_t first = static_cast<int64_t>(blockIdx.x) * kGemvWarps * kRowsPerWarp / 2;
    const int64_t pairs = min(static_cast<int64_t>(kGemvWarps * kRowsPerWarp / 2), n_out / 2 - first);
    for (int64_t i = threadIdx.x; i < fc.tokens * pairs; i += blockDim.x)
      combine_pair(y, fc.pos, fc.weights, fc.top_k, n_out, fc.shared, fc.residual, fc.out, i / pairs,
                   first + i % pairs);
  }
}

size_t align_up(size_t n) { return (n + 255) / 256 * 256; }

// Counters of the fused combine: one per block of output rows of the down kernel. A block has
// 8 x (rows a warp) >= 8 rows, so hidden / 8 + 1 covers any rows a warp and a partial last block.
int n_done(int64_t hidden) { return static_cast<int>(hidden / 8 + 1); }

// DSV3_CUDA_MOE_FUSED_COMBINE=0: the combine as a kernel of its own after the down kernel. Fused
// only at one token: 1150 -> 1134 us a mid-model step there (run AT), but about 1% slower at batch
// 16 (runs AP, AR), where the event wait before the down kernel costs its early launch.
bool combine_in_down(int64_t tokens) { return tokens == 1 && env_on("DSV3_CUDA_MOE_FUSED_COMBINE"); }

// The counters the routing kernel zeroes: only where the down kernel will combine.
int counters_to_zero(int64_t tokens, int64_t hidden) { return combine_in_down(tokens) ? n_done(hidden) : 0; }

struct Scratch {
  int32_t *counts, *offsets, *cursor, *pos, *active, *n_active, *row_token, *done;
  __nv_bfloat16 *xp, *gu, *act, *yp;
  __nv_fp8_e4m3* q;
  float* qs;
};

// One layout for both the sizing and the carving.
template <class Take>
Scratch layout(Take&& take, int64_t tokens, int top_k, int E, int64_t H, int64_t I) {
  const int64_t n = tokens * top_k;
  // Expert rows: n packed, or up to 2n in the padded layout of the batched path.
  const int64_t rows = n <= kMoeSmallBatchRows ? n : 2 * n;
  Scratch s{};
  s.counts = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * E));
  s.offsets = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * (E + 1)));
  s.cursor = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * E));
  s.active = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * E));
  s.n_active = reinterpret_cast<int32_t*>(take(sizeof(int32_t)));
  s.pos = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * n));
  s.row_token = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * n));
  s.done = reinterpret_cast<int32_t*>(take(sizeof(int32_t) * n_done(H)));
  s.xp = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * rows * H));
  s.gu = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * rows * 2 * I));
  s.act = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * rows * I));
  s.yp = reinterpret_cast<__nv_bfloat16*>(take(sizeof(__nv_bfloat16) * rows * H));
  s.q = reinterpret_cast<__nv_fp8_e4m3*>(take(n * std::max(H, I)));
  s.qs = reinterpret_cast<float*>(take(sizeof(float) * (n + 3 * E) * (std::max(H, I) / 128)));
  return s;
}

Scratch carve(void* base, int64_t tokens, int top_k, int E, int64_t H, int64_t I) {
  char* p = static_cast<char*>(base);
  return layout(
      [&](size_t bytes) {
        char* r = p;
        p += align_up(bytes);
        return r;
      },
      tokens, top_k, E, H, I);
}

// DSV3_CUDA_MOE_GROUPED_GEMM=0: BF16 experts of large batches run one cuBLASLt GEMM per expert
// (over the side streams) instead of the cuBLAS grouped call (a diagnostic).
bool grouped_gemm_enabled() {
  static const bool on = env_on("DSV3_CUDA_MOE_GROUPED_GEMM");
  return on;
}

// DSV3_CUDA_MOE_PADDED=0: large BF16 batches skip the padded strided-batched path (a diagnostic).
bool padded_enabled() {
  static const bool on = env_on("DSV3_CUDA_MOE_PADDED");
  return on;
}

// The routing kernel lets the grouped gate_up kernel launch only once it has written the slots
// (DSV3_CUDA_MOE_LATE_TRIGGER=0: at its start, as the other kernels). Launched early, gate_up's
// CTAs sit waiting on every multiprocessor and keep the shared expert (on the side stream) from
// running while the router and the routing kernel work. Mid model: 1238 -> 1134 us a step at
// batch 1, 4278 -> 4002 at batch 16 (runs AT, AU).
bool late_trigger() { return env_on("DSV3_CUDA_MOE_LATE_TRIGGER"); }

bool small_path(const ExpertWeights& w, int64_t n, int64_t hidden, int64_t inter, int n_experts) {
  return !w.fp8 && w.d_gate_up && w.d_down && n <= kMoeSmallBatchRows && hidden % 8 == 0 && inter % 8 == 0 &&
         n_experts <= kMaxRouterExperts;
}

void check_params(const RouterParams& p) {
  if (p.n_experts <= 0 || p.n_experts > kMaxRouterExperts || p.top_k <= 0 || p.top_k > p.n_experts ||
      p.top_k > 32 || p.n_group <= 0 || p.n_group > 32 || p.n_experts % p.n_group || p.topk_group <= 0 ||
      p.topk_group > p.n_group)
    throw std::invalid_argument("route: inconsistent gate parameters (experts, groups, top-k)");
}

void combine(const Scratch& s, const float* weights, int64_t tokens, int top_k, int64_t hidden,
             const __nv_bfloat16* shared, cudaEvent_t shared_ready, const __nv_bfloat16* residual, __nv_bfloat16* out,
             cudaStream_t stream) {
  if (shared && shared_ready) DSV3_CUDA_CHECK(cudaStreamWaitEvent(stream, shared_ready, 0));
  // Several CTAs per token when there are few tokens (decode): the row's pairs spread over them.
  const unsigned split = static_cast<unsigned>(std::clamp<int64_t>((hidden / 2 + 255) / 256, 1, tokens >= 64 ? 1 : 8));
  launch_pdl(combine_kernel, dim3(static_cast<unsigned>(tokens), split), dim3(256), 0, stream, s.yp, s.pos, weights, top_k, hidden,
                                                                                  shared, residual, out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

template <int RPW>
void run_small_gemvs(const ExpertWeights& w, const Scratch& s, const __nv_bfloat16* x, int64_t tokens, int top_k,
                     int n_experts, int64_t hidden, int64_t inter, const FusedCombine& fc, cudaEvent_t before_down,
                     cudaStream_t stream) {
  const int64_t n = tokens * top_k;
  // An expert has at most `tokens` rows (a token picks it once): shared memory for that many, so
  // that at batch 1 a whole wave of CTAs fits (8 a multiprocessor, not the 6 of kGemvTok rows).
  const size_t staged = static_cast<size_t>(std::min<int64_t>(kGemvTok, tokens));
  const size_t smem_gu = staged * hidden * 2, smem_dn = staged * inter * 2;
  static size_t attr_gu = 48 * 1024, attr_dn = 48 * 1024;
  if (smem_gu > attr_gu) {
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(expert_gemv_kernel<true, RPW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem_gu)));
    attr_gu = smem_gu;
  }
  if (smem_dn > attr_dn) {
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(expert_gemv_kernel<false, RPW>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(smem_dn)));
    attr_dn = smem_dn;
  }
  constexpr int kRowsPerCta = kGemvWarps * RPW;
  const unsigned slots = static_cast<unsigned>(std::min<int64_t>(n, n_experts));  // active experts, at most
  const dim3 g1(static_cast<unsigned>((inter + kRowsPerCta - 1) / kRowsPerCta), slots);
  launch_pdl(expert_gemv_kernel<true, RPW>, g1, dim3(kGemvWarps * 32), smem_gu, stream, x, s.row_token, s.offsets,
             s.active, s.n_active, w.d_gate_up, inter, hidden, static_cast<int>(staged), s.act, FusedCombine{});
  DSV3_CUDA_CHECK(cudaGetLastError());
  if (before_down) DSV3_CUDA_CHECK(cudaStreamWaitEvent(stream, before_down, 0));
  const dim3 g2(static_cast<unsigned>((hidden + kRowsPerCta - 1) / kRowsPerCta), slots);
  launch_pdl(expert_gemv_kernel<false, RPW>, g2, dim3(kGemvWarps * 32), smem_dn, stream, s.act, nullptr, s.offsets,
             s.active, s.n_active, w.d_down, hidden, inter, static_cast<int>(staged), s.yp, fc);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

// The grouped small-batch pass after permute_small_kernel: gate_up + SwiGLU, down, combine.
void run_small(const ExpertWeights& w, const Scratch& s, const __nv_bfloat16* x, const float* weights, int64_t tokens,
               int top_k, int n_experts, int64_t hidden, int64_t inter, const __nv_bfloat16* shared,
               cudaEvent_t shared_ready, const __nv_bfloat16* residual, __nv_bfloat16* out, cudaStream_t stream) {
  // Four output rows per warp: at batch 1 the gate_up grid is then one wave (264 CTAs of 2 a
  // multiprocessor) instead of four; 1265 -> 1251 us a mid-model step against one row (run AI).
  // The combine inside the down kernel (its last CTA per block of rows): one dependent launch fewer.
  FusedCombine fc;
  if (combine_in_down(tokens))
    fc = {s.pos, weights, top_k, static_cast<int>(tokens), shared, residual, out, s.done};
  run_small_gemvs<4>(w, s, x, tokens, top_k, n_experts, hidden, inter, fc, fc.done && shared ? shared_ready : nullptr,
                     stream);
  if (!fc.done) combine(s, weights, tokens, top_k, hidden, shared, shared_ready, residual, out, stream);
}

}  // namespace

ExpertStreams::ExpertStreams(int n) {
  streams.resize(static_cast<size_t>(n));
  done.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    DSV3_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[i], cudaStreamNonBlocking));
    DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&done[i], cudaEventDisableTiming));
  }
  DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&start, cudaEventDisableTiming));
}

ExpertStreams::~ExpertStreams() {
  for (size_t i = 0; i < streams.size(); ++i) {
    cudaStreamSynchronize(streams[i]);
    cudaStreamDestroy(streams[i]);
    cudaEventDestroy(done[i]);
  }
  if (start) cudaEventDestroy(start);
}

void route(const RouterParams& p, const float* logits, const float* bias, int64_t tokens, int32_t* experts,
           float* weights, cudaStream_t stream) {
  check_params(p);
  if (tokens == 0) return;
  route_kernel<<<static_cast<unsigned>((tokens + kRouteWarps - 1) / kRouteWarps), kRouteWarps * 32, 0, stream>>>(
      p, logits, bias, tokens, experts, weights);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

size_t moe_scratch_bytes(int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter) {
  size_t total = 0;
  layout(
      [&](size_t bytes) {
        total += align_up(bytes);
        return static_cast<char*>(nullptr);
      },
      tokens, top_k, n_experts, hidden, inter);
  return total + 4096;
}

bool moe_graph_safe(const ExpertWeights& w, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter) {
  return tokens == 0 || small_path(w, tokens * top_k, hidden, inter, n_experts);
}

void moe_routed_experts(Gemm& gemm, const ExpertWeights& w, const __nv_bfloat16* x, const int32_t* experts,
                        const float* weights, int64_t tokens, int top_k, int n_experts, int64_t hidden, int64_t inter,
                        const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out, void* scratch,
                        cudaStream_t stream, const MoeExtras& extras) {
  if (tokens == 0) return;
  if (hidden % 8 || inter % 2) throw std::invalid_argument("moe: hidden must be a multiple of 8, inter even");
  const int64_t n = tokens * top_k;
  Scratch s = carve(scratch, tokens, top_k, n_experts, hidden, inter);
  if (small_path(w, n, hidden, inter, n_experts)) {
    // Decode-sized batches: no host round trip, graph-capturable.
    RouterParams p;
    p.n_experts = n_experts;
    p.top_k = top_k;
    launch_pdl(permute_small_kernel, dim3(1), dim3(kPermuteThreads), 0, stream, p, nullptr, nullptr,
               static_cast<int>(tokens), const_cast<int32_t*>(experts), nullptr, s.offsets, s.active, s.n_active,
               s.row_token, s.pos, late_trigger(), s.done, counters_to_zero(tokens, hidden));
    DSV3_CUDA_CHECK(cudaGetLastError());
    run_small(w, s, x, weights, tokens, top_k, n_experts, hidden, inter, shared, extras.shared_ready, residual,
              out, stream);
    return;
  }
  DSV3_CUDA_CHECK(cudaMemsetAsync(s.counts, 0, sizeof(int32_t) * n_experts, stream));
  count_kernel<<<static_cast<unsigned>((n + 255) / 256), 256, 0, stream>>>(experts, n, s.counts);
  DSV3_CUDA_CHECK(cudaGetLastError());
  if (!w.fp8 && w.gate_up_all && w.down_all && n > kMoeSmallBatchRows && padded_enabled()) {
    // Rows padded to the busiest expert's count (a multiple of 64, fewer distinct GEMM shapes):
    // expert e's rows at [e * Mmax, e * Mmax + count_e); two strided-batched GEMMs over all experts.
    std::vector<int32_t> cnt(n_experts);
    DSV3_CUDA_CHECK(cudaMemcpyAsync(cnt.data(), s.counts, sizeof(int32_t) * n_experts, cudaMemcpyDeviceToHost, stream));
    DSV3_CUDA_CHECK(cudaStreamSynchronize(stream));
    const int64_t busiest = *std::max_element(cnt.begin(), cnt.end());
    const int64_t mmax = (busiest + 63) / 64 * 64;
    if (mmax * n_experts <= 2 * n) {
      std::vector<int32_t> start(n_experts);
      for (int e = 0; e < n_experts; ++e) start[e] = static_cast<int32_t>(e * mmax);
      DSV3_CUDA_CHECK(cudaMemcpyAsync(s.cursor, start.data(), sizeof(int32_t) * n_experts, cudaMemcpyHostToDevice, stream));
      scatter_kernel<<<static_cast<unsigned>(n), 128, 0, stream>>>(experts, top_k, x, hidden, s.cursor, s.pos, s.xp);
      DSV3_CUDA_CHECK(cudaGetLastError());
      const auto* wgu = static_cast<const __nv_bfloat16*>(w.gate_up_all);
      const auto* wdn = static_cast<const __nv_bfloat16*>(w.down_all);
      gemm.bf16_batched(s.xp, hidden, mmax * hidden, wgu, hidden, 2 * inter * hidden, true, s.gu, 2 * inter,
                        mmax * 2 * inter, mmax, 2 * inter, hidden, n_experts, stream);
      launch_pdl(swiglu_padded_kernel, dim3(static_cast<unsigned>(mmax * n_experts)), dim3(256), 0, stream, s.gu,
                 s.counts, mmax, inter, s.act);
      gemm.bf16_batched(s.act, inter, mmax * inter, wdn, inter, hidden * inter, true, s.yp, hidden, mmax * hidden, mmax,
                        hidden, inter, n_experts, stream);
      combine(s, weights, tokens, top_k, hidden, shared, extras.shared_ready, residual, out, stream);
      return;
    }
  }
  scan_kernel<<<1, 32, 0, stream>>>(s.counts, n_experts, s.offsets, s.cursor);
  DSV3_CUDA_CHECK(cudaGetLastError());
  scatter_kernel<<<static_cast<unsigned>(n), 128, 0, stream>>>(experts, top_k, x, hidden, s.cursor, s.pos, s.xp);
  DSV3_CUDA_CHECK(cudaGetLastError());
  std::vector<int32_t> off(n_experts + 1);
  DSV3_CUDA_CHECK(cudaMemcpyAsync(off.data(), s.offsets, sizeof(int32_t) * (n_experts + 1), cudaMemcpyDeviceToHost, stream));
  DSV3_CUDA_CHECK(cudaStreamSynchronize(stream));

  if (w.fp8) {
    // Quantize the permuted rows once, each expert's rows as their own 1x128-scaled operand.
    quantize_act_1x128(s.xp, hidden, n, hidden, s.q, s.qs, s.offsets, n_experts, false, stream);
  }
  if (!w.fp8 && grouped_gemm_enabled()) {
    // BF16: each of the two expert GEMMs as one cuBLAS grouped call over the non-empty experts.
    std::vector<const __nv_bfloat16*> xs, ws_gu, ws_dn, as;
    std::vector<__nv_bfloat16*> gus, ys;
    std::vector<int> ms;
    for (int e = 0; e < n_experts; ++e) {
      const int64_t o = off[e], m = off[e + 1] - off[e];
      if (m == 0) continue;
      xs.push_back(s.xp + o * hidden);
      gus.push_back(s.gu + o * 2 * inter);
      as.push_back(s.act + o * inter);
      ys.push_back(s.yp + o * hidden);
      ws_gu.push_back(static_cast<const __nv_bfloat16*>(w.gate_up[e]));
      ws_dn.push_back(static_cast<const __nv_bfloat16*>(w.down[e]));
      ms.push_back(static_cast<int>(m));
    }
    gemm.bf16_grouped(xs, ws_gu, gus, ms, 2 * inter, hidden, stream);
    swiglu(s.gu, n, inter, s.act, stream);
    gemm.bf16_grouped(as, ws_dn, ys, ms, hidden, inter, stream);
    combine(s, weights, tokens, top_k, hidden, shared, extras.shared_ready, residual, out, stream);
    return;
  }
  // One GEMM per expert, spread over the side streams so that several run at once.
  const ExpertStreams* side = extras.streams;
  const int ns = side ? static_cast<int>(side->streams.size()) : 0;
  auto fork = [&] {
    if (!ns) return;
    DSV3_CUDA_CHECK(cudaEventRecord(side->start, stream));
    for (int i = 0; i < ns; ++i) DSV3_CUDA_CHECK(cudaStreamWaitEvent(side->streams[i], side->start, 0));
  };
  auto join = [&] {
    if (!ns) return;
    for (int i = 0; i < ns; ++i) {
      DSV3_CUDA_CHECK(cudaEventRecord(side->done[i], side->streams[i]));
      DSV3_CUDA_CHECK(cudaStreamWaitEvent(stream, side->done[i], 0));
    }
  };
  auto on = [&](int k) { return ns ? side->streams[k % ns] : stream; };
  fork();
  for (int e = 0, k = 0; e < n_experts; ++e) {
    const int64_t o = off[e], m = off[e + 1] - off[e];
    if (m == 0) continue;
    if (w.fp8) {
      gemm.fp8_block(s.q + o * hidden, s.qs + act_scale_segment_base(o, e, hidden / 128), static_cast<const __nv_fp8_e4m3*>(w.gate_up[e]),
                     w.gate_up_scales[e], s.gu + o * 2 * inter, 2 * inter, m, 2 * inter, hidden, 0.f, on(k++));
    } else {
      gemm.bf16(s.xp + o * hidden, hidden, static_cast<const __nv_bfloat16*>(w.gate_up[e]), s.gu + o * 2 * inter,
                2 * inter, OutType::BF16, m, 2 * inter, hidden, 0.f, on(k++));
    }
  }
  join();
  swiglu(s.gu, n, inter, s.act, stream);
  if (w.fp8) quantize_act_1x128(s.act, inter, n, inter, s.q, s.qs, s.offsets, n_experts, false, stream);
  fork();
  for (int e = 0, k = 0; e < n_experts; ++e) {
    const int64_t o = off[e], m = off[e + 1] - off[e];
    if (m == 0) continue;
    if (w.fp8) {
      gemm.fp8_block(s.q + o * inter, s.qs + act_scale_segment_base(o, e, inter / 128), static_cast<const __nv_fp8_e4m3*>(w.down[e]),
                     w.down_scales[e], s.yp + o * hidden, hidden, m, hidden, inter, 0.f, on(k++));
    } else {
      gemm.bf16(s.act + o * inter, inter, static_cast<const __nv_bfloat16*>(w.down[e]), s.yp + o * hidden, hidden,
                OutType::BF16, m, hidden, inter, 0.f, on(k++));
    }
  }
  join();
  combine(s, weights, tokens, top_k, hidden, shared, extras.shared_ready, residual, out, stream);
}

void moe_forward(Gemm& gemm, const RouterParams& p, const float* logits, const float* bias, const ExpertWeights& w,
                 const __nv_bfloat16* x, int64_t tokens, int64_t hidden, int64_t inter, int32_t* experts,
                 float* weights, const __nv_bfloat16* shared, const __nv_bfloat16* residual, __nv_bfloat16* out,
                 void* scratch, cudaStream_t stream, const MoeExtras& extras) {
  check_params(p);
  if (tokens == 0) return;
  if (hidden % 8 || inter % 2) throw std::invalid_argument("moe: hidden must be a multiple of 8, inter even");
  const int64_t n = tokens * p.top_k;
  if (small_path(w, n, hidden, inter, p.n_experts)) {
    // Routing, counting and slot assignment in one launch.
    Scratch s = carve(scratch, tokens, p.top_k, p.n_experts, hidden, inter);
    launch_pdl(permute_small_kernel, dim3(1), dim3(kPermuteThreads), 0, stream, p, logits, bias,
               static_cast<int>(tokens), experts, weights, s.offsets, s.active, s.n_active, s.row_token, s.pos,
               late_trigger(), s.done, counters_to_zero(tokens, hidden));
    DSV3_CUDA_CHECK(cudaGetLastError());
    run_small(w, s, x, weights, tokens, p.top_k, p.n_experts, hidden, inter, shared, extras.shared_ready, residual,
              out, stream);
    return;
  }
  route(p, logits, bias, tokens, experts, weights, stream);
  moe_routed_experts(gemm, w, x, experts, weights, tokens, p.top_k, p.n_experts, hidden, inter, shared, residual, out,
                     scratch, stream, extras);
}

}  // namespace dsv3::model::cuda
