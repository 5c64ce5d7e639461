#include "model/cuda/gemm.hpp"

#include <stdexcept>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/event_timing.hpp"
#include "model/cuda/fp8_skinny.hpp"
#include "model/cuda/launch_env.hpp"
#include "model/cuda/pdl.cuh"
#include "model/cuda/weight_load.cuh"

namespace dsv3::model::cuda {

constexpr int kCandidates = 16;

struct Gemm::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algos[kCandidates];
  int n_algos = 0;
  int chosen = 0;
  bool tuned = false;
  float best_ms = 0.f;   // the chosen candidate's time at tuning (0: not timed)
  bool skinny = false;   // FP8 block: our own kernel beat cuBLASLt at tuning
  Kind kind{};
  int64_t M = 0, N = 0, K = 0, ldd = 0;
  size_t out_size = 2;
  size_t tune_bytes = 0;  // what the output spans (autotuning writes a scratch copy)
  ~Plan() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

Gemm::Gemm() {
  DSV3_CUBLAS_CHECK(cublasLtCreate(&handle_));
  workspace_bytes_ = size_t{32} << 20;
  DSV3_CUDA_CHECK(cudaMalloc(&workspace_, workspace_bytes_));
}

Gemm::~Gemm() {
  plans_.clear();
  for (auto& [stream, pad] : pads_)
    for (void* b : {pad.x, pad.d, pad.skinny_part, pad.skinny_cnt})
      if (b) cudaFree(b);
  if (tune_d_) cudaFree(tune_d_);
  if (workspace_) cudaFree(workspace_);
  for (auto& [stream, ws] : stream_ws_) cudaFree(ws);
  if (handle_) cublasLtDestroy(handle_);
  if (blas_) cublasDestroy(blas_);
  if (group_ptrs_) cudaFree(group_ptrs_);
}

int Gemm::cublaslt_version() { return static_cast<int>(cublasLtGetVersion()); }

bool Gemm::block_scaling_supported() {
  if (cublasLtGetVersion() < 120900) return false;
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) return false;
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) return false;
  return p.major == 9 && p.minor == 0;
}

void Gemm::grow(void*& buf, size_t& have, size_t need) {
  if (need <= have) return;
  if (buf) {
    DSV3_CUDA_CHECK(cudaDeviceSynchronize());
    DSV3_CUDA_CHECK(cudaFree(buf));
  }
  DSV3_CUDA_CHECK(cudaMalloc(&buf, need));
  have = need;
  ++generation_;
}

void* Gemm::workspace(cudaStream_t stream) {
  for (auto& [s, ws] : stream_ws_)
    if (s == stream) return ws;
  void* ws = nullptr;
  DSV3_CUDA_CHECK(cudaMalloc(&ws, workspace_bytes_));
  stream_ws_.emplace_back(stream, ws);
  ++generation_;
  return ws;
}

namespace {

// Autotuning: one warm-up call, then the mean of five back-to-back calls (ms).
template <class F>
double time_candidate(F&& launch, cudaStream_t stream) {
  launch();
  return time_ms([&](int) { launch(); }, 5, stream);
}

// The largest power of two (up to 256) dividing every address and byte offset given.
int alignment(std::initializer_list<uint64_t> v) {
  int a = 256;
  for (uint64_t x : v)
    while (a > 1 && x % static_cast<uint64_t>(a)) a /= 2;
  return a;
}
uint64_t addr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// Plain GEMM for tiny problems (one thread per output, fp32 accumulation): D_b = X_b · op(W_b)
// (+ beta D_b), same operand conventions as Gemm::bf16_batched.
__global__ void small_gemm_kernel(const __nv_bfloat16* __restrict__ X, int64_t ldx, int64_t sx,
                                  const __nv_bfloat16* __restrict__ W, int64_t ldw, int64_t sw, bool w_nk, void* D,
                                  int64_t ldd, int64_t sd, bool f32_out, int64_t M, int64_t N, int64_t K, float beta) {
  const int64_t b = blockIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= M * N) return;
  const int64_t m = i / N, n = i % N;
  const __nv_bfloat16* x = X + b * sx + m * ldx;
  const __nv_bfloat16* w = W + b * sw;
  float acc = 0.f;
  for (int64_t k = 0; k < K; ++k)
    acc += __bfloat162float(x[k]) * __bfloat162float(w_nk ? w[n * ldw + k] : w[k * ldw + n]);
  const int64_t at = b * sd + m * ldd + n;
  if (f32_out) {
    float* d = static_cast<float*>(D);
    d[at] = acc + (beta != 0.f ? beta * d[at] : 0.f);
  } else {
    __nv_bfloat16* d = static_cast<__nv_bfloat16*>(D);
    d[at] = __float2bfloat16(acc + (beta != 0.f ? beta * __bfloat162float(d[at]) : 0.f));
  }
}

// Problems with K or N under 64 (the test fixtures' tiny shapes, small routers) go to
// small_gemm_kernel; DSV3_CUDA_GEMM=small sends every BF16 GEMM there (a diagnostic).
bool use_small_gemm(int64_t N, int64_t K) {
  static const bool forced = env_value("DSV3_CUDA_GEMM") == "small";
  return forced || K < 64 || N < 64;
}

