#pragma once
// The parallel plan of one phase, resolved and checked against the model and the cluster:
// data-parallel degrees, micro-batches per step, and which pipeline slots each stage and each
// pipeline rank holds. Impossible plans are dsv3::InputError naming the key.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "sim/hardware.hpp"
#include "sim/model_cost.hpp"
#include "sim/scenario.hpp"

namespace dsv3::sim {

struct ResolvedPlan {
  ParallelPlan par;
  int64_t gpus = 0;
  int64_t seq_len = 0;
  int64_t dp = 1;                 // replicas of the non-expert weights: gpus / (pp x tp x cp)
  int64_t edp = 1;                // replicas of each expert: gpus / (pp x ep)
  int64_t weight_replicas = 1;    // replicas of the non-expert weights: gpus / (pp x tp) (DP x CP):
                                  // gradients are reduced and optimizer states sharded over them
  int64_t tokens_per_microbatch = 0;  // per GPU: micro_batch x seq_len / cp
  int64_t micro_batches = 0;      // per pipeline per step at the phase's global batch
  int64_t global_batch = 0;
  std::vector<std::vector<int>> stage_slots;  // slot indices of ModelCost::slots per stage
  std::vector<std::vector<int>> rank_stages;  // stages held by each pipeline rank
};

// `origin` names the scenario (and phase) in errors.
ResolvedPlan resolve_plan(const Scenario& s, const PhaseSpec& phase, const model::ModelConfig& cfg,
                          const ModelCost& cost, const HardwareProfile& hw);

// Micro-batches per pipeline for a global batch (rounded down to what the plan allows, at least
// the minimum the schedule needs).
int64_t micro_batches_for(const ResolvedPlan& p, int64_t global_batch);

}  // namespace dsv3::sim
