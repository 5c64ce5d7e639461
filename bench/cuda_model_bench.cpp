// End-to-end benchmark of the CUDA backend on a checkpoint (the "mid" model of
// scripts/bench_mid_model.py): decode tok/s at batch 1, 16 and 64 after a 128-token prompt for 64
// new tokens (greedy: the argmax on the device, token ids to the host every step; decode steps
// replayed as CUDA graphs after a warm-up pass), prefill tok/s for 2048 tokens, and the HBM
// roofline of each decode step (bytes the step must read / device-to-device copy bandwidth measured
// here). Set DSV3_BENCH_MODEL=DIR; without it (or without a GPU) nothing is registered.
// DSV3_BENCH_AB compares settings of the backend's switches in one process (ab_compare below).
#include <benchmark/benchmark.h>

#if DSV3_HAVE_CUDA
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "model/cuda/event_timing.hpp"
#include "model/backend.hpp"
#include "model/cuda/cuda_check.hpp"

using namespace dsv3::model;

namespace {

std::shared_ptr<const Model> g_model;
std::unique_ptr<Backend> g_backend;
double g_copy_gbps = 0;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double copy_bandwidth() {
  const size_t bytes = size_t{2} << 30;
  void *a, *b;
  DSV3_CUDA_CHECK(cudaMalloc(&a, bytes));
  DSV3_CUDA_CHECK(cudaMalloc(&b, bytes));
  DSV3_CUDA_CHECK(cudaMemset(a, 1, bytes));
  DSV3_CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
  const double ms = dsv3::model::cuda::time_ms([&](int) { DSV3_CUDA_CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice)); }, 5);
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (ms * 1e-3) / 1e9;
}

// Bytes one decode step of B sequences at context `ctx` must read: every weight but the embedding
// table and the routed experts, the routed experts a batch is expected to hit (E(1 - (1 - k/E)^B)
// per MoE layer, uniform routing), the latent KV cache, and one embedding row per sequence.
double step_bytes(const Model& m, int B, double ctx) {
  const auto& c = m.config;
  const auto& w = m.weights;
  double dense = static_cast<double>(w.lm_head.bytes()) + B * w.embed.in * 2.0;
  double expert = 0;
  int moe_layers = 0;
  for (const auto& l : w.layers) {
    const auto& a = l.attn;
    for (const Linear* p : {&a.q_a, &a.q_b, &a.q, &a.kv_a, &a.kv_b, &a.o}) dense += p->empty() ? 0 : p->bytes();
    if (!l.is_moe) {
      dense += l.dense.gate.bytes() + l.dense.up.bytes() + l.dense.down.bytes();
    } else {
      ++moe_layers;
      dense += l.moe.router.bytes();
      if (!l.moe.shared.gate.empty()) dense += l.moe.shared.gate.bytes() + l.moe.shared.up.bytes() + l.moe.shared.down.bytes();
      const auto& e = l.moe.experts[0];
      expert = static_cast<double>(e.gate.bytes() + e.up.bytes() + e.down.bytes());
    }
  }
  const double E = static_cast<double>(c.n_routed_experts), k = static_cast<double>(c.num_experts_per_tok);
  const double hit = E * (1 - std::pow(1 - k / E, B));
  const double kv = B * ctx * c.kv_cache_dim() * 2.0 * c.num_hidden_layers;
  return dense + moe_layers * hit * expert + kv;
}

std::vector<int32_t> random_ids(int n, std::mt19937& rng, int64_t V) {
  std::vector<int32_t> v(n);
  for (auto& x : v) x = static_cast<int32_t>(2 + rng() % (V - 2));
  return v;
}

