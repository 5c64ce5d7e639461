// The CUDA backend: DeepSeek-V3 on one GPU behind the Backend interface (model/backend.hpp).
//
// Weights are resident in their stored dtype: BF16 as is; FP8 e4m3 with its 128x128 scales when
// the block-scaled GEMM takes the shape (K a multiple of 512, 128x128 blocks; cuBLASLt's, or our
// wgmma kernel for few rows, gemm.hpp), run W8A8 with 1x128 activation quantization (DeepSeek's recipe); other FP8 or F32/F16 tensors become BF16 at
// load. Activations and the residual stream are BF16 (as HF's BF16 model), accumulation FP32,
// logits FP32. The latent KV cache (c_n | RoPE(k_pe), kv_lora_rank + rope dims) is BF16, paged in
// blocks of 64 positions; slot s owns a fixed run of blocks.
//
// Attention: DeepSeek-V3 shapes (latent 512, rope 64, nope 128, v 128, heads % 16 == 0) take the
// fast kernels: decode steps (one new token per sequence) the absorbed FlashMLA-style kernel
// (mla_decode), fresh prompts the FlashAttention-style causal kernel on K/V expanded with kv_b
// (mla_prefill). Everything else (other shapes, several new tokens after a prefix) takes the general
// absorbed kernel (mla_latent_attention), causal over each sequence's new tokens.
// ForwardOptions::path is accepted; both paths compute the same attention up to rounding and the
// backend picks by shape.
//
// Decode steps (one new token per sequence, DeepSeek-V3 shapes, a MoE pass without host
// synchronisation) run as CUDA graphs: a step's launches are captured once per (batch, KV split)
// after one eager run of that shape (which allocates scratch and autotunes the GEMMs) and replayed;
// per-step inputs (token ids, positions, block tables) live in fixed device buffers filled by one
// copy before the launch. A graph is re-captured when a buffer it points into was reallocated.
// The decode kernels are launched with programmatic dependent launch (model/cuda/pdl.cuh), products
// of up to 8 rows take the GEMV kernels (gemm.cu; MLA's per-head absorptions batched), and MoE at decode the routing + grouped GEMV
// kernels (moe.cu). The shared expert runs on a second stream, overlapped with the router and the
// routed experts; prefill-sized routed experts run as batched (padded) or grouped GEMMs, FP8 ones
// per expert over four more streams. Greedy callers (ForwardOptions::greedy_only) get the argmax
// computed on the device. At decode sizes the RMSNorm before a product runs inside its GEMV kernel
// (linear_normed, Gemm::bf16_normed; the router's also writes the normalized rows that the routed
// experts read), and the latent's cache write and q's RoPE run on a side branch (attn_side_) that
// joins before the attention kernel: fewer dependent kernels per layer.
//
// Diagnostics (environment): DSV3_CUDA_AUTOTUNE=0 takes cuBLASLt's first heuristic choice instead
// of timing candidates; DSV3_CUDA_MOE_GROUPED=0 sends decode-sized MoE batches through the
// per-expert GEMMs; DSV3_CUDA_ATTENTION=general uses the general attention kernel for every shape;
// DSV3_CUDA_GRAPHS=0 runs decode steps eagerly.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/backend.hpp"
#include "model/cuda/argmax.hpp"
#include "model/cuda/cuda_check.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/gemm.hpp"
#include "model/cuda/launch_env.hpp"
#include "model/cuda/mla_decode.hpp"
#include "model/cuda/mla_latent_attention.hpp"
#include "model/cuda/mla_prefill.hpp"
#include "model/cuda/moe.hpp"
#include "model/cuda/norm_rope_swiglu.hpp"
#include "model/dtype.hpp"
#include "model/errors.hpp"
#include "model/moe_gate.hpp"
#include "model/rope.hpp"

namespace dsv3::model {
namespace {

using bf16 = __nv_bfloat16;
namespace cu = dsv3::model::cuda;

// A projection on the device: BF16 [out, in], or FP8 [out, in] with 128x128 scales.
struct DevLinear {
  const void* w = nullptr;
  const float* scale = nullptr;
  bool fp8 = false;
  int64_t out = 0, in = 0;
};

struct DevMlp {
  DevLinear gate_up, down;  // gate_up: [2I, H], gate rows then up rows
  int64_t inter = 0;
};

struct DevLayer {
  const bf16 *attn_norm = nullptr, *ffn_norm = nullptr, *q_a_norm = nullptr, *kv_a_norm = nullptr;
  DevLinear q_b, q, kv_a, kv_b, o;  // kv_b always BF16 (its per-head halves feed batched GEMMs)
  DevLinear qkv_a;                   // with a q LoRA: [q_a; kv_a] stacked, one GEMM for both
  bool is_moe = false;
  DevMlp dense, shared;
  DevLinear router;  // BF16 [E, H]
  const float* bias = nullptr;
  cu::ExpertWeights experts;
  int64_t expert_inter = 0;
};

class CudaBackend : public Backend {
 public:
  CudaBackend(std::shared_ptr<const Model> model, const BackendOptions& opt);
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  const Model& model() const override { return *model_; }
  void reset(int max_seqs, int64_t max_len) override;
  int64_t length(int slot) const override;
  void truncate(int slot, int64_t len) override;
  std::vector<SeqOutput> forward(const std::vector<SeqInput>& in, const ForwardOptions& opt) override;

 private:
  void validate(const std::vector<SeqInput>& in) const;
  template <class T>
  T* alloc(size_t n) {
    void* p = nullptr;
    DSV3_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
    owned_.push_back(p);
    return static_cast<T*>(p);
  }
  template <class T>
  T* upload(const T* host, size_t n) {
    T* d = alloc<T>(n);
    DSV3_CUDA_CHECK(cudaMemcpy(d, host, n * sizeof(T), cudaMemcpyHostToDevice));
    return d;
  }
  // Grow-only scratch buffers by name.
  template <class T>
  T* scratch(const std::string& name, size_t n) {
    auto& b = scratch_[name];
    const size_t bytes = std::max<size_t>(n, 1) * sizeof(T);
    if (b.second < bytes) {
      if (b.first) {
        DSV3_CUDA_CHECK(cudaDeviceSynchronize());
        DSV3_CUDA_CHECK(cudaFree(b.first));
      }
      DSV3_CUDA_CHECK(cudaMalloc(&b.first, bytes));
      b.second = bytes;
      ++scratch_gen_;
    }
    return static_cast<T*>(b.first);
  }

