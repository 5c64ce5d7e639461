// The eval-side names for score statistics; the one implementation is reports/score_stats
// (eval depends on reports, not the other way round).
#include "eval/stats.hpp"

#include "reports/score_stats.hpp"

namespace dsv3::eval {

double mean(const std::vector<double>& v) { return reports::mean_estimate(v).value; }

double stderr_of_mean(const std::vector<double>& v) { return reports::mean_estimate(v).stderr_; }

Interval normal_ci95(double m, double se) { return {m - 1.959963984540054 * se, m + 1.959963984540054 * se}; }

Interval wilson_ci95(std::int64_t k, std::int64_t n) {
  if (n <= 0) return {0, 1};
  auto e = reports::proportion(k, n);
  return {e.ci_low, e.ci_high};
}

double pass_at_k(std::int64_t n, std::int64_t c, std::int64_t k) { return reports::pass_at_k(n, c, k); }

}  // namespace dsv3::eval
