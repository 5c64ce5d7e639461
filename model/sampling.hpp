#pragma once
// Next-token choice from a row of logits: greedy at temperature 0, else softmax(logits / T)
// restricted to the top_k most likely tokens and the smallest set whose probability reaches
// top_p, then an exact draw from a seeded generator.
#include <cstdint>
#include <random>
#include <vector>

namespace dsv3::model {

struct SamplingOptions {
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;        // (0, 1]
  int top_k = 0;             // 0: no limit
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& o, uint64_t stream = 0);
  int32_t sample(const float* logits, int64_t vocab);

 private:
  SamplingOptions o_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> buf_;
};

int32_t argmax(const float* logits, int64_t vocab);
// log softmax(logits)[token], in double.
double log_prob(const float* logits, int64_t vocab, int32_t token);

}  // namespace dsv3::model