  const bf16* upload_vector(const std::vector<float>& v);
  std::vector<uint16_t> to_bf16_host(const Linear& l, int64_t r0, int64_t r1) const;
  DevLinear upload_linear(const Linear& l, bool allow_fp8 = true);
  DevLinear upload_stacked(const Linear& a, const Linear& b);  // [a; b] rows
  DevMlp upload_mlp(const MlpWeights& m);
  void check_slot(int slot) const;

  // y[n, out] (row stride ldy) = x[n, in] (row stride ldx) · L^T (+ y when accumulate), on `s`
  // (stream_ or side_; each has its own activation-quantization scratch).
  void linear(const DevLinear& L, const bf16* x, int64_t ldx, int64_t n, void* y, int64_t ldy, cu::OutType out,
              bool accumulate, cudaStream_t s);
  // y (+)= MLP(rmsnorm(x) with norm_w, or x without).
  void mlp(const DevMlp& m, const bf16* x, const bf16* norm_w, int64_t n, bf16* y, bool accumulate, cudaStream_t s);
  // x += attention(rmsnorm(x_in) with norm_w, or x_in as it is without).
  void attention(const DevLayer& L, int64_t layer, const bf16* x_in, const bf16* norm_w, int64_t n, bf16* x);
  // linear() of rmsnorm(x) (weight norm_w; none: of x): the norm inside the GEMV kernel at decode
  // sizes (Gemm::bf16_normed), else a norm kernel into scratch first.
  void linear_normed(const DevLinear& L, const bf16* x, int64_t ldx, const bf16* norm_w, float eps, int64_t n, void* y,
                     int64_t ldy, cu::OutType out, bool accumulate, cudaStream_t s);
  // rmsnorm(x) with norm_w ([n, width], row stride ldx) into the scratch buffer `name`.
  const bf16* normed(const bf16* x, int64_t ldx, const bf16* norm_w, float eps, int64_t n, int64_t width,
                     const std::string& name, cudaStream_t s);
  // x += FFN(rmsnorm(x) with norm_w).
  void ffn(const DevLayer& L, const bf16* norm_w, int64_t n, bf16* x);
  // Every launch of a forward from the embedding to the logits of the picked rows (final.logits).
  void layers(int64_t n, int64_t m, const int32_t* d_ids, const int32_t* d_pick);
  // Whether this batch's step can be captured (no host synchronisation anywhere in it).
  bool graphable(int64_t n) const;
  uint64_t generation() const { return scratch_gen_ + gemm_->generation(); }
  void drop_graphs();

  std::shared_ptr<const Model> model_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cudaStream_t side_ = nullptr;  // the shared expert, overlapped with the routed ones
  cudaEvent_t fork_ = nullptr, join_ = nullptr;
  cudaStream_t attn_side_ = nullptr;  // decode: the latent's cache write and q's RoPE, off the chain
  cudaEvent_t attn_fork_ = nullptr, attn_join_ = nullptr;
  bool attn_branch_ = true, norm_in_gemv_ = true;  // DSV3_CUDA_ATTN_BRANCH, DSV3_CUDA_NORM_IN_GEMV (read per forward)
  std::unique_ptr<cu::ExpertStreams> expert_streams_;
  // The batch description, staged in pinned memory (one host-to-device copy per forward).
  int32_t* staging_ = nullptr;
  size_t staging_len_ = 0;
  // Decode-step graphs by (batch, KV split); a shape is captured on its second step.
  struct Graph {
    cudaGraphExec_t exec = nullptr;
    uint64_t generation = 0;
  };
  std::map<std::pair<int64_t, int>, Graph> graphs_;
  std::map<std::pair<int64_t, int>, uint64_t> warm_;  // shape -> generation after its eager run
  bool use_graphs_ = true;
  uint64_t scratch_gen_ = 0;
  int splits_ = 0;  // the KV split of this decode step
  std::unique_ptr<cu::Gemm> gemm_;
  std::vector<void*> owned_;
  std::map<std::string, std::pair<void*, size_t>> scratch_;

  const bf16* embed_ = nullptr;
  const bf16* final_norm_ = nullptr;
  DevLinear lm_head_;
  std::vector<DevLayer> layers_;
  float* inv_freq_ = nullptr;
  float rope_factor_ = 1.0f;

  // KV cache: per layer [max_seqs * cap, D]; cap = max_len rounded up to the 64-row block.
  bf16* cache_ = nullptr;
  int max_seqs_ = 0;
  int64_t max_len_ = 0, cap_ = 0;
  std::vector<int64_t> len_;

