#include "sim/routing/bias_controller.hpp"

#include <fmt/core.h>

#include <numeric>

#include "model/errors.hpp"
#include "sim/routing/router.hpp"

namespace dsv3::sim::routing {

void update_bias(std::vector<float>& bias, const std::vector<int64_t>& loads, double gamma) {
  const double mean = std::accumulate(loads.begin(), loads.end(), 0.0) / static_cast<double>(loads.size());
  for (size_t i = 0; i < bias.size(); ++i) {
    const double d = mean - static_cast<double>(loads[i]);
    bias[i] += static_cast<float>(gamma * ((d > 0) - (d < 0)));
  }
}

namespace {

void run_step(const model::GateParams& gate, const std::vector<double>& p, std::vector<float>& bias, uint64_t stream,
              const BiasOptions& opt, BiasRun& out) {
  std::vector<int32_t> experts;
  route_tokens(gate, p, bias, stream, opt.tokens_per_step, experts);
  const int k = gate.top_k;
  const int64_t per_micro = opt.tokens_per_step / opt.micro_batches;
  double micro = 0;
  for (int m = 0; m < opt.micro_batches; ++m)
    micro += max_vio(expert_counts(experts.data() + m * per_micro * k, per_micro * k, gate.n_experts));
  const auto loads = expert_counts(experts, gate.n_experts);
  out.maxvio_batch.push_back(max_vio(loads));
  out.maxvio_micro.push_back(micro / opt.micro_batches);
  update_bias(bias, loads, opt.gamma);
}

}  // namespace

BiasComparison simulate_bias_controller(const model::GateParams& gate, const PopularityModel& pop,
                                        const BiasOptions& opt) {
  if (opt.steps <= 0 || opt.micro_batches <= 0 || opt.tokens_per_step <= 0 || opt.tokens_per_step % opt.micro_batches)
    throw InputError(fmt::format("bias controller: {} tokens per step must split evenly into {} micro-batches",
                                 opt.tokens_per_step, opt.micro_batches));
  BiasComparison c;
  c.gamma = opt.gamma;
  c.steps = opt.steps;
  c.tokens_per_step = opt.tokens_per_step;
  c.micro_batches = opt.micro_batches;
  std::vector<float> on(gate.n_experts, 0.0f), off(gate.n_experts, 0.0f);
  BiasOptions no = opt;
  no.gamma = 0;
  for (int s = 0; s < opt.steps; ++s) {
    const auto p = pop.at(opt.layer, s);
    const uint64_t stream = rng_key(opt.seed, 0xb1a5, opt.layer, s);  // same tokens for both runs
    run_step(gate, p, on, stream, opt, c.with_controller);
    run_step(gate, p, off, stream, no, c.without);
  }
  c.with_controller.final_bias = on;
  c.without.final_bias = off;
  return c;
}

}  // namespace dsv3::sim::routing
