#pragma once
// The simulator's entry point: a scenario in, the cost of every phase and the totals out.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "sim/calibration.hpp"
#include "sim/hardware.hpp"
#include "sim/memory_model.hpp"
#include "sim/model_cost.hpp"
#include "sim/plan.hpp"
#include "sim/routing/moe_layer.hpp"
#include "sim/scenario.hpp"
#include "sim/step_time.hpp"

namespace dsv3::sim {

struct PhaseResult {
  std::string name;
  bool simulated = true;
  std::string source;          // for given (not simulated) phases
  int64_t seq_len = 0, global_batch = 0;
  double tokens = 0, steps = 0;
  double ramp_tokens = 0, ramp_steps = 0, ramp_seconds = 0;
  double seconds = 0, days = 0, gpu_hours = 0, usd = 0;
  double tokens_per_step = 0;  // at the full batch
  double tflops_per_gpu = 0, tflops_per_gpu_noncausal = 0, mfu = 0, mfu_noncausal = 0;
  double train_flops_per_token = 0, train_flops_per_token_noncausal = 0;
  ResolvedPlan plan;
  StepResult step;             // at the full batch
  std::vector<ChunkCost> stages;
  MemoryBreakdown memory;
  MoeLayerTraffic traffic;
  // With a routing section: the token-level routing of this phase's MoE layers, the step time
  // with the same plan under balanced routing, and what the imbalance costs.
  std::shared_ptr<const routing::MoeRoutingResult> routing;
  int routing_layer = -1;             // index into routing->layers of the layer the step model uses
  double balanced_step_s = 0;         // full-batch step time under balanced routing
  double balanced_gpu_hours = 0;      // this phase at balanced routing
};

struct SimResult {
  Scenario scenario;
  HardwareProfile hw;
  Calibration cal;
  InSituDerivation in_situ;
  std::string model_source;
  ModelTotals totals;          // at the first simulated phase's sequence length
  int64_t totals_seq_len = 0;
  std::vector<PhaseResult> phases;
  int pretrain = -1;           // index of the first simulated phase
  // Summary (the first simulated phase at its full batch).
  double step_time_s = 0, tokens_per_step = 0, tokens_per_day = 0;
  double tflops_per_gpu = 0, tflops_per_gpu_noncausal = 0, mfu_bf16 = 0, mfu_bf16_noncausal = 0;
  double gpu_hours_per_trillion_tokens = 0, pretrain_gpu_hours = 0, pretrain_days = 0;
  double total_gpu_hours = 0, total_usd = 0, total_days = 0;
  double usd_per_gpu_hour = 0;
  std::vector<std::string> notes;

  // Every calibration and hardware constant used, with its source.
  std::vector<CalibConstant> constants() const;
};

// Runs the scenario. Throws dsv3::InputError for bad or impossible input (with the numbers).
SimResult simulate(const Scenario& s);

}  // namespace dsv3::sim