  // Per-forward batch description (host and device).
  struct Seq {
    int slot;
    int64_t offset, count, start;
  };
  std::vector<Seq> seqs_;
  int32_t *d_slot_ = nullptr, *d_pos_ = nullptr, *d_seq_lens_ = nullptr, *d_table_ = nullptr, *d_cu_ = nullptr;
  int max_pos_ = 0, max_count_ = 0;
  bool all_decode_ = false, all_fresh_ = false;
  bool force_general_ = false;
  bool fast_shapes_ = false;  // DeepSeek-V3's MLA shapes: the fast kernels apply
};

std::vector<uint16_t> CudaBackend::to_bf16_host(const Linear& l, int64_t r0, int64_t r1) const {
  std::vector<uint16_t> out(static_cast<size_t>((r1 - r0) * l.in));
  if (l.dtype == DType::BF16) {
    std::memcpy(out.data(), l.data + r0 * l.in * 2, out.size() * 2);
    return out;
  }
  std::vector<float> f(static_cast<size_t>((r1 - r0) * l.in));
  l.rows_to_float(r0, r1, f.data());
  for (size_t i = 0; i < f.size(); ++i) out[i] = f32_to_bf16(f[i]);
  return out;
}

const bf16* CudaBackend::upload_vector(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f32_to_bf16(v[i]);
  return reinterpret_cast<const bf16*>(upload(h.data(), h.size()));
}

namespace {
bool fp8_gemm_ok(const Linear& l) {
  return l.dtype == DType::F8_E4M3 && l.in % 512 == 0 && l.block_n == 128 && l.block_k == 128 &&
         cu::Gemm::block_scaling_supported();
}
}  // namespace

DevLinear CudaBackend::upload_linear(const Linear& l, bool allow_fp8) {
  DevLinear d;
  d.out = l.out;
  d.in = l.in;
  if (allow_fp8 && fp8_gemm_ok(l)) {
    d.fp8 = true;
    d.w = upload(l.data, static_cast<size_t>(l.out * l.in));
    d.scale = upload(l.scale, static_cast<size_t>((l.out + 127) / 128 * l.scale_cols));
    return d;
  }
  const auto h = to_bf16_host(l, 0, l.out);
  d.w = upload(h.data(), h.size());
  return d;
}

DevLinear CudaBackend::upload_stacked(const Linear& a, const Linear& b) {
  DevLinear d;
  d.out = a.out + b.out;
  d.in = a.in;
  if (fp8_gemm_ok(a) && fp8_gemm_ok(b) && a.out % 128 == 0 && a.scale_cols == b.scale_cols) {
    d.fp8 = true;
    auto* w = alloc<uint8_t>(static_cast<size_t>(d.out * d.in));
    DSV3_CUDA_CHECK(cudaMemcpy(w, a.data, a.out * a.in, cudaMemcpyHostToDevice));
    DSV3_CUDA_CHECK(cudaMemcpy(w + a.out * a.in, b.data, b.out * b.in, cudaMemcpyHostToDevice));
    const int64_t ra = a.out / 128, rb = (b.out + 127) / 128;
    auto* s = alloc<float>(static_cast<size_t>((ra + rb) * a.scale_cols));
    DSV3_CUDA_CHECK(cudaMemcpy(s, a.scale, ra * a.scale_cols * 4, cudaMemcpyHostToDevice));
    DSV3_CUDA_CHECK(cudaMemcpy(s + ra * a.scale_cols, b.scale, rb * b.scale_cols * 4, cudaMemcpyHostToDevice));
    d.w = w;
    d.scale = s;
    return d;
  }
  auto* w = alloc<uint16_t>(static_cast<size_t>(d.out * d.in));
  const auto ha = to_bf16_host(a, 0, a.out), hb = to_bf16_host(b, 0, b.out);
  DSV3_CUDA_CHECK(cudaMemcpy(w, ha.data(), ha.size() * 2, cudaMemcpyHostToDevice));
  DSV3_CUDA_CHECK(cudaMemcpy(w + ha.size(), hb.data(), hb.size() * 2, cudaMemcpyHostToDevice));
  d.w = w;
  return d;
}

DevMlp CudaBackend::upload_mlp(const MlpWeights& m) {
  DevMlp d;
  d.inter = m.gate.out;
  d.gate_up = upload_stacked(m.gate, m.up);
  d.down = upload_linear(m.down);
  return d;
}

CudaBackend::CudaBackend(std::shared_ptr<const Model> model, const BackendOptions& opt)
    : model_(std::move(model)), device_(opt.device) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    cudaGetLastError();
    throw InputError("backend 'cuda': no CUDA GPU is visible");
  }
  if (device_ < 0 || device_ >= n) throw InputError(fmt::format("backend 'cuda': no GPU {} (have {})", device_, n));
  DSV3_CUDA_CHECK(cudaSetDevice(device_));
  DSV3_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  DSV3_CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&fork_, cudaEventDisableTiming));
  DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&join_, cudaEventDisableTiming));
  DSV3_CUDA_CHECK(cudaStreamCreateWithFlags(&attn_side_, cudaStreamNonBlocking));
  DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&attn_fork_, cudaEventDisableTiming));
  DSV3_CUDA_CHECK(cudaEventCreateWithFlags(&attn_join_, cudaEventDisableTiming));
  expert_streams_ = std::make_unique<cu::ExpertStreams>(4);
  gemm_ = std::make_unique<cu::Gemm>();
  use_graphs_ = cu::env_on("DSV3_CUDA_GRAPHS");
  gemm_->set_autotune(cu::env_on("DSV3_CUDA_AUTOTUNE"));
  const bool use_grouped = cu::env_on("DSV3_CUDA_MOE_GROUPED");
  force_general_ = cu::env_value("DSV3_CUDA_ATTENTION") == "general";
  const ModelConfig& c = model_->config;
  const ModelWeights& w = model_->weights;
  if (c.hidden_size % 8 || c.kv_lora_rank % 2 || c.qk_rope_head_dim % 2)
    throw InputError("backend 'cuda': hidden size must be a multiple of 8, latent and rope dims even");
  {
    const auto h = to_bf16_host(w.embed, 0, w.embed.out);
    embed_ = reinterpret_cast<const bf16*>(upload(h.data(), h.size()));
  }
  final_norm_ = upload_vector(w.norm);
  lm_head_ = upload_linear(w.lm_head, false);
  for (const auto& lw : w.layers) {
    DevLayer L;
    L.attn_norm = upload_vector(lw.attn_norm);
    L.ffn_norm = upload_vector(lw.ffn_norm);
    const auto& a = lw.attn;
    if (c.q_lora_rank > 0) {
      L.qkv_a = upload_stacked(a.q_a, a.kv_a);
      L.q_a_norm = upload_vector(a.q_a_norm);
      L.q_b = upload_linear(a.q_b);
    } else {
      L.q = upload_linear(a.q);
      L.kv_a = upload_linear(a.kv_a);
    }
    L.kv_a_norm = upload_vector(a.kv_a_norm);
    L.kv_b = upload_linear(a.kv_b, false);
    L.o = upload_linear(a.o);
    L.is_moe = lw.is_moe;
    if (!lw.is_moe) {
      L.dense = upload_mlp(lw.dense);
    } else {
      const auto& m = lw.moe;
      L.router = upload_linear(m.router, false);
      if (!m.bias.empty()) L.bias = upload(m.bias.data(), m.bias.size());
      if (!m.shared.gate.empty()) L.shared = upload_mlp(m.shared);
      L.expert_inter = m.experts.empty() ? 0 : m.experts[0].gate.out;
      bool all_fp8 = true;
      for (const auto& e : m.experts) all_fp8 = all_fp8 && fp8_gemm_ok(e.gate) && fp8_gemm_ok(e.up) && fp8_gemm_ok(e.down) &&
                                               e.gate.out % 128 == 0;
      L.experts.fp8 = all_fp8;
      if (all_fp8) {
        for (const auto& e : m.experts) {
          const DevLinear gu = upload_stacked(e.gate, e.up), dn = upload_linear(e.down);
          L.experts.gate_up.push_back(gu.w);
          L.experts.down.push_back(dn.w);
          L.experts.gate_up_scales.push_back(gu.scale);
          L.experts.down_scales.push_back(dn.scale);
        }
      } else {
        // BF16 (mixed or lower-precision experts become BF16: the routed pass runs one precision),
        // all experts of the layer in one buffer each: [E, 2I, H] (gate rows then up rows) and [E, H, I].
        const int64_t I = L.expert_inter, E = static_cast<int64_t>(m.experts.size()), H = c.hidden_size;
        auto* gu_all = alloc<uint16_t>(static_cast<size_t>(E * 2 * I * H));
        auto* dn_all = alloc<uint16_t>(static_cast<size_t>(E * H * I));
        for (int64_t e = 0; e < E; ++e) {
          const auto& ex = m.experts[static_cast<size_t>(e)];
          const auto g = to_bf16_host(ex.gate, 0, ex.gate.out), u = to_bf16_host(ex.up, 0, ex.up.out),
                     d = to_bf16_host(ex.down, 0, ex.down.out);
          uint16_t* gu = gu_all + e * 2 * I * H;
          DSV3_CUDA_CHECK(cudaMemcpy(gu, g.data(), g.size() * 2, cudaMemcpyHostToDevice));
          DSV3_CUDA_CHECK(cudaMemcpy(gu + I * H, u.data(), u.size() * 2, cudaMemcpyHostToDevice));
          DSV3_CUDA_CHECK(cudaMemcpy(dn_all + e * H * I, d.data(), d.size() * 2, cudaMemcpyHostToDevice));
          L.experts.gate_up.push_back(gu);
          L.experts.down.push_back(dn_all + e * H * I);
          L.experts.gate_up_scales.push_back(nullptr);
          L.experts.down_scales.push_back(nullptr);
        }
        L.experts.gate_up_all = gu_all;
        L.experts.down_all = dn_all;
        if (use_grouped) {  // device pointer tables for the grouped small-batch kernel
          L.experts.d_gate_up = upload(L.experts.gate_up.data(), L.experts.gate_up.size());
          L.experts.d_down = upload(L.experts.down.data(), L.experts.down.size());
        }
      }
    }
    layers_.push_back(std::move(L));
  }
  fast_shapes_ = c.kv_lora_rank == cu::kMlaLatent && c.qk_rope_head_dim == cu::kMlaKvDim - cu::kMlaLatent &&
                 c.qk_nope_head_dim == 128 && c.v_head_dim == 128 && c.num_attention_heads % 16 == 0;
  const Rope rope = Rope::from_config(c);
  inv_freq_ = upload(rope.inv_freq.data(), rope.inv_freq.size());
  rope_factor_ = rope.attention_factor;
  reset(1, std::min<int64_t>(c.max_position_embeddings, 4096));
}