void BM_Decode(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0)), prompt = 128, steps = 64;
  const int64_t V = g_model->config.vocab_size;
  std::mt19937 rng(42);
  // One pass: prefill (not timed), then `steps` greedy decode steps (argmax on the device).
  auto pass = [&] {
    g_backend->reset(B, prompt + steps + 8);
    std::vector<SeqInput> in;
    for (int b = 0; b < B; ++b) in.push_back({b, random_ids(prompt, rng, V)});
    auto out = g_backend->forward(in, {.greedy_only = true});
    const double t0 = now();
    for (int s = 0; s < steps; ++s) {
      for (int b = 0; b < B; ++b) in[b].tokens = {out[b].argmax[0]};
      out = g_backend->forward(in, {.greedy_only = true});
    }
    return now() - t0;
  };
  pass();  // warm-up: plans, autotuning and the decode graphs of these shapes
  double seconds = 0;
  for (auto _ : state) {
    seconds = pass();
    state.SetIterationTime(seconds);
  }
  const double tok_s = B * steps / seconds;
  const double roof = B / (step_bytes(*g_model, B, prompt + steps / 2.0) / (g_copy_gbps * 1e9));
  state.counters["tok_s"] = tok_s;
  state.counters["ms_per_step"] = seconds / steps * 1e3;
  state.counters["roofline_tok_s"] = roof;
  state.counters["pct_roofline"] = 100.0 * tok_s / roof;
  state.counters["GB_per_step"] = step_bytes(*g_model, B, prompt + steps / 2.0) / 1e9;
  state.counters["copy_GBps"] = g_copy_gbps;
}

void BM_Prefill(benchmark::State& state) {
  const int T = static_cast<int>(state.range(0));
  std::mt19937 rng(43);
  const auto ids = random_ids(T, rng, g_model->config.vocab_size);
  g_backend->reset(1, T + 8);
  g_backend->forward({{0, ids}}, {});  // warm-up (plans, autotuning)
  std::vector<double> times;
  for (auto _ : state) {
    g_backend->reset(1, T + 8);
    const double t0 = now();
    g_backend->forward({{0, ids}}, {});
    times.push_back(now() - t0);
    state.SetIterationTime(times.back());
  }
  std::sort(times.begin(), times.end());
  state.counters["tok_s"] = T / times[times.size() / 2];  // the median, as the HF baseline
}

bool setup() {
  const char* dir = std::getenv("DSV3_BENCH_MODEL");
  if (!dir) return false;
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) return false;
  const double t0 = now();
  g_model = Model::load(dir, false);
  g_backend = make_backend("cuda", g_model);
  std::fprintf(stderr, "loaded %s onto the GPU in %.1f s\n", dir, now() - t0);
  g_copy_gbps = copy_bandwidth();
  // Warm-up: plans and autotuning for the decode shapes.
  for (int B : {1, 16, 64}) {
    g_backend->reset(B, 256);
    std::vector<SeqInput> in;
    for (int b = 0; b < B; ++b) in.push_back({b, {5, 6, 7}});
    g_backend->forward(in, {});
    for (auto& s : in) s.tokens = {8};
    g_backend->forward(in, {});
  }
  return true;
}

// DSV3_BENCH_PROFILE=B: one decode step of batch B after a 128-token prompt, between
// cudaProfilerStart/Stop, for `ncu --profile-from-start off` (run with DSV3_CUDA_GRAPHS=0 so that
// the step's kernels launch one by one), or with bench/cuda/kernel_trace.cpp preloaded (graphs on:
// the step's kernels as they overlap). DSV3_BENCH_PROFILE=pT: one prefill of T tokens instead.
void profile_prefill(int T) {
  std::mt19937 rng(43);
  const auto ids = random_ids(T, rng, g_model->config.vocab_size);
  g_backend->reset(1, T + 8);
  g_backend->forward({{0, ids}}, {.greedy_only = true});  // warm (plans, autotuning)
  g_backend->reset(1, T + 8);
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  DSV3_CUDA_CHECK(cudaProfilerStart());
  g_backend->forward({{0, ids}}, {.greedy_only = true});
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  DSV3_CUDA_CHECK(cudaProfilerStop());
}

