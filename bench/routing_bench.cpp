// Routing benchmarks: the shared DeepSeek-V3 gate (model/moe_gate) on one core, and the routing
// simulator's per-layer pipeline. Target (issue 4): 1M tokens through a 256-expert, top-8,
// group-limited (8 groups, top-4) gate in under 1 s on one core.
//   build/bench/routing_bench --benchmark_filter=Gate
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "model/moe_gate.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/router.hpp"
#include "sim/routing/traffic.hpp"

namespace {

using dsv3::model::GateParams;

GateParams v3_gate() {
  GateParams p;
  p.n_experts = 256, p.n_group = 8, p.topk_group = 4, p.top_k = 8, p.routed_scaling_factor = 2.5f;
  return p;
}

// 1M tokens per iteration, routed in chunks (the argument: 2048 tokens = 2 MiB of logits, about
// what the routing simulator streams; 16384 = 16 MiB, out of cache) whose logits are drawn once
// (1M x 256 floats would be 1 GiB); every chunk goes through the whole gate, so the work per token
// is the same as for 1M distinct tokens.
constexpr int64_t kTokens = 1 << 20;

void BM_Gate1MTokensFromLogits(benchmark::State& state) {
  const GateParams p = v3_gate();
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0, 1);
  const int64_t kChunk = state.range(0);
  std::vector<float> logits(kChunk * 256), bias(256);
  for (auto& x : logits) x = n(rng);
  for (auto& x : bias) x = 0.01f * n(rng);
  std::vector<int32_t> experts(kChunk * 8);
  std::vector<float> weights(kChunk * 8);
  for (auto _ : state) {
    for (int64_t done = 0; done < kTokens; done += kChunk)
      dsv3::model::route_tokens(p, logits.data(), bias.data(), kChunk, experts.data(), weights.data());
    benchmark::DoNotOptimize(experts.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
  state.counters["tokens"] = static_cast<double>(kTokens);
}
BENCHMARK(BM_Gate1MTokensFromLogits)->Arg(2048)->Arg(16384)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

void BM_Gate1MTokensFromScores(benchmark::State& state) {
  const GateParams p = v3_gate();
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0, 1);
  const int64_t kChunk = state.range(0);
  std::vector<float> scores(kChunk * 256), bias(256);
  for (auto& x : scores) x = u(rng);
  for (auto& x : bias) x = 0.01f * (u(rng) - 0.5f);
  std::vector<int32_t> experts(kChunk * 8);
  std::vector<float> weights(kChunk * 8);
  for (auto _ : state) {
    for (int64_t done = 0; done < kTokens; done += kChunk)
      dsv3::model::route_tokens_from_scores(p, scores.data(), bias.data(), kChunk, experts.data(), weights.data());
    benchmark::DoNotOptimize(experts.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kTokens);
}
BENCHMARK(BM_Gate1MTokensFromScores)->Arg(2048)->Arg(16384)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

// One MoE layer of the simulator at EP64: 4096 tokens per GPU (262144 tokens) drawn from a Zipf
// popularity (Gumbel-top-k logits), routed by the gate, then the two-hop all-to-all traffic.
void BM_RouteAndTrafficOneLayerEP64(benchmark::State& state) {
  namespace routing = dsv3::sim::routing;
  const GateParams p = v3_gate();
  routing::RoutingSpec spec;
  spec.model = routing::PopularityKind::Zipf;
  const routing::PopularityModel pop(spec, 1, 256);
  const auto popularity = pop.at(0);
  const auto pl = routing::Placement::contiguous(256, 64, 8);
  const int64_t T = 64 * 4096;
  std::vector<int32_t> experts;
  uint64_t stream = 0;
  for (auto _ : state) {
    routing::route_tokens(p, popularity, {}, ++stream, T, experts);
    const auto tr = routing::build_traffic(pl, experts.data(), T, 8, 4096, routing::TrafficBytes{},
                                           routing::A2aPath::TwoHop);
    benchmark::DoNotOptimize(tr.dispatch.ib_out.data());
  }
  state.SetItemsProcessed(state.iterations() * T);
}
BENCHMARK(BM_RouteAndTrafficOneLayerEP64)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
