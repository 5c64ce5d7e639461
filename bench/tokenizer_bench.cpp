// Tokenizer throughput: encode MB/s on a ~16 MiB mixed corpus (the benchmark files in
// ../shared/data/benchmarks: GSM8K, MATH, MMLU as they are on disk: English, LaTeX, JSON
// escapes, numbers, code), one thread and many; plus load and decode.
//
//   build/bench/tokenizer_bench                      (corpus from ../shared/data/benchmarks)
//   DSV3_TOKENIZER_CORPUS=corpus.txt build/bench/tokenizer_bench
//
// scripts/tokenizer/corpus.py writes the same corpus to a file (the HF comparison,
// scripts/tokenizer/hf_bench.py, reads that file). Documents are the corpus's lines.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "model/data_dir.hpp"
#include "model/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every non-gz file under the benchmarks folder, sorted by path, concatenated, cut to
// 16 MiB at a line end (scripts/tokenizer/corpus.py builds the same bytes).
std::string build_corpus() {
  if (const char* f = std::getenv("DSV3_TOKENIZER_CORPUS"); f && *f) return read_all(f);
  fs::path dir = fs::path(DSV3_SHARED_DIR) / "data" / "benchmarks";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() != ".gz") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string all;
  for (const auto& f : files) {
    all += read_all(f);
    if (!all.empty() && all.back() != '\n') all += '\n';
  }
  const size_t limit = 16u << 20;
  if (all.size() > limit) {
    size_t cut = all.rfind('\n', limit);
    all.resize(cut + 1);
  }
  return all;
}

struct Corpus {
  std::string text;
  std::vector<std::string_view> docs;
  Corpus() : text(build_corpus()) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      docs.emplace_back(text.data() + start, end - start + (end < text.size() ? 1 : 0));
      start = end + 1;
    }
  }
};

const Corpus& corpus() {
  static const Corpus c;
  return c;
}

const dsv3::model::Tokenizer& tok() {
  static const dsv3::model::Tokenizer t = dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path());
  return t;
}

void BM_Load(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path()));
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(3);

// One thread, document by document (the per-word cache is warm after the first pass,
// as HF's is).
void BM_EncodeOneThread(benchmark::State& state) {
  const auto& c = corpus();
  size_t tokens = 0;
  std::vector<int32_t> ids;
  for (auto _ : state) {
    tokens = 0;
    for (auto d : c.docs) {
      ids.clear();
      tok().encode_into(d, ids);
      tokens += ids.size();
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.text.size()));
  state.counters["MB"] = static_cast<double>(c.text.size()) / 1e6;
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeOneThread)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// encode_batch over all documents on N threads.
void BM_EncodeBatch(benchmark::State& state) {
  const auto& c = corpus();
  const unsigned threads = static_cast<unsigned>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(tok().encode_batch(c.docs, false, threads));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.text.size()));
  state.counters["threads"] = threads;
}
BENCHMARK(BM_EncodeBatch)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->UseRealTime()
    ->Apply([](benchmark::internal::Benchmark* b) {
      unsigned hw = std::max(1u, std::thread::hardware_concurrency());
      for (unsigned t = 1; t < hw; t *= 2) b->Arg(t);
      b->Arg(hw);
    });

void BM_Decode(benchmark::State& state) {
  const auto& c = corpus();
  std::string_view sample(c.text.data(), std::min<size_t>(c.text.size(), 1u << 20));
  auto ids = tok().encode(sample);
  for (auto _ : state) benchmark::DoNotOptimize(tok().decode(ids));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sample.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
