// A self-contained tokenizer tool for machines without this project's libraries (the GPU
// machine, where HF tokenizers runs): built fully static by build_device_tool.sh.
//
//   device_tool encode TOKENIZER_JSON < texts.jsonl > ids.jsonl    (JSON string -> ids)
//   device_tool bench TOKENIZER_JSON CORPUS PASSES THREADS...     (encode MB/s)
//
// bench: the corpus's lines are the documents. threads=0 means one thread encoding
// document by document with Tokenizer::encode_into (no pool); N >= 1 means
// Tokenizer::encode_batch on N threads. One untimed warm-up pass, then PASSES timed
// passes; prints one JSON line per setting with the best and median MB/s.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model/tokenizer.hpp"

using dsv3::model::Tokenizer;

static std::string read_all(const char* p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot open ") + p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: device_tool encode TOKENIZER_JSON | bench TOKENIZER_JSON CORPUS PASSES THREADS...\n");
    return 2;
  }
  std::string mode = argv[1];
  auto t0 = std::chrono::steady_clock::now();
  Tokenizer tok = Tokenizer::load(argv[2]);
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (mode == "encode") {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      auto ids = tok.encode(nlohmann::json::parse(line).get<std::string>());
      std::string out = "[";
      for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
      std::cout << out << "]\n";
    }
    return 0;
  }
  if (mode != "bench" || argc < 6) throw std::runtime_error("bad arguments");
  const std::string corpus = read_all(argv[3]);
  const int passes = std::atoi(argv[4]);
  std::vector<std::string_view> docs;
  for (size_t s = 0; s < corpus.size();) {
    size_t e = corpus.find('\n', s);
    e = e == std::string::npos ? corpus.size() : e + 1;
    docs.emplace_back(corpus.data() + s, e - s);
    s = e;
  }
  std::fprintf(stdout, "{\"load_s\": %.3f, \"corpus_bytes\": %zu, \"docs\": %zu}\n", load_s, corpus.size(), docs.size());
  for (int a = 5; a < argc; ++a) {
    const unsigned threads = static_cast<unsigned>(std::atoi(argv[a]));
    std::vector<double> times;
    size_t tokens = 0;
    for (int p = 0; p <= passes; ++p) {
      auto start = std::chrono::steady_clock::now();
      tokens = 0;
      if (threads == 0) {
        std::vector<int32_t> ids;
        for (auto d : docs) {
          ids.clear();
          tok.encode_into(d, ids);
          tokens += ids.size();
        }
      } else {
        auto all = tok.encode_batch(docs, false, threads);
        for (auto& v : all) tokens += v.size();
      }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (p > 0) times.push_back(s);
    }
    std::sort(times.begin(), times.end());
    double mb = static_cast<double>(corpus.size()) / 1e6;
    std::fprintf(stdout,
                 "{\"impl\": \"dsv3\", \"mode\": \"%s\", \"threads\": %u, \"tokens\": %zu, \"best_mb_s\": %.2f, "
                 "\"median_mb_s\": %.2f, \"passes\": %d}\n",
                 threads == 0 ? "sequential" : "encode_batch", threads == 0 ? 1 : threads, tokens, mb / times.front(),
                 mb / times[times.size() / 2], passes);
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "device_tool: %s\n", e.what());
  return 1;
}
