#pragma once
// Step time: the cost of one micro-batch through one pipeline stage (forward F, backward for
// inputs B, backward for weights W, and the all-to-all that can overlap with another chunk),
// then the pipeline schedule (1F1B, ZB1P, DualPipe with TR Table 2's bubbles), the DP
// gradient reduce-scatter / parameter all-gather and the optimizer step.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "sim/model_cost.hpp"
#include "sim/moe_traffic.hpp"
#include "sim/op_time.hpp"
#include "sim/plan.hpp"

namespace dsv3::sim {

// Time of one op for one micro-batch (summed over the stage's layers with the same op name).
struct OpStepTime {
  std::string name;
  std::string kind;
  double fwd_s = 0, bwd_b_s = 0, bwd_w_s = 0;
  double flops = 0;  // model FLOPs (fwd + bwd), causal
};

// One micro-batch through one stage on one GPU.
struct ChunkCost {
  double F = 0, B = 0, W = 0;   // compute, seconds (FP8 casts included)
  double comm_F = 0, comm_B = 0;  // all-to-all (+ context-parallel KV exchange): overlappable
  double tp_F = 0, tp_B = 0;    // tensor-parallel all-reduces: exposed
  double flops = 0;             // model FLOPs of the chunk (fwd + bwd), causal
  int moe_layers = 0;
  double dispatch_s = 0, combine_s = 0;  // one MoE layer's forward dispatch and combine
  double params_dense = 0;      // non-expert parameters held for this stage (per GPU, after TP)
  double params_expert = 0;     // expert parameters held for this stage (local experts)
  double params_fp8 = 0;        // of which run as FP8 GEMMs
  double act_bytes = 0;         // activations cached for backward, one micro-batch
  std::vector<OpStepTime> ops;
};

struct StageContext {
  const model::ModelConfig* cfg = nullptr;
  const ModelCost* cost = nullptr;
  const ResolvedPlan* plan = nullptr;
  ComputeModel cm;
  Precision precision = Precision::FP8;
  bool cache_weights = false;
  bool recompute_full = false;            // activation checkpointing per layer
  LinkModel ib_links;                     // the all-to-all links
  const MoeLayerTraffic* traffic = nullptr;  // per MoE layer (balanced by default)
  double nvlink_bytes_per_s = 0;          // for TP all-reduces
};

ChunkCost chunk_cost(const StageContext& ctx, const std::vector<int>& slots);

// The balanced-routing traffic of this plan's MoE layers.
MoeLayerTraffic plan_traffic(const model::ModelConfig& cfg, const ResolvedPlan& plan, const HardwareProfile& hw);

// In-situ slowdown of GEMMs and memory-bound kernels: the calibration's measured compute-stream
// time of one DeepSeek-V3 MoE-layer forward+backward pair, divided by this model's isolated
// prediction of the same work (attention excluded on both sides: it is measured in situ).
struct InSituDerivation {
  double factor = 1.0;
  double measured_s = 0, predicted_isolated_s = 0, attention_s = 0;
};
InSituDerivation derive_in_situ(const Calibration& cal);

// A run of identical chunks in the slowest rank's schedule, in execution order (what the Chrome
// trace draws). what: "F", "B" (backward for inputs), "W" (backward for weights), "B+W" (full
// backward), "F&B" (a forward chunk of `stage` overlapped with the full backward of `stage2`).
// A "W" or "F" run with stage2 >= 0 alternates between the two stages. count may be fractional.
struct ScheduleSegment {
  std::string what;
  int stage = -1, stage2 = -1;
  double count = 0;
  double seconds = 0;  // one chunk (or pair), wall time on this rank
};

struct StepResult {
  int64_t micro_batches = 0;
  int bottleneck_rank = 0;
  double total_s = 0;
  double pipeline_s = 0;      // own work of the slowest pipeline rank + bubble
  double own_work_s = 0;
  double bubble_s = 0;
  double compute_s = 0;       // compute inside own work
  double exposed_comm_s = 0;  // all-to-all and TP time not hidden behind compute
  double hidden_comm_s = 0;   // all-to-all hidden behind another chunk's compute
  double dp_comm_s = 0, dp_exposed_s = 0;
  double optimizer_s = 0;
  // The phases of ISCA'25 Table 4 on the slowest rank.
  double warmup_f_s = 0, overlapped_s = 0, alone_b_s = 0, alone_w_s = 0;
  int64_t overlapped_pairs = 0;
  // Chunk times of the slowest rank (averaged over its stages) for the bubble formula.
  double F = 0, B = 0, W = 0, FB = 0;
  // Its own work (pipeline_s - bubble_s) as runs of chunks, in execution order.
  std::vector<ScheduleSegment> schedule;
};

struct StepInputs {
  const ResolvedPlan* plan = nullptr;
  const std::vector<ChunkCost>* stages = nullptr;  // one per stage
  double ib_bytes_per_s = 0;
  double latency_s = 0;
  const ComputeModel* cm = nullptr;
  bool dp_overlap_bubble = true;
};

StepResult step_time(const StepInputs& in, int64_t micro_batches);

}  // namespace dsv3::sim