void small_gemm(const __nv_bfloat16* X, int64_t ldx, int64_t sx, const __nv_bfloat16* W, int64_t ldw, int64_t sw,
                bool w_nk, void* D, int64_t ldd, int64_t sd, bool f32_out, int64_t M, int64_t N, int64_t K,
                int64_t batch, float beta, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((M * N + 127) / 128), static_cast<unsigned>(batch));
  small_gemm_kernel<<<grid, 128, 0, stream>>>(X, ldx, sx, W, ldw, sw, w_nk, D, ldd, sd, f32_out, M, N, K, beta);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

// Decode-sized products (M <= kGemvMaxRows): y[m, n] = X[m, :] · W[n, :] (+ beta y) on CUDA cores,
// every weight read once at close to the HBM bandwidth; cuBLASLt's kernels for such shapes read
// small weights at a fraction of it. X staged in shared memory; warp w of CTA b owns output rows
// (8 b + w) * RPW ... + RPW - 1; each lane keeps kSlab 16-byte chunks of a row in flight.
constexpr int kGemvMaxRows = 8, kGemvWarps = 8, kGemvSlab = 8;

// Batched (blockIdx.y = b): X, W and D advance by sx, sw and sd elements per batch entry.
// With norm_w, the staged rows are RMS-normalized first (rmsnorm_kernel's rounding: x * inv to
// bf16, times the weight to bf16), K <= kGemvNormMaxK.
constexpr int kGemvNormChunks = 4;  // 16-byte chunks of the norm weight per thread
constexpr int64_t kGemvNormMaxK = kGemvNormChunks * kGemvWarps * 32 * 8;

// kMaxM: the most rows of X the instance takes (8, or 1: batch-1 decode, whose fewer registers let
// three CTAs share a multiprocessor, so q_b's 384 CTAs run as one wave, and leave room for the next
// row's first slab: in flight while a row of K <= 2048 is summed, loaded after the sums of longer
// rows). Mid model at batch 1: 1189-1197 -> 1123-1140 us a
// step against the 8-row instance (runs AT, AU in bench/cuda/NOTES.md).
template <int RPW, bool kF32, int kMaxM>
__global__ void __launch_bounds__(kGemvWarps * 32, kMaxM > 1 ? 1 : RPW == 1 ? 3 : 2)
    gemv_kernel(const __nv_bfloat16* __restrict__ X, int64_t ldx, const __nv_bfloat16* __restrict__ W, void* D,
                int64_t ldd, int M, int64_t N, int64_t K, float beta, int64_t sx, int64_t sw, int64_t sd,
                const __nv_bfloat16* __restrict__ norm_w, float eps, __nv_bfloat16* __restrict__ norm_out) {
  extern __shared__ __align__(16) unsigned char gemv_smem[];
  __nv_bfloat16* xs = reinterpret_cast<__nv_bfloat16*>(gemv_smem);
  pdl_trigger();
  X += blockIdx.y * sx;
  W += blockIdx.y * sw;
  D = static_cast<char*>(D) + blockIdx.y * sd * (kF32 ? 4 : 2);
  const int64_t chunks = K / 8;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp) * RPW;
  // The weights depend on no earlier kernel: the first slab of the first row is in flight before
  // waiting for the kernel that writes X.
  int4 cur[kGemvSlab];
#pragma unroll
  for (int s = 0; s < kGemvSlab; ++s) {
    const int64_t c = s * 32 + lane;
    cur[s] = row0 < N && c < chunks ? load_weight16(reinterpret_cast<const int4*>(W + row0 * K) + c) : int4{0, 0, 0, 0};
  }
  int4 nw[kGemvNormChunks];
  if (norm_w) {
#pragma unroll
    for (int j = 0; j < kGemvNormChunks; ++j) {
      const int64_t c = threadIdx.x + j * blockDim.x;
      nw[j] = c < chunks ? __ldg(reinterpret_cast<const int4*>(norm_w) + c) : int4{0, 0, 0, 0};
    }
  }
  pdl_wait();
  for (int64_t i = threadIdx.x; i < M * chunks; i += blockDim.x) {
    const int64_t t = i / chunks, c = i % chunks;
    reinterpret_cast<int4*>(xs + t * K)[c] = reinterpret_cast<const int4*>(X + t * ldx)[c];
  }
  __syncthreads();
  if (norm_w) {
    __shared__ float inv_rms[kGemvMaxRows];
    if (warp < M) {  // warp t: the sum of squares of row t
      float ss = 0.f;
      for (int64_t c = lane; c < chunks; c += 32) {
        const int4 v = reinterpret_cast<const int4*>(xs + warp * K)[c];
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float2 f = __bfloat1622float2(h[j]);
          ss += f.x * f.x + f.y * f.y;
        }
      }
      for (int off = 16; off > 0; off /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, off);
      if (lane == 0) inv_rms[warp] = rsqrtf(ss / static_cast<float>(K) + eps);
    }
    __syncthreads();
    for (int t = 0; t < M; ++t) {
      const float inv = inv_rms[t];
#pragma unroll
      for (int j = 0; j < kGemvNormChunks; ++j) {
        const int64_t c = threadIdx.x + j * blockDim.x;
        if (c >= chunks) break;
        int4* px = reinterpret_cast<int4*>(xs + t * K) + c;
        int4 v = *px;
        __nv_bfloat162* h = reinterpret_cast<__nv_bfloat162*>(&v);
        const __nv_bfloat162* w2 = reinterpret_cast<const __nv_bfloat162*>(&nw[j]);
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float2 f = __bfloat1622float2(h[e]);
          const float2 nrm = __bfloat1622float2(__floats2bfloat162_rn(f.x * inv, f.y * inv));
          const float2 ww = __bfloat1622float2(w2[e]);
          h[e] = __floats2bfloat162_rn(nrm.x * ww.x, nrm.y * ww.y);
        }
        *px = v;
        if (norm_out && blockIdx.x == 0 && blockIdx.y == 0) reinterpret_cast<int4*>(norm_out + t * K)[c] = v;
      }
    }
    __syncthreads();
  }
  // A row that one slab covers (K <= 2048): the next row's slab is in flight while this one's sums
  // are formed, so that each warp always has a slab of loads outstanding.
  const bool one_slab = kMaxM == 1 && chunks <= 32 * kGemvSlab;
