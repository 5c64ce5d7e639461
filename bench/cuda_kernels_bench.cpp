// CUDA kernel benchmarks on the GPU (CUDA events, manual time): device-to-device copy bandwidth,
// GEMMs on DeepSeek-V3's shapes (FP8 block-scaled through cuBLASLt and our skinny kernel, FP8
// per-tensor and BF16 through cuBLASLt),
// activation quantization, MLA decode (GB/s) and prefill (TFLOPS), and the routed-expert pass.
// Each benchmark reports the median over its iterations in its counters; scripts/bench_cuda.sh
// runs them all and tabulates them. Without the CUDA backend or a GPU it registers nothing.
#include <benchmark/benchmark.h>

#if DSV3_HAVE_CUDA
#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "model/cuda/event_timing.hpp"
#include "model/cuda/cuda_check.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/fp8_skinny.hpp"
#include "model/cuda/gemm.hpp"
#include "model/cuda/mla_decode.hpp"
#include "model/cuda/mla_prefill.hpp"
#include "model/cuda/moe.hpp"
#include "model/cuda/random_fill.hpp"

namespace mc = dsv3::model::cuda;
using bf16 = __nv_bfloat16;
using fp8 = __nv_fp8_e4m3;

namespace {

template <class T>
struct Dev {
  T* p = nullptr;
  explicit Dev(size_t n) { DSV3_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T))); }
  ~Dev() { cudaFree(p); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
};

using dsv3::model::cuda::time_ms;

// Runs the benchmark loop, reports the median time and the given work as rates.
template <class F>
void measure(benchmark::State& state, F&& f, int reps, double flops, double bytes) {
  f(0);  // warm-up: plans, module load
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> ms;
  for (auto _ : state) {
    const double t = time_ms(f, reps);
    ms.push_back(t);
    state.SetIterationTime(t * 1e-3);
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  state.counters["us"] = med * 1e3;
  if (flops > 0) state.counters["TFLOPS"] = flops / (med * 1e-3) / 1e12;
  if (bytes > 0) state.counters["GBps"] = bytes / (med * 1e-3) / 1e9;
}

size_t l2_bytes() {
  int dev = 0, l2 = 0;
  DSV3_CUDA_CHECK(cudaGetDevice(&dev));
  DSV3_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
  return static_cast<size_t>(l2);
}

// Weight copies so that the rotation touches at least 3x the L2 (no L2-resident weights).
int copies_for(size_t bytes) {
  return static_cast<int>(std::clamp<size_t>((3 * l2_bytes() + bytes - 1) / bytes, 1, 16));
}

void BM_CopyBandwidth(benchmark::State& state) {
  const size_t bytes = size_t{2} << 30;
  Dev<char> a(bytes), b(bytes);
  DSV3_CUDA_CHECK(cudaMemset(a.p, 1, bytes));
  measure(state, [&](int) { DSV3_CUDA_CHECK(cudaMemcpyAsync(b.p, a.p, bytes, cudaMemcpyDeviceToDevice)); }, 5, 0,
          2.0 * bytes);
}

// kFp8Block: what the model runs (the faster of cuBLASLt and our skinny kernel, chosen at the first
// call); kFp8BlockLt / kFp8BlockOwn: each side forced.
enum Variant { kFp8Block = 0, kFp8Tensor = 1, kFp8TensorFast = 2, kBf16 = 3, kFp8BlockLt = 4, kFp8BlockOwn = 5 };

void BM_Gemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const auto v = static_cast<Variant>(state.range(3));
  static mc::Gemm gemm, gemm_lt, gemm_own;
  gemm_lt.set_fp8_block_impl(mc::Gemm::Fp8BlockImpl::CublasLt);
  gemm_own.set_fp8_block_impl(mc::Gemm::Fp8BlockImpl::Own);
  if ((v == kFp8Block || v == kFp8BlockLt) && !mc::Gemm::block_scaling_supported()) {
    state.SkipWithError("no cuBLASLt block scaling");
    return;
  }
  if (v == kFp8BlockOwn && !mc::fp8_skinny_supported(M, N, K)) {
    state.SkipWithError("shape outside the skinny FP8 kernel");
    return;
  }
  const bool is_fp8 = v != kBf16;
  const size_t esz = is_fp8 ? 1 : 2;
  const int copies = copies_for(static_cast<size_t>(N) * K * esz);
  const int64_t kb = K / 128, nb = (N + 127) / 128;
  Dev<unsigned char> x(M * K * esz), w(copies * N * K * esz);
  Dev<float> xs(mc::act_scale_rows(M) * kb), ws(copies * nb * kb), one(1);
  Dev<bf16> d(M * N);
  if (is_fp8) {
    mc::fill_uniform(reinterpret_cast<fp8*>(x.p), M * K, 1, 448.f, nullptr);
    mc::fill_uniform(reinterpret_cast<fp8*>(w.p), copies * N * K, 2, 448.f, nullptr);
  } else {
    mc::fill_uniform(reinterpret_cast<bf16*>(x.p), M * K, 1, 1.f, nullptr);
    mc::fill_uniform(reinterpret_cast<bf16*>(w.p), copies * N * K, 2, 0.05f, nullptr);
  }
  mc::fill_uniform(xs.p, mc::act_scale_rows(M) * kb, 3, 1e-2f, nullptr);
  mc::fill_uniform(ws.p, copies * nb * kb, 4, 1e-3f, nullptr);
  mc::fill_constant(one.p, 1, 1e-3f, nullptr);
  auto run = [&](int i) {
    const int c = i % copies;
    switch (v) {
      case kFp8Block:
      case kFp8BlockLt:
      case kFp8BlockOwn:
        (v == kFp8Block ? gemm : v == kFp8BlockLt ? gemm_lt : gemm_own).fp8_block(reinterpret_cast<fp8*>(x.p), xs.p, reinterpret_cast<fp8*>(w.p) + c * N * K, ws.p + c * nb * kb,
                       d.p, N, M, N, K, 0.f, nullptr);
        break;
      case kFp8Tensor:
      case kFp8TensorFast:
        gemm.fp8_tensor(reinterpret_cast<fp8*>(x.p), one.p, reinterpret_cast<fp8*>(w.p) + c * N * K, one.p, d.p, N, M,
                        N, K, v == kFp8TensorFast, nullptr);
        break;
      case kBf16:
        gemm.bf16(reinterpret_cast<bf16*>(x.p), K, reinterpret_cast<bf16*>(w.p) + c * N * K, d.p, N,
                  mc::OutType::BF16, M, N, K, 0.f, nullptr);
        break;
    }
  };
  const double flops = 2.0 * M * N * K;
  const double bytes = static_cast<double>(M * K + N * K) * esz + 2.0 * M * N;
  measure(state, run, std::max(copies, 10), flops, bytes);
}

