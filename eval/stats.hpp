#pragma once
// Statistics for scores: mean, standard error of the mean, 95% intervals (normal and
// Wilson), and the unbiased pass@k estimator of Chen et al. (2021). Implemented once, in
// reports/score_stats.hpp; these are the eval-side names.
#include <cstdint>
#include <vector>

namespace dsv3::eval {

struct Interval {
  double lo = 0, hi = 0;
};

double mean(const std::vector<double>& v);
// Sample standard deviation / sqrt(n) (n-1 in the variance); 0 when n < 2.
double stderr_of_mean(const std::vector<double>& v);
// mean +- 1.959964 * stderr.
Interval normal_ci95(double mean, double stderr_value);
// Wilson score interval for `successes` out of n at 95%.
Interval wilson_ci95(std::int64_t successes, std::int64_t n);

// 1 - C(n-c, k) / C(n, k): the probability that at least one of k samples drawn without
// replacement from n samples (c of them correct) is correct. Needs 0 <= c <= n, 1 <= k <= n.
double pass_at_k(std::int64_t n, std::int64_t c, std::int64_t k);

}  // namespace dsv3::eval