#pragma unroll
  for (int r = 0; r < RPW; ++r) {
    const int64_t row = row0 + r;
    if (row >= N) break;
    float acc[kMaxM];
#pragma unroll
    for (int t = 0; t < kMaxM; ++t) acc[t] = 0.f;
    const int4* wr = reinterpret_cast<const int4*>(W + row * K);
    int4 next[kGemvSlab];
    if (one_slab && r + 1 < RPW) {
#pragma unroll
      for (int s = 0; s < kGemvSlab; ++s) {
        const int64_t c = s * 32 + lane;
        next[s] = row + 1 < N && c < chunks ? load_weight16(wr + K / 8 + c) : int4{0, 0, 0, 0};
      }
    }
    for (int64_t c0 = 0; c0 < chunks; c0 += 32 * kGemvSlab) {
      int4 wv[kGemvSlab];
#pragma unroll
      for (int s = 0; s < kGemvSlab; ++s) {
        const int64_t c = c0 + s * 32 + lane;
        wv[s] = c0 == 0 && (kMaxM == 1 || r == 0) ? cur[s] : c < chunks ? load_weight16(wr + c) : int4{0, 0, 0, 0};
      }
#pragma unroll
      for (int s = 0; s < kGemvSlab; ++s) {
        const int64_t c = c0 + s * 32 + lane;
        if (c >= chunks) break;
#pragma unroll
        for (int t = 0; t < kMaxM; ++t) {
          if (t >= M) break;
          acc[t] = dot8_bf16(wv[s], reinterpret_cast<const int4*>(xs + t * K)[c], acc[t]);
        }
      }
    }
    if (kMaxM == 1 && r + 1 < RPW) {
#pragma unroll
      for (int s = 0; s < kGemvSlab; ++s) {
        const int64_t c = s * 32 + lane;
        cur[s] = one_slab ? next[s] : row + 1 < N && c < chunks ? load_weight16(wr + K / 8 + c) : int4{0, 0, 0, 0};
      }
    }
    float mine = 0.f;
#pragma unroll
    for (int t = 0; t < kMaxM; ++t) {
      if (t >= M) break;
      float v = acc[t];
      for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
      if (lane == t) mine = v;
    }
    if (lane < M) {
      if (kF32) {
        float* d = static_cast<float*>(D) + lane * ldd + row;
        *d = mine + (beta != 0.f ? beta * *d : 0.f);
      } else {
        __nv_bfloat16* d = static_cast<__nv_bfloat16*>(D) + lane * ldd + row;
        *d = __float2bfloat16(mine + (beta != 0.f ? beta * __bfloat162float(*d) : 0.f));
      }
    }
  }
}

// Whether gemv_kernel takes the product: few rows, 16-byte aligned rows, X fits shared memory.
// DSV3_CUDA_GEMV=0 sends them to cuBLASLt (a diagnostic).
bool use_gemv(const void* X, int64_t ldx, const void* W, int64_t M, int64_t K) {
  static const bool on = env_on("DSV3_CUDA_GEMV");
  return on && M <= kGemvMaxRows && K % 8 == 0 && ldx % 8 == 0 && addr(X) % 16 == 0 && addr(W) % 16 == 0 &&
         static_cast<size_t>(M) * K * 2 <= 96 * 1024;
}