void GemmArgs(benchmark::internal::Benchmark* b) {
  const int64_t nk[][2] = {{2112, 7168}, {24576, 1536}, {32768, 512}, {7168, 16384}, {4096, 7168}, {7168, 2048}};
  for (int v : {kFp8Block, kFp8Tensor, kFp8TensorFast, kBf16, kFp8BlockLt, kFp8BlockOwn})
    for (int64_t m : {64, 128, 4096})
      for (auto& s : nk)
        if (v != kFp8BlockOwn || m <= mc::kFp8SkinnyMaxRows) b->Args({m, s[0], s[1], v});
  // Decode sizes, FP8 block-scaled only: the model's FP8 projections at batch 1-8.
  for (int v : {kFp8BlockLt, kFp8BlockOwn})
    for (int64_t m : {1, 4, 8})
      for (auto& s : nk) b->Args({m, s[0], s[1], v});
  b->ArgNames({"M", "N", "K", "variant"});
}

void BM_ActQuant(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1);
  Dev<bf16> x(M * K);
  Dev<fp8> q(M * K);
  Dev<float> s(mc::act_scale_rows(M) * K / 128);
  mc::fill_uniform(x.p, M * K, 5, 4.f, nullptr);
  measure(state, [&](int) { mc::quantize_act_1x128(x.p, K, M, K, q.p, s.p, nullptr, 0, false, nullptr); }, 20, 0,
          3.0 * M * K + 4.0 * M * K / 128);
}

