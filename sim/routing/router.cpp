#include "sim/routing/router.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "sim/routing/popularity.hpp"

namespace dsv3::sim::routing {

namespace {

// ln(x) for x in (0, 1], about 1e-7 absolute: x = m * 2^k with m in [sqrt(1/2), sqrt(2)),
// ln m = 2 atanh(z), z = (m - 1) / (m + 1), by its odd series. Branch-free; vectorises.
inline float fast_logf(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  // Offset so that the mantissa lands in [sqrt(1/2), sqrt(2)).
  const uint32_t shifted = bits - 0x3f3504f3u;
  const int32_t k = static_cast<int32_t>(shifted) >> 23;
  const float m = std::bit_cast<float>((shifted & 0x007fffffu) + 0x3f3504f3u);
  const float z = (m - 1.0f) / (m + 1.0f), z2 = z * z;
  const float series = z * (2.0f + z2 * (2.0f / 3 + z2 * (2.0f / 5 + z2 * (2.0f / 7 + z2 * (2.0f / 9)))));
  return static_cast<float>(k) * 0.693147180559945f + series;
}

// 32-bit hash of (stream, index) → uniform in (0, 1). Integer-only, so the loop vectorises.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

}  // namespace

std::vector<float> logit_offsets(const std::vector<double>& popularity, int top_k) {
  const double E = static_cast<double>(popularity.size());
  std::vector<float> off(popularity.size());
  for (size_t e = 0; e < popularity.size(); ++e)
    off[e] = static_cast<float>(std::log(std::max(popularity[e], 1e-30) * E) - std::log(E / top_k));
  return off;
}

void draw_logits(const std::vector<float>& log_offset, uint64_t stream, int64_t first_token, int64_t n_tokens,
                 float* out) {
  const int E = static_cast<int>(log_offset.size());
  const uint32_t s_lo = static_cast<uint32_t>(mix64(stream)), s_hi = static_cast<uint32_t>(mix64(stream) >> 32);
  const float* off = log_offset.data();
  for (int64_t t = 0; t < n_tokens; ++t) {
    const uint64_t tok = static_cast<uint64_t>(first_token + t);
    const uint32_t row = hash32(s_lo ^ hash32(static_cast<uint32_t>(tok) ^ s_hi) ^ static_cast<uint32_t>(tok >> 32));
    float* o = out + t * E;
    for (int e = 0; e < E; ++e) {
      const uint32_t h = hash32(row + 0x9e3779b9u * static_cast<uint32_t>(e + 1));
      const float u = (static_cast<float>(h >> 8) + 0.5f) * (1.0f / 16777216.0f);  // (0, 1)
      // Gumbel: -ln(-ln u).
      o[e] = off[e] - fast_logf(-fast_logf(u));
    }
  }
}

void route_tokens(const model::GateParams& gate, const std::vector<double>& popularity, const std::vector<float>& bias,
                  uint64_t stream, int64_t n_tokens, std::vector<int32_t>& experts) {
  const int E = gate.n_experts, k = gate.top_k;
  const std::vector<float> off = logit_offsets(popularity, k);
  experts.resize(static_cast<size_t>(n_tokens) * k);
  constexpr int64_t kChunk = 1024;
  std::vector<float> logits(kChunk * E), weights(kChunk * k);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += kChunk) {
    const int64_t n = std::min(kChunk, n_tokens - t0);
    draw_logits(off, stream, t0, n, logits.data());
    model::route_tokens(gate, logits.data(), bias.empty() ? nullptr : bias.data(), n, experts.data() + t0 * k,
                        weights.data());
  }
}

std::vector<int64_t> expert_counts(const int32_t* experts, int64_t n, int n_experts) {
  std::vector<int64_t> c(n_experts, 0);
  for (int64_t i = 0; i < n; ++i) ++c[experts[i]];
  return c;
}

double max_vio(const std::vector<int64_t>& counts) {
  std::vector<double> d(counts.begin(), counts.end());
  return max_vio(d);
}

double max_vio(const std::vector<double>& loads) {
  if (loads.empty()) return 0;
  const double sum = std::accumulate(loads.begin(), loads.end(), 0.0);
  if (sum <= 0) return 0;
  return *std::max_element(loads.begin(), loads.end()) / (sum / static_cast<double>(loads.size())) - 1.0;
}

}  // namespace dsv3::sim::routing