template <int RPW, bool kF32, int kMaxM>
void gemv_launch_m(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, int64_t M,
                   int64_t N, int64_t K, float beta, cudaStream_t stream, int64_t batch, int64_t sx, int64_t sw,
                   int64_t sd, const __nv_bfloat16* norm_w, float eps, __nv_bfloat16* norm_out) {
  const size_t smem = static_cast<size_t>(M) * K * 2;
  const dim3 grid(static_cast<unsigned>((N + kGemvWarps * RPW - 1) / (kGemvWarps * RPW)), static_cast<unsigned>(batch));
  static size_t attr = 48 * 1024;
  if (smem > attr) {
    DSV3_CUDA_CHECK(cudaFuncSetAttribute(gemv_kernel<RPW, kF32, kMaxM>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         96 * 1024));
    attr = 96 * 1024;
  }
  launch_pdl(gemv_kernel<RPW, kF32, kMaxM>, grid, dim3(kGemvWarps * 32), smem, stream, X, ldx, W, D, ldd,
             static_cast<int>(M), N, K, beta, sx, sw, sd, norm_w, eps, norm_out);
}

// DSV3_CUDA_GEMV_M1=0: batch-1 products take the 8-row instance too (a diagnostic).
template <int RPW, bool kF32>
void gemv_launch(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, int64_t M,
                 int64_t N, int64_t K, float beta, cudaStream_t stream, int64_t batch = 1, int64_t sx = 0,
                 int64_t sw = 0, int64_t sd = 0, const __nv_bfloat16* norm_w = nullptr, float eps = 0.f,
                 __nv_bfloat16* norm_out = nullptr) {
  if (M == 1 && env_on("DSV3_CUDA_GEMV_M1"))
    gemv_launch_m<RPW, kF32, 1>(X, ldx, W, D, ldd, M, N, K, beta, stream, batch, sx, sw, sd, norm_w, eps, norm_out);
  else
    gemv_launch_m<RPW, kF32, kGemvMaxRows>(X, ldx, W, D, ldd, M, N, K, beta, stream, batch, sx, sw, sd, norm_w, eps,
                                           norm_out);
}

// Decode-sized products against a weight stored [K, N] (row stride ldw), batched like gemv_kernel:
// y_b[m, n] = sum_k X_b[m, k] W_b[k, n]. CTA (tile, b) owns 64 columns, lane l two of them (one
// 4-byte load per weight row, a warp reads 128 contiguous bytes), warp w the rows k = w, w + 8, ...;
// the eight warps' sums meet in shared memory. Every weight is read once.
constexpr int kGemvKnCols = 64;

__global__ void __launch_bounds__(kGemvWarps * 32) gemv_kn_kernel(const __nv_bfloat16* __restrict__ X, int64_t ldx,
                                                                  int64_t sx, const __nv_bfloat16* __restrict__ W,
                                                                  int64_t ldw, int64_t sw, __nv_bfloat16* D,
                                                                  int64_t ldd, int64_t sd, int M, int64_t N, int64_t K) {
  __shared__ float red[kGemvWarps][kGemvMaxRows][kGemvKnCols];
  pdl_trigger();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.y, n = static_cast<int64_t>(blockIdx.x) * kGemvKnCols + 2 * lane;
  X += b * sx;
  W += b * sw;
  D += b * sd;
  const bool in = n < N;  // N is even (checked by the caller)
  float acc[kGemvMaxRows][2] = {};
  // Rows in batches of kAhead per warp, all loads of a batch in flight together; the first batch
  // (the weights depend on no earlier kernel) before waiting for the kernel that writes X.
  constexpr int kAhead = 16;
  __nv_bfloat162 wv[kAhead];
  auto load = [&](int64_t base) {
#pragma unroll
    for (int i = 0; i < kAhead; ++i) {
      const int64_t k = base + warp + i * kGemvWarps;
      wv[i] = in && k < K ? __ldcs(reinterpret_cast<const __nv_bfloat162*>(W + k * ldw + n)) : __floats2bfloat162_rn(0.f, 0.f);
    }
  };
  load(0);
  pdl_wait();
  for (int64_t base = 0; base < K; base += kAhead * kGemvWarps) {
    if (base > 0) load(base);
#pragma unroll
    for (int i = 0; i < kAhead; ++i) {
      const int64_t k = base + warp + i * kGemvWarps;
      if (k >= K) break;
      const float2 wf = __bfloat1622float2(wv[i]);
#pragma unroll
      for (int m = 0; m < kGemvMaxRows; ++m) {
        if (m >= M) break;
        const float x = __bfloat162float(X[m * ldx + k]);
        acc[m][0] = fmaf(x, wf.x, acc[m][0]);
        acc[m][1] = fmaf(x, wf.y, acc[m][1]);
      }
    }
  }
#pragma unroll
  for (int m = 0; m < kGemvMaxRows; ++m) {
    if (m >= M) break;
    red[warp][m][2 * lane] = acc[m][0];
    red[warp][m][2 * lane + 1] = acc[m][1];
  }
  __syncthreads();
  for (int i = threadIdx.x; i < M * kGemvKnCols; i += blockDim.x) {
    const int m = i / kGemvKnCols, c = i % kGemvKnCols;
    const int64_t col = static_cast<int64_t>(blockIdx.x) * kGemvKnCols + c;
    if (col >= N) continue;
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < kGemvWarps; ++w) v += red[w][m][c];
    D[m * ldd + col] = __float2bfloat16(v);
  }
}

