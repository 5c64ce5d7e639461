#include "reports/score_stats.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace dsv3::reports {

namespace {
constexpr double kZ95 = 1.959963984540054;
}

Estimate proportion(int64_t k, int64_t n) {
  Estimate e;
  e.n = n;
  if (n <= 0) return e;
  double p = static_cast<double>(k) / static_cast<double>(n);
  double nn = static_cast<double>(n);
  e.value = p;
  e.stderr_ = std::sqrt(p * (1 - p) / nn);
  double z2 = kZ95 * kZ95;
  double denom = 1 + z2 / nn;
  double centre = (p + z2 / (2 * nn)) / denom;
  double half = kZ95 * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  e.ci_low = std::max(0.0, centre - half);
  e.ci_high = std::min(1.0, centre + half);
  return e;
}

Estimate mean_estimate(const std::vector<double>& v) {
  Estimate e;
  e.n = static_cast<int64_t>(v.size());
  if (v.empty()) return e;
  double s = 0;
  for (double x : v) s += x;
  double m = s / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  double sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  e.value = m;
  e.stderr_ = sd / std::sqrt(static_cast<double>(v.size()));
  e.ci_low = std::max(0.0, m - kZ95 * e.stderr_);
  e.ci_high = std::min(1.0, m + kZ95 * e.stderr_);
  return e;
}

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (k <= 0 || n < k || c < 0 || c > n) throw std::invalid_argument("pass_at_k: need 0 < k <= n and 0 <= c <= n");
  if (n - c < k) return 1.0;
  double prod = 1.0;
  for (int64_t i = n - c + 1; i <= n; ++i) prod *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - prod;
}

double mcnemar_exact_p(int64_t b, int64_t c) {
  int64_t n = b + c;
  if (n == 0) return 1.0;
  int64_t m = std::min(b, c);
  // P(X <= m) for X ~ Bin(n, 1/2), summed in log space.
  double tail = 0;
  for (int64_t i = 0; i <= m; ++i) {
    double lg = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0);
    tail += std::exp(lg);
  }
  return std::min(1.0, 2 * tail);
}

PairedBootstrap paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int iterations,
                                 uint64_t seed) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_bootstrap: a and b differ in length");
  PairedBootstrap r;
  r.iterations = iterations;
  r.seed = seed;
  const size_t n = a.size();
  if (n == 0) {
    r.p_value = 1;
    return r;
  }
  std::vector<double> d(n);
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (d[i] = a[i] - b[i]);
  r.diff = s / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<double> stats(static_cast<size_t>(iterations));
  int64_t le = 0, ge = 0;
  for (int it = 0; it < iterations; ++it) {
    double t = 0;
    for (size_t j = 0; j < n; ++j) t += d[pick(rng)];
    t /= static_cast<double>(n);
    stats[static_cast<size_t>(it)] = t;
    if (t <= 0) ++le;
    if (t >= 0) ++ge;
  }
  std::sort(stats.begin(), stats.end());
  auto q = [&](double p) {
    double pos = p * (iterations - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, stats.size() - 1);
    return stats[lo] + (pos - lo) * (stats[hi] - stats[lo]);
  };
  r.ci_low = q(0.025);
  r.ci_high = q(0.975);
  r.p_value = std::min(1.0, 2.0 * static_cast<double>(std::min(le, ge)) / iterations);
  return r;
}

}  // namespace dsv3::reports
