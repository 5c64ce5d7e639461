// Evaluation benchmarks: math-checker answers per second, GSM8K extraction, and the wall
// time of all 164 HumanEval canonical solutions in the sandbox with 2 workers.
//   build/bench/eval_bench                      (all)
//   build/bench/eval_bench --benchmark_filter=Sandbox
#include <benchmark/benchmark.h>

#include <filesystem>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/math_problems.hpp"
#include "eval/gsm8k_answer.hpp"
#include "eval/humaneval_exec.hpp"
#include "eval/math_answer.hpp"

namespace fs = std::filesystem;
using namespace dsv3;

namespace {

fs::path benchmarks() { return fs::path(DSV3_SHARED_DIR) / "data" / "benchmarks"; }

// (gold, predicted) pairs: MATH-500's `answer` against the boxed answer of its solution.
const std::vector<std::pair<std::string, std::string>>& math500_pairs() {
  static const auto pairs = [] {
    std::vector<std::pair<std::string, std::string>> v;
    if (!fs::exists(benchmarks() / "math")) return v;
    for (auto& p : datasets::load_math(benchmarks(), "math500"))
      if (auto b = eval::last_boxed(p.solution)) v.emplace_back(*p.answer, *b);
    return v;
  }();
  return pairs;
}

// Pairs that need the expression parser and the structure checker (no string shortcut).
const std::vector<std::pair<std::string, std::string>> kParsedPairs = {
    {"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt3"}, {"x^2+2x+1", "(x+1)^2"}, {"[2,5)", "x \\in [2, 5)"},
    {"(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,0)"}, {"y = 2x + 3", "2x - y + 3 = 0"},
    {"\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}"},
    {"2\\sqrt{3}", "\\sqrt{12}"}, {"1, -2", "-2,1"}, {"\\frac{1}{2004!}", "\\frac{1}{2006!}"}, {"3+4i", "4i+3"}};

void BM_MathCheck_Math500(benchmark::State& state) {
  const auto& pairs = math500_pairs();
  if (pairs.empty()) {
    state.SkipWithError("MATH-500 not present in ../shared/data/benchmarks");
    return;
  }
  std::size_t i = 0, n = 0;
  for (auto _ : state) {
    auto& [g, p] = pairs[i++ % pairs.size()];
    benchmark::DoNotOptimize(eval::math_equivalent(g, p));
    ++n;
  }
  state.SetItemsProcessed(std::int64_t(n));
}
BENCHMARK(BM_MathCheck_Math500)->Threads(1)->Threads(2)->UseRealTime();

void BM_MathCheck_Parsed(benchmark::State& state) {
  std::size_t i = 0, n = 0;
  for (auto _ : state) {
    auto& [g, p] = kParsedPairs[i++ % kParsedPairs.size()];
    benchmark::DoNotOptimize(eval::math_equivalent(g, p));
    ++n;
  }
  state.SetItemsProcessed(std::int64_t(n));
}
BENCHMARK(BM_MathCheck_Parsed)->Threads(1)->Threads(2)->UseRealTime();

void BM_Gsm8kExtract(benchmark::State& state) {
  static const auto items = fs::exists(benchmarks() / "gsm8k") ? datasets::load_gsm8k(benchmarks(), "test")
                                                                 : std::vector<datasets::Gsm8kItem>{};
  if (items.empty()) {
    state.SkipWithError("GSM8K not present");
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(eval::gsm8k_extract(items[i++ % items.size()].answer));
  state.SetItemsProcessed(std::int64_t(state.iterations()));
}
BENCHMARK(BM_Gsm8kExtract);

// One iteration = all 164 canonical solutions, 2 sandboxes in parallel.
void BM_Sandbox_HumanEvalCanonical(benchmark::State& state) {
  if (!fs::exists(benchmarks() / "humaneval")) {
    state.SkipWithError("HumanEval not present");
    return;
  }
  auto problems = datasets::load_humaneval(benchmarks());
  std::vector<eval::CodeJob> jobs;
  for (auto& p : problems) jobs.push_back({&p, eval::humaneval_program(p, p.canonical_solution)});
  eval::Sandbox sb(eval::SandboxConfig{});
  int passed = 0;
  for (auto _ : state) {
    auto res = eval::run_humaneval_jobs(sb, jobs, int(state.range(0)));
    passed = 0;
    for (auto& r : res) passed += r.status == "passed";
  }
  state.counters["passed"] = passed;
  state.counters["programs"] = double(jobs.size());
  state.counters["cgroups"] = sb.cgroups_available() ? 1 : 0;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(jobs.size()));
}
BENCHMARK(BM_Sandbox_HumanEvalCanonical)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