template <int RPW>
void gemv_rpw(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, bool f32, int64_t M,
              int64_t N, int64_t K, float beta, cudaStream_t stream, const __nv_bfloat16* norm_w, float eps,
              __nv_bfloat16* norm_out) {
  if (f32)
    gemv_launch<RPW, true>(X, ldx, W, D, ldd, M, N, K, beta, stream, 1, 0, 0, 0, norm_w, eps, norm_out);
  else
    gemv_launch<RPW, false>(X, ldx, W, D, ldd, M, N, K, beta, stream, 1, 0, 0, 0, norm_w, eps, norm_out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

void gemv(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, bool f32, int64_t M,
          int64_t N, int64_t K, float beta, cudaStream_t stream, const __nv_bfloat16* norm_w = nullptr,
          float eps = 0.f, __nv_bfloat16* norm_out = nullptr) {
  // Rows per warp: enough CTAs for two per multiprocessor on H200-sized GPUs (the one-row instance
  // at one row a warp fits three), long runs per warp for the large products (lm_head).
  // DSV3_CUDA_GEMV_RPW=1|2|4 forces the rows per warp (a diagnostic, read at every launch); two
  // rows a warp everywhere took a mid-model b1 step from 1137 to 1359 us (run AV).
  const std::string force = env_value("DSV3_CUDA_GEMV_RPW");
  const int64_t ctas1 = force == "1"   ? 0
                        : force == "2" ? 2 * 264
                        : force == "4" ? 4 * 264
                                       : (N + kGemvWarps - 1) / kGemvWarps;
  if (ctas1 >= 4 * 264)
    gemv_rpw<4>(X, ldx, W, D, ldd, f32, M, N, K, beta, stream, norm_w, eps, norm_out);
  else if (ctas1 >= 2 * 264)
    gemv_rpw<2>(X, ldx, W, D, ldd, f32, M, N, K, beta, stream, norm_w, eps, norm_out);
  else
    gemv_rpw<1>(X, ldx, W, D, ldd, f32, M, N, K, beta, stream, norm_w, eps, norm_out);
}

}  // namespace

Gemm::Plan& Gemm::plan(Kind kind, int64_t M, int64_t N, int64_t K, int64_t ldx, int64_t ldd, OutType out, bool beta,
                       int align) {
  Spec s;
  s.align = align;
  s.kind = kind;
  s.M = M;
  s.N = N;
  s.K = K;
  s.ldx = ldx;
  s.ldd = ldd;
  s.out = out;
  s.beta = beta;
  return plan(s);
}

Gemm::Plan& Gemm::plan(const Spec& key) {
  const Kind kind = key.kind;
  const int64_t M = key.M, N = key.N, K = key.K, ldx = key.ldx, ldd = key.ldd;
  const OutType out = key.out;
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  auto p = std::make_unique<Plan>();
  p->kind = kind;
  p->M = M;
  p->N = N;
  p->K = K;
  p->ldd = ldd;
  p->out_size = out == OutType::F32 ? 4 : 2;
  const bool fp8 = kind != Kind::BF16;
  const cudaDataType_t in_t = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
  const cudaDataType_t out_t = out == OutType::F32 ? CUDA_R_32F : CUDA_R_16BF;
  DSV3_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = key.w_nk ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
  DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  if (kind == Kind::FP8_BLOCK) {
    const cublasLtMatmulMatrixScale_t blk = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
    const cublasLtMatmulMatrixScale_t vec = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &blk, sizeof(blk)));
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &vec, sizeof(vec)));
  }
  if (kind == Kind::FP8_TENSOR_FAST) {
    const int8_t fast = 1;
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof(fast)));
  }
  if (fp8) {
    // The heuristic offers block-scaled kernels only with scale pointers present (seen on cuBLAS
    // 13.1); the real ones are set at each call.
    const void* placeholder = workspace_;
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &placeholder,
                                                     sizeof(placeholder)));
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &placeholder,
                                                     sizeof(placeholder)));
  }
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
  if (key.w_nk)
    DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->a, in_t, u(K), u(N), key.ldw ? key.ldw : K));
  else
    DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->a, in_t, u(N), u(K), key.ldw ? key.ldw : N));
  DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->b, in_t, u(K), u(M), ldx));
  DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p->c, out_t, u(N), u(M), ldd));
  if (key.batch > 1) {
    const int32_t count = static_cast<int32_t>(key.batch);
    const int64_t strides[3] = {key.sw, key.sx, key.sd};
    cublasLtMatrixLayout_t layouts[3] = {p->a, p->b, p->c};
    for (int i = 0; i < 3; ++i) {
      DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layouts[i], CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
      DSV3_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layouts[i], CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                         &strides[i], sizeof(strides[i])));
    }
  }

  cublasLtMatmulPreference_t pref = nullptr;
  DSV3_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  DSV3_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                         &workspace_bytes_, sizeof(workspace_bytes_)));
  // The heuristic assumes 256-byte aligned operands unless told otherwise; sub-buffer pointers
  // (per-expert rows, per-head slices) are often less aligned.
  const uint32_t al = static_cast<uint32_t>(key.align);
  for (auto attr : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                    CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    DSV3_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &al, sizeof(al)));
  cublasLtMatmulHeuristicResult_t res[kCandidates] = {};
  int n = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(handle_, p->op, p->a, p->b, p->c, p->c, pref, kCandidates, res, &n);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st != CUBLAS_STATUS_SUCCESS || n == 0)
    throw std::runtime_error("cuBLASLt: no algorithm for " + std::string(fp8 ? "FP8" : "BF16") + " GEMM M=" +
                             std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) + " (status " +
                             std::to_string(static_cast<int>(st)) + ")");
  p->tune_bytes = static_cast<size_t>((key.batch - 1) * key.sd + M * ldd) * p->out_size;
  for (int i = 0; i < n; ++i) p->algos[i] = res[i].algo;
  p->n_algos = n;
  auto& ref = *p;
  plans_.emplace(key, std::move(p));
  return ref;
}