CudaBackend::~CudaBackend() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (side_) cudaStreamSynchronize(side_);
  if (attn_side_) cudaStreamSynchronize(attn_side_);
  drop_graphs();
  expert_streams_.reset();
  gemm_.reset();
  if (staging_) cudaFreeHost(staging_);
  if (fork_) cudaEventDestroy(fork_);
  if (join_) cudaEventDestroy(join_);
  if (side_) cudaStreamDestroy(side_);
  if (attn_fork_) cudaEventDestroy(attn_fork_);
  if (attn_join_) cudaEventDestroy(attn_join_);
  if (attn_side_) cudaStreamDestroy(attn_side_);
  for (auto& [name, b] : scratch_)
    if (b.first) cudaFree(b.first);
  for (void* p : owned_) cudaFree(p);
  if (cache_) cudaFree(cache_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaBackend::reset(int max_seqs, int64_t max_len) {
  const ModelConfig& c = model_->config;
  if (max_seqs <= 0 || max_len <= 0) throw InputError("KV cache: need at least one slot and one position");
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  const int64_t cap = (max_len + cu::kMlaBlock - 1) / cu::kMlaBlock * cu::kMlaBlock;
  if (cache_ && max_seqs == max_seqs_ && cap == cap_) {  // same layout: keep the cache and the graphs
    max_len_ = max_len;
    len_.assign(static_cast<size_t>(max_seqs), 0);
    return;
  }
  drop_graphs();
  if (cache_) DSV3_CUDA_CHECK(cudaFree(cache_));
  cache_ = nullptr;
  max_seqs_ = max_seqs;
  max_len_ = max_len;
  cap_ = (max_len + cu::kMlaBlock - 1) / cu::kMlaBlock * cu::kMlaBlock;
  const size_t elems = static_cast<size_t>(c.num_hidden_layers) * max_seqs * cap_ * c.kv_cache_dim();
  if (cudaMalloc(&cache_, elems * sizeof(bf16)) != cudaSuccess) {
    cudaGetLastError();
    cache_ = nullptr;
    throw InputError(fmt::format("KV cache of {} slots x {} positions ({:.1f} GiB) does not fit on the GPU", max_seqs,
                                 max_len, elems * 2.0 / (1 << 30)));
  }
  len_.assign(static_cast<size_t>(max_seqs), 0);
}

void CudaBackend::check_slot(int slot) const {
  if (slot < 0 || slot >= max_seqs_)
    throw InputError(fmt::format("KV cache slot {} out of range (0..{})", slot, max_seqs_ - 1));
}

int64_t CudaBackend::length(int slot) const {
  check_slot(slot);
  return len_[slot];
}

void CudaBackend::truncate(int slot, int64_t len) {
  check_slot(slot);
  len_[slot] = std::clamp<int64_t>(len, 0, len_[slot]);
}

void CudaBackend::drop_graphs() {
  for (auto& [key, g] : graphs_)
    if (g.exec) cudaGraphExecDestroy(g.exec);
  graphs_.clear();
  warm_.clear();
}

void CudaBackend::linear(const DevLinear& L, const bf16* x, int64_t ldx, int64_t n, void* y, int64_t ldy,
                         cu::OutType out, bool accumulate, cudaStream_t s) {
  if (!L.fp8) {
    gemm_->bf16(x, ldx, static_cast<const bf16*>(L.w), y, ldy, out, n, L.out, L.in, accumulate ? 1.f : 0.f, s);
    return;
  }
  const std::string tag = s == side_ ? "side." : "";
  auto* xq = scratch<__nv_fp8_e4m3>(tag + "fp8.x", static_cast<size_t>(n * L.in));
  auto* xs = scratch<float>(tag + "fp8.s", static_cast<size_t>(cu::act_scale_rows(n) * (L.in / 128)));
  cu::quantize_act_1x128(x, ldx, n, L.in, xq, xs, nullptr, 0, false, s);
  gemm_->fp8_block(xq, xs, static_cast<const __nv_fp8_e4m3*>(L.w), L.scale, static_cast<bf16*>(y), ldy, n, L.out,
                   L.in, accumulate ? 1.f : 0.f, s);
}

const bf16* CudaBackend::normed(const bf16* x, int64_t ldx, const bf16* norm_w, float eps, int64_t n, int64_t width,
                                const std::string& name, cudaStream_t s) {
  auto* xn = scratch<bf16>(name, static_cast<size_t>(n * width));
  cu::rmsnorm(x, ldx, norm_w, xn, width, n, width, eps, s);
  return xn;
}

void CudaBackend::linear_normed(const DevLinear& L, const bf16* x, int64_t ldx, const bf16* norm_w, float eps, int64_t n,
                                void* y, int64_t ldy, cu::OutType out, bool accumulate, cudaStream_t s) {
  if (!norm_w) {
    linear(L, x, ldx, n, y, ldy, out, accumulate, s);
    return;
  }
  if (norm_in_gemv_ && !L.fp8 &&
      gemm_->bf16_normed(x, ldx, norm_w, eps, static_cast<const bf16*>(L.w), y, ldy, out, n, L.out, L.in,
                         accumulate ? 1.f : 0.f, s))
    return;
  const bf16* xn = normed(x, ldx, norm_w, eps, n, L.in, std::string(s == side_ ? "side." : "") + "normed", s);
  linear(L, xn, L.in, n, y, ldy, out, accumulate, s);
}

void CudaBackend::mlp(const DevMlp& m, const bf16* x, const bf16* norm_w, int64_t n, bf16* y, bool accumulate,
                      cudaStream_t s) {
  const int64_t H = model_->config.hidden_size, I = m.inter;
  const float eps = static_cast<float>(model_->config.rms_norm_eps);
  const std::string tag = s == side_ ? "side." : "";
  auto* gu = scratch<bf16>(tag + "mlp.gu", static_cast<size_t>(n * 2 * I));
  auto* act = scratch<bf16>(tag + "mlp.act", static_cast<size_t>(n * I));
  linear_normed(m.gate_up, x, H, norm_w, eps, n, gu, 2 * I, cu::OutType::BF16, false, s);
  cu::swiglu(gu, n, I, act, s);
  linear(m.down, act, I, n, y, H, cu::OutType::BF16, accumulate, s);
}

void CudaBackend::attention(const DevLayer& L, int64_t layer, const bf16* x_in, const bf16* norm_w, int64_t n,
                            bf16* x) {
  const ModelConfig& c = model_->config;
  const int64_t H = c.hidden_size, nh = c.num_attention_heads, nope = c.qk_nope_head_dim, P = c.qk_rope_head_dim,
                qk = nope + P, vd = c.v_head_dim, R = c.kv_lora_rank, D = R + P, QL = c.q_lora_rank;
  const float eps = static_cast<float>(c.rms_norm_eps), scale = static_cast<float>(c.softmax_scale());
  const bool fast = !force_general_ && fast_shapes_;
  // Decode steps: the latent's cache write and q's RoPE on a side branch (attn_side_), off the
  // chain of dependent kernels; they join before the attention kernel.
  const bool branch = fast && all_decode_ && attn_branch_;
  auto fork = [&] {
    DSV3_CUDA_CHECK(cudaEventRecord(attn_fork_, stream_));
    DSV3_CUDA_CHECK(cudaStreamWaitEvent(attn_side_, attn_fork_, 0));
  };
  auto* q = scratch<bf16>("attn.q", static_cast<size_t>(n * nh * qk));
  bf16* cache = cache_ + static_cast<size_t>(layer) * max_seqs_ * cap_ * D;
  // The latent row [c (R) | k_pe (P)] of each token, at kva with row stride ldkv.
  bf16* kva = nullptr;
  int64_t ldkv = D;
  auto latent = [&](cudaStream_t s) {
    cu::latent_to_cache(kva, ldkv, n, static_cast<int>(R), static_cast<int>(P), L.kv_a_norm, eps, d_pos_, inv_freq_,
                        rope_factor_, cache, cap_, d_slot_, s);
  };
  if (QL > 0) {
    // [q_a | kv_a] in one GEMM (with the layer's input norm); q_a's norm goes into q_b's GEMM.
    auto* qkva = scratch<bf16>("attn.qkva", static_cast<size_t>(n * (QL + D)));
    linear_normed(L.qkv_a, x_in, H, norm_w, eps, n, qkva, QL + D, cu::OutType::BF16, false, stream_);
    kva = qkva + QL;
    ldkv = QL + D;
    if (branch) {
      fork();
      latent(attn_side_);
    }
    linear_normed(L.q_b, qkva, QL + D, L.q_a_norm, eps, n, q, nh * qk, cu::OutType::BF16, false, stream_);
  } else {
    const bf16* xn = norm_w ? normed(x_in, H, norm_w, eps, n, H, "attn.xn", stream_) : x_in;
    linear(L.q, xn, H, n, q, nh * qk, cu::OutType::BF16, false, stream_);
    kva = scratch<bf16>("attn.kva", static_cast<size_t>(n * D));
    linear(L.kv_a, xn, H, n, kva, D, cu::OutType::BF16, false, stream_);
    if (branch) {
      fork();
      latent(attn_side_);
    }
  }
  if (!branch) latent(stream_);

  auto* attn = scratch<bf16>("attn.out", static_cast<size_t>(n * nh * vd));
  const auto* kvb = static_cast<const bf16*>(L.kv_b.w);
  if (fast && all_fresh_ && !all_decode_) {
    // Prompts: K/V of every head from the latent, causal FlashAttention-style kernel.
    cu::rope_interleaved(q, n, static_cast<int>(nh), nh * qk, qk, static_cast<int>(nope), static_cast<int>(P), d_pos_,
                         inv_freq_, rope_factor_, stream_);
    auto* kv = scratch<bf16>("attn.kv", static_cast<size_t>(n * nh * (nope + vd)));
    linear(L.kv_b, kva, ldkv, n, kv, nh * (nope + vd), cu::OutType::BF16, false, stream_);
    cu::MlaPrefillArgs a;
    a.q = q;
    a.q_ld = nh * qk;
    a.q_hs = qk;
    a.k_nope = kv;
    a.kn_ld = nh * (nope + vd);
    a.kn_hs = nope + vd;
    a.k_rope = kva + R;
    a.kr_ld = ldkv;
    a.v = kv + nope;
    a.v_ld = nh * (nope + vd);
    a.v_hs = nope + vd;
    a.out = attn;
    a.o_ld = nh * vd;
    a.cu_seqlens = d_cu_;
    a.n_seqs = static_cast<int>(seqs_.size());
    a.max_len = max_count_;
    a.heads = static_cast<int>(nh);
    a.softmax_scale = scale;
    cu::mla_prefill(a, stream_);
  } else {
    // Absorbed: q~ = q_nope · W_UK per head, attention over the latent, then W_UV per head.
    auto* qabs = scratch<bf16>("attn.qabs", static_cast<size_t>(n * nh * D));
    auto rope = [&](cudaStream_t s) {
      cu::rope_interleaved_to(q, nh * qk, qk, static_cast<int>(nope), qabs, nh * D, D, static_cast<int>(R), n,
                              static_cast<int>(nh), static_cast<int>(P), d_pos_, inv_freq_, rope_factor_, s);
    };
    if (branch) {
      fork();
      rope(attn_side_);
      DSV3_CUDA_CHECK(cudaEventRecord(attn_join_, attn_side_));
    }
    gemm_->bf16_batched(q, nh * qk, qk, kvb, R, (nope + vd) * R, false, qabs, nh * D, D, n, R, nope, nh, stream_);
    if (branch)
      DSV3_CUDA_CHECK(cudaStreamWaitEvent(stream_, attn_join_, 0));
    else
      rope(stream_);
    auto* olat = scratch<bf16>("attn.olat", static_cast<size_t>(n * nh * R));
    if (fast && all_decode_) {
      cu::MlaDecodeArgs a;
      a.q = qabs;
      a.kv_cache = cache;
      a.block_table = d_table_;
      a.block_table_stride = static_cast<int>(cap_ / cu::kMlaBlock);
      a.seq_lens = d_seq_lens_;
      a.out = olat;
      a.batch = static_cast<int>(n);
      a.heads = static_cast<int>(nh);
      a.softmax_scale = scale;
      a.max_seq_len = max_pos_ + 1;
      a.n_splits = splits_;  // fixed per captured graph
      void* ws = scratch<unsigned char>("attn.decode", cu::mla_decode_scratch_bytes(a));
      cu::mla_decode(a, ws, stream_);
    } else {
      cu::LatentAttentionArgs a;
      a.q = qabs;
      a.cache = cache;
      a.slot_stride = cap_;
      a.row_slot = d_slot_;
      a.row_pos = d_pos_;
      a.out = olat;
      a.rows = n;
      a.heads = static_cast<int>(nh);
      a.R = static_cast<int>(R);
      a.P = static_cast<int>(P);
      a.max_keys = max_pos_ + 1;
      a.softmax_scale = scale;
      cu::mla_latent_attention(a, stream_);
    }
    gemm_->bf16_batched(olat, nh * R, R, kvb + nope * R, R, (nope + vd) * R, true, attn, nh * vd, vd, n, vd, R, nh,
                        stream_);
  }
  linear(L.o, attn, nh * vd, n, x, H, cu::OutType::BF16, true, stream_);  // x += o_proj(attn)
}

namespace {
cu::RouterParams router_params(const ModelConfig& c) {
  const GateParams gp = GateParams::from_config(c);
  cu::RouterParams rp;
  rp.n_experts = gp.n_experts;
  rp.n_group = gp.n_group;
  rp.topk_group = gp.topk_group;
  rp.top_k = gp.top_k;
  rp.sigmoid = gp.sigmoid;
  rp.method = gp.method == "noaux_tc" ? 0 : gp.method == "group_limited_greedy" ? 1 : 2;
  rp.norm_topk_prob = gp.norm_topk_prob;
  rp.routed_scaling_factor = gp.routed_scaling_factor;
  return rp;
}
}  // namespace

void CudaBackend::ffn(const DevLayer& L, const bf16* norm_w, int64_t n, bf16* x) {
  const ModelConfig& c = model_->config;
  const int64_t H = c.hidden_size;
  const float eps = static_cast<float>(c.rms_norm_eps);
  if (!L.is_moe) {
    mlp(L.dense, x, norm_w, n, x, true, stream_);
    return;
  }
  const int E = static_cast<int>(c.n_routed_experts), K = static_cast<int>(c.num_experts_per_tok);
  auto* xn = scratch<bf16>("xn", static_cast<size_t>(n * H));
  auto* logits = scratch<float>("moe.logits", static_cast<size_t>(n * E));
  // Decode sizes: the router's GEMV kernel norms x and writes xn for the routed experts; the
  // shared expert's gate_up norms x itself. Else one norm kernel for all three.
  const bool fused = norm_in_gemv_ && !L.router.fp8 &&
                     gemm_->bf16_normed(x, H, norm_w, eps, static_cast<const bf16*>(L.router.w), logits, E,
                                        cu::OutType::F32, n, E, H, 0.f, stream_, xn);
  if (!fused) cu::rmsnorm(x, H, norm_w, xn, H, n, H, eps, stream_);
  // The shared expert on the side stream, overlapped with the router and the routed experts.
  bf16* shared = nullptr;
  if (L.shared.inter > 0) {
    shared = scratch<bf16>("moe.shared", static_cast<size_t>(n * H));
    DSV3_CUDA_CHECK(cudaEventRecord(fork_, stream_));
    DSV3_CUDA_CHECK(cudaStreamWaitEvent(side_, fork_, 0));
    mlp(L.shared, fused ? x : xn, fused ? norm_w : nullptr, n, shared, false, side_);
    DSV3_CUDA_CHECK(cudaEventRecord(join_, side_));
  }
  if (!fused) linear(L.router, xn, H, n, logits, E, cu::OutType::F32, false, stream_);
  auto* experts = scratch<int32_t>("moe.experts", static_cast<size_t>(n * K));
  auto* weights = scratch<float>("moe.weights", static_cast<size_t>(n * K));
  void* ws = scratch<unsigned char>("moe.scratch", cu::moe_scratch_bytes(n, K, E, H, L.expert_inter));
  cu::MoeExtras extras;
  extras.streams = expert_streams_.get();
  extras.shared_ready = shared ? join_ : nullptr;
  cu::moe_forward(*gemm_, router_params(c), logits, L.bias, L.experts, xn, n, H, L.expert_inter, experts, weights,
                  shared, x, x, ws, stream_, extras);
}

void CudaBackend::validate(const std::vector<SeqInput>& in) const {
  const int64_t V = model_->config.vocab_size;
  std::vector<char> seen(static_cast<size_t>(max_seqs_), 0);
  for (const auto& s : in) {
    check_slot(s.slot);
    if (seen[s.slot]) throw InputError(fmt::format("forward: slot {} appears twice in one batch", s.slot));
    seen[s.slot] = 1;
    const int64_t count = static_cast<int64_t>(s.tokens.size());
    if (count == 0) throw InputError(fmt::format("forward: no tokens for slot {}", s.slot));
    if (len_[s.slot] + count > max_len_)
      throw InputError(fmt::format("forward: sequence in slot {} would reach {} tokens, over the cache's {}", s.slot,
                                   len_[s.slot] + count, max_len_));
    for (int32_t id : s.tokens)
      if (id < 0 || id >= V) throw InputError(fmt::format("token id {} out of range (vocabulary of {})", id, V));
  }
}


bool CudaBackend::graphable(int64_t n) const {
  if (!use_graphs_ || !all_decode_ || !fast_shapes_ || force_general_) return false;
  const ModelConfig& c = model_->config;
  for (const auto& L : layers_)
    if (L.is_moe && !cu::moe_graph_safe(L.experts, n, static_cast<int>(c.num_experts_per_tok),
                                        static_cast<int>(c.n_routed_experts), c.hidden_size, L.expert_inter))
      return false;
  return true;
}

void CudaBackend::layers(int64_t n, int64_t m, const int32_t* d_ids, const int32_t* d_pick) {
  const ModelConfig& c = model_->config;
  const int64_t H = c.hidden_size, V = c.vocab_size;
  const float eps = static_cast<float>(c.rms_norm_eps);
  auto* x = scratch<bf16>("x", static_cast<size_t>(n * H));
  cu::embedding(embed_, d_ids, n, H, x, stream_);
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const DevLayer& L = layers_[static_cast<size_t>(l)];
    attention(L, l, x, L.attn_norm, n, x);
    ffn(L, L.ffn_norm, n, x);
  }
  // Rows that get logits: gather, final norm, lm_head.
  // (m == n: every row gets logits, in order; no gather.)
  const bf16* xp = x;
  if (m != n) {
    auto* g = scratch<bf16>("final.x", static_cast<size_t>(m * H));
    cu::embedding(x, d_pick, m, H, g, stream_);
    xp = g;
  }
  auto* logits = scratch<float>("final.logits", static_cast<size_t>(m * V));
  linear_normed(lm_head_, xp, H, final_norm_, eps, m, logits, V, cu::OutType::F32, false, stream_);
}