void BM_MlaDecode(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), ctx = static_cast<int>(state.range(1)),
            heads = static_cast<int>(state.range(2));
  const int nb = (ctx + 63) / 64;
  const int64_t blocks = static_cast<int64_t>(B) * nb;
  Dev<bf16> cache(blocks * 64 * mc::kMlaKvDim), q(static_cast<int64_t>(B) * heads * mc::kMlaKvDim),
      out(static_cast<int64_t>(B) * heads * mc::kMlaLatent);
  mc::fill_uniform(cache.p, blocks * 64 * mc::kMlaKvDim, 6, 1.f, nullptr);
  mc::fill_uniform(q.p, static_cast<int64_t>(B) * heads * mc::kMlaKvDim, 7, 1.f, nullptr);
  std::vector<int32_t> table(blocks);
  std::iota(table.begin(), table.end(), 0);
  std::shuffle(table.begin(), table.end(), std::mt19937(8));  // pages scattered over the pool
  std::vector<int32_t> lens(B, ctx);
  Dev<int32_t> dt(blocks), dl(B);
  DSV3_CUDA_CHECK(cudaMemcpy(dt.p, table.data(), blocks * 4, cudaMemcpyHostToDevice));
  DSV3_CUDA_CHECK(cudaMemcpy(dl.p, lens.data(), B * 4, cudaMemcpyHostToDevice));
  mc::MlaDecodeArgs a;
  a.q = q.p;
  a.kv_cache = cache.p;
  a.block_table = dt.p;
  a.block_table_stride = nb;
  a.seq_lens = dl.p;
  a.out = out.p;
  a.batch = B;
  a.heads = heads;
  a.softmax_scale = 0.1352338f;
  a.max_seq_len = ctx;
  Dev<unsigned char> scratch(mc::mla_decode_scratch_bytes(a));
  state.counters["splits"] = mc::mla_decode_splits(a);
  const double bytes = static_cast<double>(B) * ctx * mc::kMlaKvDim * 2 +
                       static_cast<double>(B) * heads * (mc::kMlaKvDim + mc::kMlaLatent) * 2;
  const double flops = 2.0 * B * heads * ctx * (mc::kMlaKvDim + mc::kMlaLatent);
  measure(state, [&](int) { mc::mla_decode(a, scratch.p, nullptr); }, 10, flops, bytes);
}

void MlaDecodeArgs(benchmark::internal::Benchmark* b) {
  for (int heads : {16, 128})
    for (int B : {64, 128})
      for (int ctx : {4096, 8192, 16384}) b->Args({B, ctx, heads});
  b->Args({1, 4096, 16});
  b->Args({16, 4096, 16});
  b->ArgNames({"batch", "ctx", "heads"});
}

void BM_MlaPrefill(benchmark::State& state) {
  const int T = static_cast<int>(state.range(0)), H = static_cast<int>(state.range(1));
  Dev<bf16> q(static_cast<int64_t>(T) * H * 192), kv(static_cast<int64_t>(T) * H * 256), ckv(static_cast<int64_t>(T) * 576),
      out(static_cast<int64_t>(T) * H * 128);
  mc::fill_uniform(q.p, static_cast<int64_t>(T) * H * 192, 9, 1.f, nullptr);
  mc::fill_uniform(kv.p, static_cast<int64_t>(T) * H * 256, 10, 1.f, nullptr);
  mc::fill_uniform(ckv.p, static_cast<int64_t>(T) * 576, 11, 1.f, nullptr);
  const std::vector<int32_t> cu = {0, T};
  Dev<int32_t> dcu(2);
  DSV3_CUDA_CHECK(cudaMemcpy(dcu.p, cu.data(), 8, cudaMemcpyHostToDevice));
  mc::MlaPrefillArgs a;
  a.q = q.p;
  a.q_ld = H * 192;
  a.q_hs = 192;
  a.k_nope = kv.p;
  a.kn_ld = H * 256;
  a.kn_hs = 256;
  a.k_rope = ckv.p + 512;
  a.kr_ld = 576;
  a.v = kv.p + 128;
  a.v_ld = H * 256;
  a.v_hs = 256;
  a.out = out.p;
  a.o_ld = H * 128;
  a.cu_seqlens = dcu.p;
  a.n_seqs = 1;
  a.max_len = T;
  a.heads = H;
  a.softmax_scale = 0.1352338f;
  const double flops = 2.0 * H * (192 + 128) * (static_cast<double>(T) * (T + 1) / 2);  // causal
  measure(state, [&](int) { mc::mla_prefill(a, nullptr); }, 5, flops, 0);
}