void Gemm::matmul(Plan& p, int algo, const void* W, const void* X, void* D, const float* w_scale, const float* x_scale,
                  float beta, cudaStream_t stream) {
  if (p.kind != Kind::BF16) {
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &w_scale, sizeof(w_scale)));
    DSV3_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &x_scale, sizeof(x_scale)));
  }
  const float alpha = 1.0f;
  DSV3_CUBLAS_CHECK(cublasLtMatmul(handle_, p.op, &alpha, W, p.a, X, p.b, &beta, D, p.c, D, p.c, &p.algos[algo],
                                   workspace(stream), workspace_bytes_, stream));
}

void Gemm::tune(Plan& p, const void* W, const void* X, const float* w_scale, const float* x_scale,
                cudaStream_t stream) {
  p.tuned = true;
  cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
  DSV3_CUDA_CHECK(cudaStreamIsCapturing(stream, &cap));
  if (!autotune_ || p.n_algos < 2 || cap != cudaStreamCaptureStatusNone) return;
  grow(tune_d_, tune_d_bytes_, p.tune_bytes);
  for (int i = 0; i < p.n_algos; ++i) {
    try {
      const double ms = time_candidate([&] { matmul(p, i, W, X, tune_d_, w_scale, x_scale, 0.f, stream); }, stream);
      if (p.best_ms == 0.f || ms < p.best_ms) {
        p.chosen = i;
        p.best_ms = static_cast<float>(ms);
      }
    } catch (const std::runtime_error&) {
      // A candidate that fails to launch is skipped.
    }
  }
}

void Gemm::run(Plan& p, const void* W, const void* X, void* D, const float* w_scale, const float* x_scale, float beta,
               cudaStream_t stream) {
  if (!p.tuned) tune(p, W, X, w_scale, x_scale, stream);
  matmul(p, p.chosen, W, X, D, w_scale, x_scale, beta, stream);
}

void Gemm::bf16(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, OutType out,
                int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream) {
  if (M == 0) return;
  if (use_small_gemm(N, K)) {
    small_gemm(X, ldx, 0, W, K, 0, true, D, ldd, 0, out == OutType::F32, M, N, K, 1, beta, stream);
    return;
  }
  if (use_gemv(X, ldx, W, M, K)) {
    gemv(X, ldx, W, D, ldd, out == OutType::F32, M, N, K, beta, stream);
    return;
  }
  run(plan(Kind::BF16, M, N, K, ldx, ldd, out, beta != 0.0f, alignment({addr(X), addr(W), addr(D)})), W, X, D, nullptr,
      nullptr, beta, stream);
}

bool Gemm::bf16_normed(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* norm_w, float eps,
                       const __nv_bfloat16* W, void* D, int64_t ldd, OutType out, int64_t M, int64_t N, int64_t K,
                       float beta, cudaStream_t stream, __nv_bfloat16* normed) {
  if (M == 0) return true;
  if (use_small_gemm(N, K) || !use_gemv(X, ldx, W, M, K) || K > kGemvNormMaxK || addr(norm_w) % 16 ||
      addr(normed) % 16)
    return false;
  gemv(X, ldx, W, D, ldd, out == OutType::F32, M, N, K, beta, stream, norm_w, eps, normed);
  return true;
}

