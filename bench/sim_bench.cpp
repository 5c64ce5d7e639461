// Simulator speed: the bundled scenario, and a 1000-point sweep (the CLI's sweep loop).
// Run: build/bench/sim_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include "model/errors.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulate.hpp"

using namespace dsv3::sim;

// Load the scenario file and simulate it (config, hardware and calibration files are cached
// after the first call, as they are across the points of a sweep).
static void BM_DefaultScenario(benchmark::State& state) {
  for (auto _ : state) {
    Scenario s = load_scenario(default_scenario_path());
    SimResult r = simulate(s);
    benchmark::DoNotOptimize(r.total_gpu_hours);
  }
}
BENCHMARK(BM_DefaultScenario)->Unit(benchmark::kMillisecond);

// The same plus the table output the CLI prints.
static void BM_DefaultScenarioWithTable(benchmark::State& state) {
  for (auto _ : state) {
    Scenario s = load_scenario(default_scenario_path());
    std::string t = to_table(simulate(s));
    benchmark::DoNotOptimize(t.data());
  }
}
BENCHMARK(BM_DefaultScenarioWithTable)->Unit(benchmark::kMillisecond);

// 1000 points: PP x EP x GPUs x precision x communication SMs (4 x 5 x 5 x 2 x 5), memory
// check off so that every point is timed; points that are impossible plans fail fast.
static void BM_Sweep1000(benchmark::State& state) {
  const std::vector<std::string> pp = {"4", "8", "16", "32"}, ep = {"8", "16", "32", "64", "128"},
                                 gpus = {"512", "1024", "2048", "4096", "8192"}, prec = {"fp8", "bf16"},
                                 sms = {"8", "12", "16", "20", "24"};
  Scenario base = load_scenario(default_scenario_path());
  apply_set(base, "memory.check=false");
  int64_t ok = 0, failed = 0;
  for (auto _ : state) {
    ok = failed = 0;
    for (auto& a : pp)
      for (auto& b : ep)
        for (auto& c : gpus)
          for (auto& d : prec)
            for (auto& e : sms) {
              Scenario s = base;
              set_key(s, "parallel.pp", a, "bench");
              set_key(s, "parallel.ep", b, "bench");
              set_key(s, "hardware.gpus", c, "bench");
              set_key(s, "precision", d, "bench");
              set_key(s, "parallel.comm_sms", e, "bench");
              try {
                SimResult r = simulate(s);
                benchmark::DoNotOptimize(r.total_gpu_hours);
                ++ok;
              } catch (const dsv3::InputError&) {
                ++failed;
              }
            }
  }
  state.counters["points_ok"] = static_cast<double>(ok);
  state.counters["points_invalid"] = static_cast<double>(failed);
}
BENCHMARK(BM_Sweep1000)->Unit(benchmark::kSecond)->Iterations(1);

BENCHMARK_MAIN();
