// pass@k against brute-force enumeration; standard errors and intervals.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/stats.hpp"

using namespace dsv3::eval;

namespace {
// Exact pass@k by enumerating every k-subset of n samples with c correct.
double brute_pass_at_k(int n, int c, int k) {
  long total = 0, hit = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != k) continue;
    ++total;
    if (mask & ((1u << c) - 1)) ++hit;  // samples 0..c-1 are the correct ones
  }
  return double(hit) / double(total);
}
}  // namespace

TEST(Stats, PassAtKMatchesEnumeration) {
  for (int n = 1; n <= 10; ++n)
    for (int c = 0; c <= n; ++c)
      for (int k = 1; k <= n; ++k) EXPECT_NEAR(pass_at_k(n, c, k), brute_pass_at_k(n, c, k), 1e-12) << n << " " << c << " " << k;
  EXPECT_DOUBLE_EQ(pass_at_k(200, 0, 100), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(5, 3, 1), 0.6);  // pass@1 = c/n
  EXPECT_THROW(pass_at_k(5, 6, 1), std::invalid_argument);
  EXPECT_THROW(pass_at_k(5, 1, 6), std::invalid_argument);
}

TEST(Stats, StderrAndIntervals) {
  std::vector<double> v = {1, 0, 1, 1};
  EXPECT_DOUBLE_EQ(mean(v), 0.75);
  EXPECT_NEAR(stderr_of_mean(v), 0.25, 1e-12);  // sd = 0.5, n = 4
  auto ci = normal_ci95(0.75, 0.25);
  EXPECT_NEAR(ci.lo, 0.75 - 0.48999, 1e-4);
  auto w = wilson_ci95(0, 10);
  EXPECT_DOUBLE_EQ(w.lo, 0.0);
  EXPECT_NEAR(w.hi, 0.2775, 1e-3);
  w = wilson_ci95(50, 100);
  EXPECT_NEAR(w.lo, 0.4038, 1e-3);
  EXPECT_NEAR(w.hi, 0.5962, 1e-3);
}