std::vector<SeqOutput> CudaBackend::forward(const std::vector<SeqInput>& in, const ForwardOptions& opt) {
  const ModelConfig& c = model_->config;
  const int64_t H = c.hidden_size, V = c.vocab_size;
  DSV3_CUDA_CHECK(cudaSetDevice(device_));
  // Batch layout (same checks and messages as the CPU backend).
  validate(in);
  attn_branch_ = cu::env_on("DSV3_CUDA_ATTN_BRANCH");
  norm_in_gemv_ = cu::env_on("DSV3_CUDA_NORM_IN_GEMV");
  seqs_.clear();
  int64_t n = 0;
  for (const auto& s : in) {
    const int64_t count = static_cast<int64_t>(s.tokens.size());
    seqs_.push_back({s.slot, n, count, len_[s.slot]});
    n += count;
  }
  if (n == 0) return {};
  const int64_t bps = cap_ / cu::kMlaBlock, B = static_cast<int64_t>(seqs_.size());
  max_pos_ = 0;
  max_count_ = 0;
  all_decode_ = true;
  all_fresh_ = true;
  for (const auto& s : seqs_) {
    max_pos_ = std::max<int>(max_pos_, static_cast<int>(s.start + s.count - 1));
    max_count_ = std::max<int>(max_count_, static_cast<int>(s.count));
    all_decode_ = all_decode_ && s.count == 1;
    all_fresh_ = all_fresh_ && s.start == 0;
  }
  const int64_t m = opt.all_logits ? n : B;
  // One int32 buffer: ids[n] slot[n] pos[n] seq_lens[B] cu[B+1] table[B*bps] pick[m]; for decode
  // steps the offsets depend only on B (and bps, fixed until reset), as the graphs need.
  const int64_t o_slot = n, o_pos = 2 * n, o_lens = 3 * n, o_cu = o_lens + B, o_table = o_cu + B + 1,
                o_pick = o_table + B * bps, total = o_pick + m;
  if (staging_len_ < static_cast<size_t>(total)) {
    if (staging_) DSV3_CUDA_CHECK(cudaFreeHost(staging_));
    staging_len_ = static_cast<size_t>(std::max<int64_t>(total, 4096));
    DSV3_CUDA_CHECK(cudaMallocHost(&staging_, staging_len_ * sizeof(int32_t)));
  }
  int32_t* h = staging_;
  h[o_cu] = 0;
  int64_t row = 0, at = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& s = seqs_[i];
    for (int64_t j = 0; j < s.count; ++j, ++row) {
      h[row] = in[i].tokens[j];
      h[o_slot + row] = s.slot;
      h[o_pos + row] = static_cast<int32_t>(s.start + j);
    }
    h[o_lens + i] = static_cast<int32_t>(s.start + s.count);
    h[o_cu + i + 1] = static_cast<int32_t>(s.offset + s.count);
    for (int64_t b = 0; b < bps; ++b) h[o_table + i * bps + b] = static_cast<int32_t>(s.slot * bps + b);
    if (opt.all_logits)
      for (int64_t j = 0; j < s.count; ++j) h[o_pick + at++] = static_cast<int32_t>(s.offset + j);
    else
      h[o_pick + at++] = static_cast<int32_t>(s.offset + s.count - 1);
  }
  auto* d = scratch<int32_t>("batch", static_cast<size_t>(total));
  DSV3_CUDA_CHECK(cudaMemcpyAsync(d, h, static_cast<size_t>(total) * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  const int32_t *d_ids = d, *d_pick = d + o_pick;
  d_slot_ = d + o_slot;
  d_pos_ = d + o_pos;
  d_seq_lens_ = d + o_lens;
  d_cu_ = d + o_cu;
  d_table_ = d + o_table;

  splits_ = 0;
  if (all_decode_ && fast_shapes_) {
    cu::MlaDecodeArgs a;
    a.batch = static_cast<int>(n);
    a.heads = static_cast<int>(c.num_attention_heads);
    a.max_seq_len = max_pos_ + 1;
    splits_ = cu::mla_decode_splits(a);
  }
  // An error part way leaves the side streams reading this step's buffers: drain them first.
  auto eager = [&] {
    try {
      layers(n, m, d_ids, d_pick);
    } catch (...) {
      cudaDeviceSynchronize();
      cudaGetLastError();
      throw;
    }
  };
  if (graphable(n)) {
    const std::pair<int64_t, int> key{n, splits_};
    // Make sure every buffer the step uses exists at its size before looking at generations.
    auto git = graphs_.find(key);
    if (git != graphs_.end() && git->second.generation != generation()) {
      cudaGraphExecDestroy(git->second.exec);
      graphs_.erase(git);
      git = graphs_.end();
      warm_.erase(key);
    }
    if (git == graphs_.end()) {
      auto wit = warm_.find(key);
      if (wit != warm_.end() && wit->second == generation()) {
        // Second step of this shape: capture it (nothing runs during capture), then launch.
        cudaGraph_t graph = nullptr;
        DSV3_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
        bool captured = true;
        try {
          layers(n, m, d_ids, d_pick);
        } catch (const std::exception& e) {
          captured = false;
          fmt::print(stderr, "warning: CUDA graph capture failed ({}); decode steps run eagerly from now on\n", e.what());
        }
        const cudaError_t end = cudaStreamEndCapture(stream_, &graph);
        Graph g;
        if (captured && end == cudaSuccess && graph && cudaGraphInstantiate(&g.exec, graph, 0) == cudaSuccess) {
          g.generation = generation();
          git = graphs_.emplace(key, g).first;
        } else {
          use_graphs_ = false;
          cudaGetLastError();
          eager();  // this step
        }
        if (graph) cudaGraphDestroy(graph);
      } else {
        eager();
        warm_[key] = generation();
      }
    }
    if (git != graphs_.end()) DSV3_CUDA_CHECK(cudaGraphLaunch(git->second.exec, stream_));
  } else {
    eager();
  }

  // Results to the host: token ids (greedy) or logits, and the hidden states when asked.
  const auto* logits = scratch<float>("final.logits", static_cast<size_t>(m * V));
  std::vector<float> host;
  std::vector<int32_t> ids;
  if (opt.greedy_only) {
    auto* d_ids_out = scratch<int32_t>("final.argmax", static_cast<size_t>(m));
    cu::argmax_rows(logits, m, V, d_ids_out, stream_);
    ids.resize(static_cast<size_t>(m));
    DSV3_CUDA_CHECK(cudaMemcpyAsync(ids.data(), d_ids_out, ids.size() * 4, cudaMemcpyDeviceToHost, stream_));
  } else {
    host.resize(static_cast<size_t>(m * V));
    DSV3_CUDA_CHECK(cudaMemcpyAsync(host.data(), logits, host.size() * 4, cudaMemcpyDeviceToHost, stream_));
  }
  std::vector<uint16_t> hid;
  if (opt.want_hidden) {
    hid.resize(static_cast<size_t>(m * H));
    DSV3_CUDA_CHECK(cudaMemcpyAsync(hid.data(), scratch<bf16>("final.hn", static_cast<size_t>(m * H)), hid.size() * 2,
                                    cudaMemcpyDeviceToHost, stream_));
  }
  DSV3_CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (const auto& s : seqs_) len_[s.slot] += s.count;
  std::vector<SeqOutput> out;
  at = 0;
  for (const auto& s : seqs_) {
    SeqOutput o;
    o.rows = opt.all_logits ? s.count : 1;
    if (opt.greedy_only)
      o.argmax.assign(ids.begin() + at, ids.begin() + at + o.rows);
    else
      o.logits.assign(host.begin() + at * V, host.begin() + (at + o.rows) * V);
    if (opt.want_hidden)
      for (int64_t i = at * H; i < (at + o.rows) * H; ++i) o.hidden.push_back(bf16_to_f32(hid[i]));
    at += o.rows;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(std::shared_ptr<const Model> model, const BackendOptions& opt) {
  return std::make_unique<CudaBackend>(std::move(model), opt);
}

}  // namespace dsv3::model