void Gemm::bf16_batched(const __nv_bfloat16* X, int64_t ldx, int64_t sx, const __nv_bfloat16* W, int64_t ldw,
                        int64_t sw, bool w_nk, __nv_bfloat16* D, int64_t ldd, int64_t sd, int64_t M, int64_t N,
                        int64_t K, int64_t batch, cudaStream_t stream) {
  if (M == 0 || batch == 0) return;
  if (use_small_gemm(N, K)) {
    small_gemm(X, ldx, sx, W, ldw, sw, w_nk, D, ldd, sd, false, M, N, K, batch, 0.f, stream);
    return;
  }
  // Decode sizes: the GEMV kernels, batched (the per-head absorptions of MLA decode).
  // DSV3_CUDA_GEMV_BATCHED=0 leaves them to cuBLASLt (a diagnostic).
  static const bool batched_gemv = env_on("DSV3_CUDA_GEMV_BATCHED");
  if (batched_gemv && w_nk && use_gemv(X, ldx, W, M, K) && ldw == K && sx % 8 == 0 && sw % 8 == 0) {
    gemv_launch<1, false>(X, ldx, W, D, ldd, M, N, K, 0.f, stream, batch, sx, sw, sd);
    DSV3_CUDA_CHECK(cudaGetLastError());
    return;
  }
  if (batched_gemv && !w_nk && use_gemv(X, ldx, W, M, K) && N % 2 == 0 && ldw % 2 == 0 && sw % 2 == 0) {
    const dim3 grid(static_cast<unsigned>((N + kGemvKnCols - 1) / kGemvKnCols), static_cast<unsigned>(batch));
    launch_pdl(gemv_kn_kernel, grid, dim3(kGemvWarps * 32), 0, stream, X, ldx, sx, W, ldw, sw, D, ldd, sd,
               static_cast<int>(M), N, K);
    DSV3_CUDA_CHECK(cudaGetLastError());
    return;
  }
  Spec s;
  s.kind = Kind::BF16;
  s.M = M;
  s.N = N;
  s.K = K;
  s.ldx = ldx;
  s.ldd = ldd;
  s.ldw = ldw;
  s.w_nk = w_nk;
  s.batch = batch;
  s.sx = sx;
  s.sw = sw;
  s.sd = sd;
  s.align = alignment({addr(X), addr(W), addr(D), static_cast<uint64_t>(sx * 2), static_cast<uint64_t>(sw * 2),
                       static_cast<uint64_t>(sd * 2)});
  run(plan(s), W, X, D, nullptr, nullptr, 0.f, stream);
}

void Gemm::bf16_grouped(const std::vector<const __nv_bfloat16*>& X, const std::vector<const __nv_bfloat16*>& W,
                        const std::vector<__nv_bfloat16*>& D, const std::vector<int>& M, int64_t N, int64_t K,
                        cudaStream_t stream) {
  const size_t g = M.size();
  if (g == 0) return;
  if (X.size() != g || W.size() != g || D.size() != g) throw std::invalid_argument("bf16_grouped: array sizes differ");
  if (!blas_) DSV3_CUBLAS_CHECK(cublasCreate(&blas_));
  DSV3_CUBLAS_CHECK(cublasSetStream(blas_, stream));
  // Pointer arrays on the device: A = W (K x N column-major, transposed), B = X (K x M_g), C = D (N x M_g).
  std::vector<const void*> ptrs(3 * g);
  for (size_t i = 0; i < g; ++i) {
    ptrs[i] = W[i];
    ptrs[g + i] = X[i];
    ptrs[2 * g + i] = D[i];
  }
  grow(group_ptrs_, group_ptrs_bytes_, ptrs.size() * sizeof(void*));
  // From pageable memory: the call returns once the data is staged, so `ptrs` may go.
  DSV3_CUDA_CHECK(cudaMemcpyAsync(group_ptrs_, ptrs.data(), ptrs.size() * sizeof(void*), cudaMemcpyHostToDevice, stream));
  const auto* dev = static_cast<const void* const*>(group_ptrs_);
  const int gi = static_cast<int>(g), n = static_cast<int>(N), k = static_cast<int>(K);
  std::vector<cublasOperation_t> ta(g, CUBLAS_OP_T), tb(g, CUBLAS_OP_N);
  std::vector<int> ms(g, n), ks(g, k), lda(g, k), ldb(g, k), ldc(g, n), sizes(g, 1);
  std::vector<float> alpha(g, 1.0f), beta(g, 0.0f);
  DSV3_CUBLAS_CHECK(cublasGemmGroupedBatchedEx(blas_, ta.data(), tb.data(), ms.data(), M.data(), ks.data(), alpha.data(),
                                               dev, CUDA_R_16BF, lda.data(), dev + g, CUDA_R_16BF, ldb.data(),
                                               beta.data(), const_cast<void* const*>(dev + 2 * g), CUDA_R_16BF,
                                               ldc.data(), gi, sizes.data(), CUBLAS_COMPUTE_32F));
}