// Routed experts of one MoE layer (router output from random logits; routing via the GPU router).
void BM_MoeRouted(benchmark::State& state) {
  const int64_t T = state.range(0);
  const bool v3 = state.range(1) != 0;  // 1: DeepSeek-V3 shapes in FP8; 0: the mid model in BF16
  const int E = v3 ? 256 : 64, K = v3 ? 8 : 6;
  const int64_t H = v3 ? 7168 : 2048, I = v3 ? 2048 : 1408;
  static mc::Gemm gemm;
  const size_t esz = v3 ? 1 : 2;
  Dev<unsigned char> wgu(E * 2 * I * H * esz), wdn(E * H * I * esz);
  Dev<float> sgu(E * (2 * I / 128) * (H / 128)), sdn(E * (H / 128) * ((I + 127) / 128));
  mc::ExpertWeights ew;
  ew.fp8 = v3;
  if (v3) {
    mc::fill_uniform(reinterpret_cast<fp8*>(wgu.p), E * 2 * I * H, 12, 448.f, nullptr);
    mc::fill_uniform(reinterpret_cast<fp8*>(wdn.p), E * H * I, 13, 448.f, nullptr);
    mc::fill_uniform(sgu.p, E * (2 * I / 128) * (H / 128), 14, 1e-4f, nullptr);
    mc::fill_uniform(sdn.p, E * (H / 128) * (I / 128), 15, 1e-4f, nullptr);
  } else {
    mc::fill_uniform(reinterpret_cast<bf16*>(wgu.p), E * 2 * I * H, 12, 0.02f, nullptr);
    mc::fill_uniform(reinterpret_cast<bf16*>(wdn.p), E * H * I, 13, 0.02f, nullptr);
  }
  for (int e = 0; e < E; ++e) {
    ew.gate_up.push_back(wgu.p + e * 2 * I * H * esz);
    ew.down.push_back(wdn.p + e * H * I * esz);
    if (v3) {
      ew.gate_up_scales.push_back(sgu.p + e * (2 * I / 128) * (H / 128));
      ew.down_scales.push_back(sdn.p + e * (H / 128) * (I / 128));
    }
  }
  // BF16 experts with device pointer tables: decode-sized batches take the grouped kernels.
  Dev<const void*> dgu(E), ddn(E);
  if (!v3) {
    DSV3_CUDA_CHECK(cudaMemcpy(dgu.p, ew.gate_up.data(), E * sizeof(void*), cudaMemcpyHostToDevice));
    DSV3_CUDA_CHECK(cudaMemcpy(ddn.p, ew.down.data(), E * sizeof(void*), cudaMemcpyHostToDevice));
    ew.d_gate_up = dgu.p;
    ew.d_down = ddn.p;
    ew.gate_up_all = wgu.p;  // experts back to back: prefill-sized batches take the padded batched GEMMs
    ew.down_all = wdn.p;
  }
  static mc::ExpertStreams streams(4);
  mc::MoeExtras extras;
  extras.streams = &streams;
  Dev<bf16> x(T * H), out(T * H);
  Dev<float> logits(T * E), bias(E), w(T * K);
  Dev<int32_t> experts(T * K);
  mc::fill_uniform(x.p, T * H, 16, 1.f, nullptr);
  mc::fill_uniform(logits.p, T * E, 17, 3.f, nullptr);
  mc::fill_uniform(bias.p, E, 18, 0.1f, nullptr);
  mc::RouterParams rp;
  rp.n_experts = E;
  rp.n_group = 8;
  rp.topk_group = 4;
  rp.top_k = K;
  rp.routed_scaling_factor = 2.5f;
  mc::route(rp, logits.p, bias.p, T, experts.p, w.p, nullptr);
  Dev<unsigned char> scratch(mc::moe_scratch_bytes(T, K, E, H, I));
  // Work actually done: 3 GEMMs of 2*H*I per routed token; bytes: the weights of the experts hit.
  const double flops = 2.0 * T * K * 3 * H * I;
  std::vector<int32_t> hit(T * K);
  DSV3_CUDA_CHECK(cudaMemcpy(hit.data(), experts.p, hit.size() * 4, cudaMemcpyDeviceToHost));
  std::sort(hit.begin(), hit.end());
  const double distinct = static_cast<double>(std::unique(hit.begin(), hit.end()) - hit.begin());
  const double bytes = distinct * 3.0 * H * I * esz;
  state.counters["experts_hit"] = distinct;
  measure(state, [&](int) {
    mc::moe_routed_experts(gemm, ew, x.p, experts.p, w.p, T, K, E, H, I, nullptr, nullptr, out.p, scratch.p, nullptr,
                           extras);
  }, 3, flops, bytes);
}

}  // namespace

BENCHMARK(BM_CopyBandwidth)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Gemm)->Apply(GemmArgs)->UseManualTime()->Iterations(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ActQuant)->Args({128, 7168})->Args({4096, 7168})->ArgNames({"M", "K"})->UseManualTime()->Iterations(10);
BENCHMARK(BM_MlaDecode)->Apply(MlaDecodeArgs)->UseManualTime()->Iterations(10)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlaPrefill)->Args({2048, 16})->Args({4096, 16})->Args({4096, 128})->ArgNames({"T", "heads"})
    ->UseManualTime()->Iterations(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MoeRouted)->Args({1, 0})->Args({16, 0})->Args({64, 0})->Args({2048, 0})->Args({128, 1})->Args({4096, 1})
    ->ArgNames({"T", "v3fp8"})->UseManualTime()->Iterations(5)->Unit(benchmark::kMicrosecond);
#endif

BENCHMARK_MAIN();
