#pragma once
// Statistics for benchmark scores: proportions with Wilson intervals, means with normal
// intervals, the unbiased pass@k estimator, and paired tests between two runs on the same
// items (exact McNemar, paired bootstrap).
#include <cstdint>
#include <vector>

namespace dsv3::reports {

struct Estimate {
  double value = 0;   // fraction in [0, 1]
  double stderr_ = 0; // standard error of value
  double ci_low = 0;  // 95% interval
  double ci_high = 0;
  int64_t n = 0;
};

// k successes in n trials: value k/n, stderr sqrt(p(1-p)/n), Wilson 95% interval.
Estimate proportion(int64_t k, int64_t n);

// Mean of per-item values in [0, 1] (e.g. per-problem pass@k): stderr = sd/sqrt(n) (sample sd),
// normal 95% interval clipped to [0, 1].
Estimate mean_estimate(const std::vector<double>& v);

// Unbiased pass@k for one problem with n samples of which c are correct (Chen et al. 2021).
double pass_at_k(int64_t n, int64_t c, int64_t k);

// Exact two-sided McNemar test on discordant counts: b = only A correct, c = only B correct.
double mcnemar_exact_p(int64_t b, int64_t c);

struct PairedBootstrap {
  double diff = 0;     // mean(a) - mean(b)
  double ci_low = 0;   // 95% percentile interval of the difference
  double ci_high = 0;
  double p_value = 0;  // two-sided: 2 * min(P(d* <= 0), P(d* >= 0)), capped at 1
  int iterations = 0;
  uint64_t seed = 0;
};

// Resamples items with replacement (a[i] and b[i] are the same item's scores). Deterministic
// for a given seed.
PairedBootstrap paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int iterations = 10000,
                                 uint64_t seed = 20241227);

}  // namespace dsv3::reports
