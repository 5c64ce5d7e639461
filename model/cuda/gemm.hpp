#pragma once
// GEMMs through cuBLASLt, in the model's orientation: D[M, N] = X[M, K] · W[N, K]^T (+ beta · D),
// X the activations (row-major, row stride ldx), W a weight in nn.Linear layout [out, in], D row-major
// with row stride ldd. cuBLASLt sees A = W (transposed, "T"), B = X ("N"), D column-major N x M: the
// TN form that Hopper's FP8 kernels require.
//
// FP8 block scaling (DeepSeek recipe): X in e4m3 with 1x128 scales (VEC128_32F, padded M-major, see
// fp8_quant.hpp), W in e4m3 with 128x128 scales (BLK128x128_32F, row-major [N/128, K/128]).
// Needs cuBLASLt >= 12.9 and a compute-capability-9.0 GPU; block_scaling_supported() says.
// cuBLASLt 13.1 offers these kernels only for M a multiple of 4 and K/128 a multiple of 4: other M
// run on a zero-padded copy of X (small M only: decode), other K are rejected.
//
// Each new shape is autotuned once, at its first call outside graph capture: the heuristic's top
// candidates are timed on the real operands (output to a scratch buffer) and the fastest is kept.
//
// FP8 block-scaled products with M <= 128 may instead take our own kernel (fp8_skinny.hpp): at a
// shape's autotuning it is timed against cuBLASLt's candidates and kept when faster (measured: at
// decode sizes, M <= 8, it streams the weights at up to 3.5 TB/s where cuBLASLt reaches 0.6-2.8 (run W1);
// at M = 64/128 cuBLASLt is faster); M <= 8 not a multiple of 4 takes it directly (no padded copies). DSV3_CUDA_FP8_GEMM=cublaslt or =own forces
// one side (diagnostics and benchmarks; set_fp8_block_impl does the same).
//
// Decode-sized BF16 products (M <= 8 rows) bypass cuBLASLt: a GEMV kernel on CUDA cores streams the
// weights once (cuBLASLt's kernels for such shapes read small weights far below the HBM bandwidth).
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace dsv3::model::cuda {

enum class OutType { BF16, F32 };

class Gemm {
 public:
  Gemm();
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // True when cuBLASLt's VEC128/BLK128x128 scale modes are usable here (version and GPU).
  static bool block_scaling_supported();
  static int cublaslt_version();
  // Autotuning on (default) or off (the heuristic's first choice).
  void set_autotune(bool on) { autotune_ = on; }
  enum class Fp8BlockImpl { Auto, CublasLt, Own };
  void set_fp8_block_impl(Fp8BlockImpl impl) { fp8_impl_ = impl; }
  // Changes whenever a buffer that launches point into is (re)allocated: padding buffers and the
  // per-stream workspaces. CUDA graphs captured before a change are stale.
  uint64_t generation() const { return generation_; }

  // BF16 inputs, fp32 accumulation; D bf16 or f32. beta = 1 adds into D (fused residual).
  void bf16(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* W, void* D, int64_t ldd, OutType out,
            int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream);

  // D = rmsnorm(X) · W^T (+ beta D) with the RMSNorm (weight norm_w over the K columns, as
  // norm_rope_swiglu.hpp's rmsnorm) applied to X as the GEMV kernel stages it: one launch for
  // decode-sized products, where a separate norm kernel is a dependent step of its own. Returns
  // false, launching nothing, where the GEMV kernel does not take the product (more than 8 rows,
  // K over 8192, misaligned operands); the caller then norms and multiplies separately. With
  // `normed`, the normalized rows are also written there ([M, K], row stride K), for other readers.
  bool bf16_normed(const __nv_bfloat16* X, int64_t ldx, const __nv_bfloat16* norm_w, float eps,
                   const __nv_bfloat16* W, void* D, int64_t ldd, OutType out, int64_t M, int64_t N, int64_t K,
                   float beta, cudaStream_t stream, __nv_bfloat16* normed = nullptr);
  // Strided-batched BF16 (the per-head MLA absorptions): for b in [0, batch),
  // D_b[M, N] = X_b[M, K] · W_b^T when w_nk (W_b stored [N, K], row stride ldw) or X_b · W_b when
  // !w_nk (W_b stored [K, N], row stride ldw); X_b = X + b * sx, W_b = W + b * sw, D_b = D + b * sd.
  void bf16_batched(const __nv_bfloat16* X, int64_t ldx, int64_t sx, const __nv_bfloat16* W, int64_t ldw, int64_t sw,
                    bool w_nk, __nv_bfloat16* D, int64_t ldd, int64_t sd, int64_t M, int64_t N, int64_t K,
                    int64_t batch, cudaStream_t stream);

  // Grouped BF16 (the routed experts of a prefill): for g in [0, M.size()), D_g[M_g, N] =
  // X_g[M_g, K] · W_g[N, K]^T, rows packed (strides K and N), fp32 accumulation, bf16 out; one
  // cuBLAS grouped call (cublasGemmGroupedBatchedEx) instead of one launch per group.
  void bf16_grouped(const std::vector<const __nv_bfloat16*>& X, const std::vector<const __nv_bfloat16*>& W,
                    const std::vector<__nv_bfloat16*>& D, const std::vector<int>& M, int64_t N, int64_t K,
                    cudaStream_t stream);

  // FP8 e4m3 with DeepSeek block scales; D bf16.
  void fp8_block(const __nv_fp8_e4m3* Xq, const float* x_scales, const __nv_fp8_e4m3* Wq, const float* w_scales,
                 __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream);

  // FP8 e4m3 with one fp32 scale per tensor (device scalars); for comparison. fast_accum: Hopper's
  // reduced-precision FP8 accumulation (DeepSeek's reason for block-wise promotion).
  void fp8_tensor(const __nv_fp8_e4m3* Xq, const float* x_scale, const __nv_fp8_e4m3* Wq, const float* w_scale,
                  __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, bool fast_accum, cudaStream_t stream);

 private:
  enum class Kind { BF16, FP8_BLOCK, FP8_TENSOR, FP8_TENSOR_FAST };
  struct Plan;
  struct Spec {
    Kind kind = Kind::BF16;
    int64_t M = 0, N = 0, K = 0, ldx = 0, ldd = 0;
    OutType out = OutType::BF16;
    bool beta = false;
    int64_t ldw = 0;  // 0: K (w_nk) / N
    bool w_nk = true;
    int64_t batch = 1, sx = 0, sw = 0, sd = 0;
    int align = 256;  // bytes every operand pointer (and batch offset) is aligned to; told to the heuristic
    auto tie() const {
      return std::make_tuple(static_cast<int>(kind), M, N, K, ldx, ldd, static_cast<int>(out), beta, ldw, w_nk, batch,
                             sx, sw, sd, align);
    }
    bool operator<(const Spec& o) const { return tie() < o.tie(); }
  };
  using Key = Spec;
  Plan& plan(Kind kind, int64_t M, int64_t N, int64_t K, int64_t ldx, int64_t ldd, OutType out, bool beta, int align);
  Plan& plan(const Spec& spec);
  void run(Plan& p, const void* W, const void* X, void* D, const float* w_scale, const float* x_scale, float beta,
           cudaStream_t stream);

  void tune(Plan& p, const void* W, const void* X, const float* w_scale, const float* x_scale, cudaStream_t stream);
  void matmul(Plan& p, int algo, const void* W, const void* X, void* D, const float* w_scale, const float* x_scale,
              float beta, cudaStream_t stream);
  void grow(void*& buf, size_t& have, size_t need);
  // Each stream gets its own workspace: GEMMs on different streams may run at the same time.
  void* workspace(cudaStream_t stream);

  cublasLtHandle_t handle_ = nullptr;
  cublasHandle_t blas_ = nullptr;  // the grouped GEMM (cuBLAS, not Lt)
  void* group_ptrs_ = nullptr;     // device pointer arrays of bf16_grouped
  size_t group_ptrs_bytes_ = 0;
  bool autotune_ = true;
  void* tune_d_ = nullptr;
  size_t tune_d_bytes_ = 0;
  // Zero-padded copies of X and D for FP8 products with M not a multiple of 4, per stream (the
  // routed experts' GEMMs of several streams run at once).
  struct Pad {
    void *x = nullptr, *d = nullptr;
    size_t x_bytes = 0, d_bytes = 0;
    void *skinny_part = nullptr, *skinny_cnt = nullptr;  // the skinny FP8 kernel's split-K scratch
    size_t skinny_part_bytes = 0, skinny_cnt_bytes = 0;
  };
  void fp8_skinny(const __nv_fp8_e4m3* Xq, const float* x_scales, const __nv_fp8_e4m3* Wq, const float* w_scales,
                  __nv_bfloat16* D, int64_t ldd, int64_t M, int64_t N, int64_t K, float beta, cudaStream_t stream);
  Fp8BlockImpl fp8_impl_ = Fp8BlockImpl::Auto;
  std::map<cudaStream_t, Pad> pads_;
  void* workspace_ = nullptr;  // placeholder scale pointer for the heuristic
  size_t workspace_bytes_ = 0;
  std::vector<std::pair<cudaStream_t, void*>> stream_ws_;
  uint64_t generation_ = 0;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

}  // namespace dsv3::model::cuda
