#pragma once
// DeepSeek-V3's auxiliary-loss-free load balancing (TR §2.1.2): after each step every expert's
// correction bias moves by gamma against its load, b_i += gamma * sign(mean_load - load_i).
// The bias only changes which experts are chosen, never the gate weights.
//
// simulate_bias_controller runs N steps of one MoE layer from the popularity model (a skewed
// start, e.g. zipf) twice on the same tokens: with the controller (gamma) and without (0).
#include <cstdint>
#include <vector>

#include "model/moe_gate.hpp"
#include "sim/routing/popularity.hpp"

namespace dsv3::sim::routing {

struct BiasRun {
  std::vector<double> maxvio_batch;  // per step: MaxVio of the whole batch's expert loads
  std::vector<double> maxvio_micro;  // per step: mean over micro-batches of each one's MaxVio
  std::vector<float> final_bias;
};

struct BiasComparison {
  double gamma = 0;
  int steps = 0;
  int64_t tokens_per_step = 0;
  int micro_batches = 0;
  BiasRun with_controller, without;
};

struct BiasOptions {
  int layer = 0;
  int steps = 100;
  int64_t tokens_per_step = 16384;
  int micro_batches = 4;  // tokens_per_step splits evenly into these
  double gamma = 0.001;
  uint64_t seed = 1;
};

// One update of the rule, in place. loads: tokens per expert in the step.
void update_bias(std::vector<float>& bias, const std::vector<int64_t>& loads, double gamma);

BiasComparison simulate_bias_controller(const model::GateParams& gate, const PopularityModel& pop,
                                        const BiasOptions& opt);

}  // namespace dsv3::sim::routing
