#include "model/sampling.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "model/errors.hpp"

namespace dsv3::model {

int32_t argmax(const float* logits, int64_t vocab) {
  return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
}

double log_prob(const float* logits, int64_t vocab, int32_t token) {
  const float mx = *std::max_element(logits, logits + vocab);
  double z = 0;
  for (int64_t i = 0; i < vocab; ++i) z += std::exp(static_cast<double>(logits[i]) - mx);
  return static_cast<double>(logits[token]) - mx - std::log(z);
}

Sampler::Sampler(const SamplingOptions& o, uint64_t stream) : o_(o), rng_(o.seed * 0x9E3779B97F4A7C15ull + stream) {
  if (o.temperature < 0) throw InputError(fmt::format("temperature must be >= 0, got {}", o.temperature));
  if (!(o.top_p > 0 && o.top_p <= 1)) throw InputError(fmt::format("top-p must be in (0, 1], got {}", o.top_p));
  if (o.top_k < 0) throw InputError(fmt::format("top-k must be >= 0, got {}", o.top_k));
}

int32_t Sampler::sample(const float* logits, int64_t vocab) {
  if (o_.temperature == 0.0) return argmax(logits, vocab);
  buf_.resize(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) buf_[i] = {logits[i], static_cast<int32_t>(i)};
  int64_t keep = vocab;
  if (o_.top_k > 0 && o_.top_k < vocab) keep = o_.top_k;
  std::partial_sort(buf_.begin(), buf_.begin() + keep, buf_.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  const double mx = buf_[0].first;
  std::vector<double> p(static_cast<size_t>(keep));
  double z = 0;
  for (int64_t i = 0; i < keep; ++i) z += (p[i] = std::exp((buf_[i].first - mx) / o_.temperature));
  // top-p: the smallest prefix (most likely first) whose mass reaches top_p.
  double acc = 0;
  int64_t n = keep;
  for (int64_t i = 0; i < keep; ++i) {
    acc += p[i] / z;
    if (acc >= o_.top_p) {
      n = i + 1;
      break;
    }
  }
  double zz = 0;
  for (int64_t i = 0; i < n; ++i) zz += p[i];
  double u = std::uniform_real_distribution<double>(0.0, zz)(rng_);
  for (int64_t i = 0; i < n; ++i) {
    u -= p[i];
    if (u < 0) return buf_[i].second;
  }
  return buf_[n - 1].second;
}

}  // namespace dsv3::model