void profile_one_step(int B) {
  std::mt19937 rng(42);
  g_backend->reset(B, 256);
  std::vector<SeqInput> in;
  for (int b = 0; b < B; ++b) in.push_back({b, random_ids(128, rng, g_model->config.vocab_size)});
  auto out = g_backend->forward(in, {.greedy_only = true});
  for (int b = 0; b < B; ++b) in[b].tokens = {out[b].argmax[0]};
  out = g_backend->forward(in, {.greedy_only = true});  // warm (plans)
  for (int b = 0; b < B; ++b) in[b].tokens = {out[b].argmax[0]};
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  DSV3_CUDA_CHECK(cudaProfilerStart());
  g_backend->forward(in, {.greedy_only = true});
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  DSV3_CUDA_CHECK(cudaProfilerStop());
}

}  // namespace

// Set-up in main, after static initialisation (the loader's tables are statics of their own).
// DSV3_BENCH_AB="A=1 B=0;A=0;..." compares environment settings of the backend's diagnostic
// switches (the DSV3_CUDA_* read per forward) in one process, on one loaded model: for each
// ';'-separated configuration (space-separated NAME=VALUE), the variables of the previous one are
// unset and these set, the decode graphs re-captured, and decode at batch DSV3_BENCH_AB_BATCH
// (default 1) timed as BM_Decode does (best of three passes after a warm-up).
void ab_compare(const std::string& all) {
  const int B = std::getenv("DSV3_BENCH_AB_BATCH") ? std::atoi(std::getenv("DSV3_BENCH_AB_BATCH")) : 1;
  const int prompt = 128, steps = 64;
  std::mt19937 rng(42);
  std::vector<std::string> set;
  size_t pos = 0;
  for (int i = 0; pos <= all.size(); ++i) {
    size_t e = all.find(';', pos);
    if (e == std::string::npos) e = all.size();
    const std::string cfg = all.substr(pos, e - pos);
    pos = e + 1;
    for (const auto& v : set) unsetenv(v.c_str());
    set.clear();
    for (size_t q = 0; q < cfg.size();) {
      size_t sp = cfg.find(' ', q);
      if (sp == std::string::npos) sp = cfg.size();
      const std::string tok = cfg.substr(q, sp - q);
      q = sp + 1;
      if (const auto eq = tok.find('='); eq != std::string::npos) {
        set.push_back(tok.substr(0, eq));
        setenv(set.back().c_str(), tok.substr(eq + 1).c_str(), 1);
      }
    }
    double best = 1e30;
    for (int rep = 0; rep < 4; ++rep) {
      // A cache of another length each configuration: the graphs are dropped and re-captured.
      g_backend->reset(B, prompt + steps + 8 + (i % 2) * 64);
      std::vector<SeqInput> in;
      for (int b = 0; b < B; ++b) in.push_back({b, random_ids(prompt, rng, g_model->config.vocab_size)});
      auto out = g_backend->forward(in, {.greedy_only = true});
      const double t0 = now();
      for (int s = 0; s < steps; ++s) {
        for (int b = 0; b < B; ++b) in[b].tokens = {out[b].argmax[0]};
        out = g_backend->forward(in, {.greedy_only = true});
      }
      if (rep > 0) best = std::min(best, now() - t0);  // the first pass captures the graphs
    }
    std::printf("ab %-40s batch %d %8.1f us/step %8.1f tok/s\n", cfg.empty() ? "(defaults)" : cfg.c_str(), B,
                best / steps * 1e6, B * steps / best);
    std::fflush(stdout);
  }
}

int main(int argc, char** argv) {
  if (setup()) {
    if (const char* c = std::getenv("DSV3_BENCH_AB")) {
      ab_compare(c);
      return 0;
    }
    if (const char* p = std::getenv("DSV3_BENCH_PROFILE")) {
      if (p[0] == 'p')
        profile_prefill(std::atoi(p + 1));
      else
        profile_one_step(std::atoi(p));
      return 0;
    }
    benchmark::RegisterBenchmark("BM_Decode", BM_Decode)->Arg(1)->Arg(16)->Arg(64)->ArgName("batch")->UseManualTime()
        ->Iterations(2)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark("BM_Prefill", BM_Prefill)->Arg(2048)->ArgName("tokens")->UseManualTime()
        ->Iterations(5)->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
#else
BENCHMARK_MAIN();
#endif
