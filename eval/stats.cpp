#include "eval/stats.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace dsv3::eval {

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  long double s = 0;
  for (double x : v) s += x;
  return double(s / static_cast<long double>(v.size()));
}

double stderr_of_mean(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = mean(v);
  long double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  double var = double(ss / static_cast<long double>(v.size() - 1));
  return std::sqrt(var / double(v.size()));
}

Interval normal_ci95(double m, double se) { return {m - 1.959963984540054 * se, m + 1.959963984540054 * se}; }

Interval wilson_ci95(std::int64_t k, std::int64_t n) {
  if (n <= 0) return {0, 1};
  const double z = 1.959963984540054;
  double p = double(k) / double(n), nn = double(n);
  double denom = 1 + z * z / nn;
  double centre = (p + z * z / (2 * nn)) / denom;
  double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

double pass_at_k(std::int64_t n, std::int64_t c, std::int64_t k) {
  if (n < 1 || c < 0 || c > n || k < 1 || k > n)
    throw std::invalid_argument("pass@k needs 0 <= c <= n and 1 <= k <= n (n=" + std::to_string(n) +
                                ", c=" + std::to_string(c) + ", k=" + std::to_string(k) + ")");
  if (n - c < k) return 1.0;
  // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
  long double prod = 1;
  for (std::int64_t i = n - c + 1; i <= n; ++i) prod *= 1.0L - static_cast<long double>(k) / static_cast<long double>(i);
  return double(1.0L - prod);
}

}  // namespace dsv3::eval