void Gemm::fp8_block(const __nv_fp8_e4m3* Xq, const float* x_scales, const __nv_fp8_e4m3* Wq, const float* w_scales,
                     __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream) {
  if (K % 512 != 0)
    throw std::invalid_argument("fp8_block: K must be a multiple of 512 (K/128 scale blocks a multiple of 4), got " +
                                std::to_string(K));
  if (M == 0) return;
  static const Fp8BlockImpl env_impl = [] {
    const std::string v = env_value("DSV3_CUDA_FP8_GEMM");
    return v == "cublaslt" ? Fp8BlockImpl::CublasLt : v == "own" ? Fp8BlockImpl::Own : Fp8BlockImpl::Auto;
  }();
  const Fp8BlockImpl impl = fp8_impl_ != Fp8BlockImpl::Auto ? fp8_impl_ : env_impl;
  // Our kernel copies X and W in 16-byte pieces.
  const bool own_ok = impl != Fp8BlockImpl::CublasLt && fp8_skinny_supported(M, N, K) && addr(Xq) % 16 == 0 &&
                      addr(Wq) % 16 == 0;
  const int64_t Mp = (M + 3) / 4 * 4;
  if (own_ok && (impl == Fp8BlockImpl::Own || (Mp != M && M <= 8))) {
    fp8_skinny(Xq, x_scales, Wq, w_scales, D, ldd, M, N, K, beta, stream);
    return;
  }
  if (!block_scaling_supported())
    throw std::runtime_error("FP8 block-scaled GEMM needs cuBLASLt >= 12.9 on a compute-capability-9.0 GPU (have " +
                             std::to_string(cublaslt_version()) + ")");
  if (Mp == M) {
    Plan& p = plan(Kind::FP8_BLOCK, M, N, K, K, ldd, OutType::BF16, beta != 0.0f, alignment({addr(Xq), addr(Wq), addr(D)}));
    if (!p.tuned) {
      tune(p, Wq, Xq, w_scales, x_scales, stream);
      if (own_ok && p.best_ms > 0.f) {
        // Our kernel against cuBLASLt's fastest, same operands, output to the tuning scratch.
        auto* scratch_d = static_cast<__nv_bfloat16*>(tune_d_);
        p.skinny = time_candidate([&] { fp8_skinny(Xq, x_scales, Wq, w_scales, scratch_d, ldd, M, N, K, 0.f, stream); },
                                  stream) < p.best_ms;
      }
    }
    if (own_ok && p.skinny)
      fp8_skinny(Xq, x_scales, Wq, w_scales, D, ldd, M, N, K, beta, stream);
    else
      run(p, Wq, Xq, D, w_scales, x_scales, beta, stream);
    return;
  }
  // M not a multiple of 4: a zero-padded copy of X (the scales are already laid out for Mp rows),
  // the product into a padded output, then the M real rows into D.
  Pad& pad = pads_[stream];
  grow(pad.x, pad.x_bytes, static_cast<size_t>(Mp) * K);
  grow(pad.d, pad.d_bytes, static_cast<size_t>(Mp) * N * sizeof(__nv_bfloat16));
  void* pad_x = pad.x;
  void* pad_d = pad.d;
  DSV3_CUDA_CHECK(cudaMemcpyAsync(pad_x, Xq, static_cast<size_t>(M) * K, cudaMemcpyDeviceToDevice, stream));
  DSV3_CUDA_CHECK(cudaMemsetAsync(static_cast<char*>(pad_x) + M * K, 0, static_cast<size_t>(Mp - M) * K, stream));
  const size_t row = static_cast<size_t>(N) * sizeof(__nv_bfloat16), ld = static_cast<size_t>(ldd) * sizeof(__nv_bfloat16);
  if (beta != 0.0f)
    DSV3_CUDA_CHECK(cudaMemcpy2DAsync(pad_d, row, D, ld, row, static_cast<size_t>(M), cudaMemcpyDeviceToDevice, stream));
  run(plan(Kind::FP8_BLOCK, Mp, N, K, K, N, OutType::BF16, beta != 0.0f, alignment({addr(Wq)})), Wq, pad_x, pad_d,
      w_scales, x_scales, beta, stream);
  DSV3_CUDA_CHECK(cudaMemcpy2DAsync(D, ld, pad_d, row, row, static_cast<size_t>(M), cudaMemcpyDeviceToDevice, stream));
}

void Gemm::fp8_skinny(const __nv_fp8_e4m3* Xq, const float* x_scales, const __nv_fp8_e4m3* Wq, const float* w_scales,
                      __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream) {
  Fp8SkinnyArgs a;
  a.X = Xq;
  a.x_scales = x_scales;
  a.W = Wq;
  a.w_scales = w_scales;
  a.D = D;
  a.ldd = ldd;
  a.M = static_cast<int>(M);
  a.N = N;
  a.K = K;
  a.beta = beta;
  Pad& pad = pads_[stream];
  grow(pad.skinny_part, pad.skinny_part_bytes, fp8_skinny_partial_bytes(a));
  const size_t cnt = fp8_skinny_counter_bytes(a);
  if (cnt > pad.skinny_cnt_bytes) {
    // Outside graph capture (the backend's eager first step sizes every buffer): grow() synchronizes.
    grow(pad.skinny_cnt, pad.skinny_cnt_bytes, cnt);
    // On the kernel's stream: a non-blocking stream does not wait for the legacy one.
    DSV3_CUDA_CHECK(cudaMemsetAsync(pad.skinny_cnt, 0, cnt, stream));
  }
  fp8_skinny_gemm(a, static_cast<float*>(pad.skinny_part), static_cast<int*>(pad.skinny_cnt), stream);
}

void Gemm::fp8_tensor(const __nv_fp8_e4m3* Xq, const float* x_scale, const __nv_fp8_e4m3* Wq, const float* w_scale,
                      __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, bool fast_accum,
                      cudaStream_t stream) {
  if (M == 0) return;
  run(plan(fast_accum ? Kind::FP8_TENSOR_FAST : Kind::FP8_TENSOR, M, N, K, K, ldd, OutType::BF16, false,
           alignment({addr(Xq), addr(Wq), addr(D)})),
      Wq, Xq, D, w_scale, x_scale, 0.0f, stream);
}

}  // namespace dsv3::model::cuda
