#include "reports/score_stats.hpp"

#include <gtest/gtest.h>

using namespace dsv3::reports;

TEST(ScoreStats, WilsonIntervalMatchesHandComputation) {
  auto e = proportion(8, 10);
  EXPECT_DOUBLE_EQ(e.value, 0.8);
  EXPECT_NEAR(e.stderr_, 0.126491, 1e-6);
  EXPECT_NEAR(e.ci_low, 0.490162, 1e-5);
  EXPECT_NEAR(e.ci_high, 0.943318, 1e-5);
  auto z = proportion(0, 20);
  EXPECT_EQ(z.ci_low, 0.0);
  EXPECT_GT(z.ci_high, 0.1);  // Wilson never collapses to a zero-width interval
}

TEST(ScoreStats, MeanEstimate) {
  auto e = mean_estimate({0.0, 0.5, 1.0, 0.5});
  EXPECT_DOUBLE_EQ(e.value, 0.5);
  EXPECT_NEAR(e.stderr_, 0.204124, 1e-6);  // sd 0.408248 / 2
}

TEST(ScoreStats, PassAtKUnbiased) {
  EXPECT_DOUBLE_EQ(pass_at_k(5, 2, 1), 0.4);
  EXPECT_NEAR(pass_at_k(5, 2, 2), 0.7, 1e-12);  // 1 - C(3,2)/C(5,2)
  EXPECT_DOUBLE_EQ(pass_at_k(5, 4, 2), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(5, 0, 3), 0.0);
  EXPECT_THROW(pass_at_k(2, 1, 3), std::invalid_argument);
}

TEST(ScoreStats, McNemarExact) {
  EXPECT_NEAR(mcnemar_exact_p(1, 9), 2.0 * 11.0 / 1024.0, 1e-12);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);
}

TEST(ScoreStats, PairedBootstrapSeesARealDifferenceAndNotANullOne) {
  std::vector<double> a(200, 1.0), b(200, 0.0);
  for (int i = 0; i < 200; i += 2) b[i] = 1.0;  // A right on all, B on half
  auto r = paired_bootstrap(a, b, 2000, 7);
  EXPECT_NEAR(r.diff, 0.5, 1e-12);
  EXPECT_GT(r.ci_low, 0.4);
  EXPECT_LT(r.p_value, 0.01);
  auto same = paired_bootstrap(b, b, 2000, 7);
  EXPECT_DOUBLE_EQ(same.diff, 0.0);
  EXPECT_DOUBLE_EQ(same.p_value, 1.0);
  auto again = paired_bootstrap(a, b, 2000, 7);
  EXPECT_EQ(again.ci_low, r.ci_low);  // deterministic for a seed
}
