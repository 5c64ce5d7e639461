// Evaluation runner throughput.
//  BM_ReplayOverhead/<task>: the whole runner per sample with the replay backend (prompt
//    rendering, lookup, answer extraction and metric, journal write + HDF5 append + flush,
//    metrics at the end) over the real benchmark files: samples/s = harness overhead.
//  BM_HttpServeThroughput/<concurrency>: `dsv3 serve` with the tiny fixture model (started
//    as a child process, CPU, 1 model thread) and the HTTP backend: 256 short GSM8K-format items,
//    0-shot, 8 new tokens each (greedy).
// Needs ../shared/data/benchmarks; the serve benchmark needs the built dsv3 binary (DSV3_BIN,
// default build/bin/dsv3) and tests/data.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/runner.hpp"
#include "eval/task.hpp"
#include "model/data_dir.hpp"

namespace {

namespace fs = std::filesystem;
using dsv3::eval::RunOptions;

fs::path bench_dir() {
  static fs::path d = [] {
    auto p = fs::temp_directory_path() / fmt::format("dsv3-evalbench-{}", getpid());
    fs::create_directories(p);
    return p;
  }();
  return d;
}

fs::path benchmarks() { return fs::path(DSV3_SHARED_DIR) / "data/benchmarks"; }

// A replay file answering every item with its reference (so every answer goes through extraction).
fs::path replay_file(const std::string& task) {
  fs::path f = bench_dir() / (task + ".jsonl");
  if (fs::exists(f)) return f;
  auto docs = dsv3::eval::build_docs(dsv3::eval::find_task(task), benchmarks());
  std::ofstream out(f);
  for (auto& d : docs)
    out << nlohmann::json{{"id", d.id}, {"response", task == "gsm8k" ? d.gold : "Answer: " + d.gold}}.dump() << "\n";
  return f;
}

void BM_ReplayOverhead(benchmark::State& state, const std::string& task) {
  auto replay = replay_file(task);
  int64_t samples = 0;
  int i = 0;
  for (auto _ : state) {
    RunOptions o;
    o.tasks = {task};
    o.model_spec = "replay:" + replay.string();
    o.data_dir = benchmarks().string();
    o.out = (bench_dir() / fmt::format("{}-{}.h5", task, i++)).string();
    o.backend.concurrency = 1;
    auto r = dsv3::eval::run_evaluation(o);
    samples += r.samples_run;
    state.counters["score"] = r.summary["tasks"][task]["score"].get<double>();
    fs::remove(o.out);
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["samples"] = static_cast<double>(samples) / static_cast<double>(state.iterations());
}
BENCHMARK_CAPTURE(BM_ReplayOverhead, gsm8k, std::string("gsm8k"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_ReplayOverhead, mmlu_gen, std::string("mmlu_gen"))->Unit(benchmark::kMillisecond)->UseRealTime();

struct Serve {
  pid_t pid = -1;
  std::string url;
  Serve() {
    fs::path out = bench_dir() / "serve.out";
    const char* bin_env = std::getenv("DSV3_BIN");
    std::string bin = bin_env ? bin_env : (dsv3::model::source_path("build/bin/dsv3")).string();
    std::string model = dsv3::model::source_path("tests/data/models/tiny-bf16").string();
    std::string tok = dsv3::model::source_path("tests/data/eval/tiny-tokenizer/tokenizer.json").string();
    pid = fork();
    if (pid == 0) {
      if (!std::freopen(out.c_str(), "w", stdout)) _exit(127);
      execl(bin.c_str(), bin.c_str(), "serve", "--model", model.c_str(), "--tokenizer", tok.c_str(), "--port", "0",
            "--threads", "1", "--max-batch", "16", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 3000 && url.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::ifstream in(out);
      std::string s((std::istreambuf_iterator<char>(in)), {});
      auto a = s.find("http://"), e = s.find("/v1\n");
      if (a != std::string::npos && e != std::string::npos) url = s.substr(a, e + 3 - a);
    }
  }
  ~Serve() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

// Short GSM8K-format items whose 0-shot prompts fit the tiny model's 256 positions.
fs::path short_gsm8k() {
  fs::path dir = bench_dir() / "short";
  if (fs::exists(dir / "gsm8k/test.jsonl")) return dir;
  fs::create_directories(dir / "gsm8k");
  std::ofstream out(dir / "gsm8k/test.jsonl");
  for (int i = 0; i < 256; ++i)
    out << nlohmann::json{{"question", fmt::format("Tom has {} apples and eats {}. How many are left?", i + 7, i % 5)},
                          {"answer", fmt::format("#### {}", i + 7 - i % 5)}}
               .dump()
        << "\n";
  return dir;
}

void BM_HttpServeThroughput(benchmark::State& state) {
  static Serve serve;
  if (serve.url.empty()) {
    state.SkipWithError("dsv3 serve did not start (set DSV3_BIN)");
    return;
  }
  int64_t samples = 0, tokens = 0;
  int i = 0;
  for (auto _ : state) {
    RunOptions o;
    o.tasks = {"gsm8k"};
    o.shots = 0;
    o.limit = 256;
    o.max_tokens = 8;
    o.model_spec = serve.url;
    o.data_dir = short_gsm8k().string();
    o.out = (bench_dir() / fmt::format("http-{}.h5", i++)).string();
    o.backend.concurrency = static_cast<int>(state.range(0));
    auto r = dsv3::eval::run_evaluation(o);
    samples += r.samples_run;
    tokens += r.samples_run * 8;
    state.counters["errors"] = r.summary["tasks"]["gsm8k"]["n_errors"].get<double>();
    fs::remove(o.out);
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
  state.counters["max_new_tok/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_HttpServeThroughput)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
