// The aux-loss-free bias controller: b_i += gamma * sign(mean - load_i).
#include <gtest/gtest.h>

#include <cstdio>
#include <numeric>

#include "sim/routing/bias_controller.hpp"

namespace routing = dsv3::sim::routing;

TEST(RoutingBias, UpdateRule) {
  std::vector<float> b = {0, 0, 0, 0};
  routing::update_bias(b, {10, 30, 20, 20}, 0.5);  // mean 20
  EXPECT_FLOAT_EQ(b[0], 0.5f);
  EXPECT_FLOAT_EQ(b[1], -0.5f);
  EXPECT_FLOAT_EQ(b[2], 0.0f);
  routing::update_bias(b, {10, 30, 20, 20}, 0.0);  // gamma 0: off
  EXPECT_FLOAT_EQ(b[0], 0.5f);
}

TEST(RoutingBias, ControllerLowersMaxVioFromASkewedStart) {
  dsv3::model::GateParams gate;
  gate.n_experts = 64, gate.n_group = 8, gate.topk_group = 4, gate.top_k = 6, gate.routed_scaling_factor = 2.5f;
  routing::RoutingSpec spec;
  spec.model = routing::PopularityKind::Zipf;
  spec.zipf_s = 1.1;
  const routing::PopularityModel pop(spec, 1, 64);
  routing::BiasOptions opt;
  opt.steps = 60;
  opt.tokens_per_step = 4096;
  opt.micro_batches = 4;
  opt.gamma = 0.01;  // faster than training's 0.001 so the test needs 60 steps, not thousands
  const auto c = routing::simulate_bias_controller(gate, pop, opt);
  ASSERT_EQ(c.with_controller.maxvio_batch.size(), 60u);
  auto tail_mean = [](const std::vector<double>& v) { return std::accumulate(v.end() - 10, v.end(), 0.0) / 10; };
  const double start = c.with_controller.maxvio_batch[0];
  const double on = tail_mean(c.with_controller.maxvio_batch), off = tail_mean(c.without.maxvio_batch);
  std::printf("MaxVio batch: step 0 %.2f; last 10 steps with controller %.2f, without %.2f\n", start, on, off);
  std::printf("MaxVio micro-batch: last 10 steps with controller %.2f, without %.2f\n",
              tail_mean(c.with_controller.maxvio_micro), tail_mean(c.without.maxvio_micro));
  EXPECT_NEAR(c.without.maxvio_batch[0], start, 1e-12);  // same tokens, same start
  EXPECT_LT(on, 0.5 * start);
  EXPECT_LT(on, 0.5 * off);
  EXPECT_LT(tail_mean(c.with_controller.maxvio_micro), tail_mean(c.without.maxvio_micro));
  // Without the controller nothing moves.
  for (float b : c.without.final_bias) EXPECT_EQ(b, 0.0f);
  // A micro-batch is smaller than the batch, so its MaxVio carries more sampling noise.
  EXPECT_GE(tail_mean(c.with_controller.maxvio_micro), tail_mean(c.with_controller.maxvio_batch));
}
