#pragma once
// MoE layers under routing skew: route one micro-batch per MoE layer (sampled layers), place
// experts (contiguous or EPLB with redundant slots), build the all-to-all traffic, and time
// each layer: expert GEMMs at each GPU's own token count (a grouped GEMM per GPU), dispatch and
// combine from the port loads. A layer takes its slowest GPU; the same layer with perfectly
// balanced routing gives the cost of the imbalance.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "sim/routing/link_model.hpp"
#include "sim/routing/routing_spec.hpp"
#include "sim/routing/traffic.hpp"

namespace dsv3::sim::routing {

// Forward time of one GPU's grouped expert GEMMs, given the tokens of each of its expert slots.
using GroupedGemmTime = std::function<double(const std::vector<int64_t>& tokens_per_slot)>;

// A stand-in until the simulator core provides its GEMM cost: FP8 roofline, 3 GEMMs per token
// and expert (gate and up fused, down), 2*hidden*moe_inter*3 FLOPs, at `tflops` effective.
GroupedGemmTime roofline_grouped_gemm(int64_t hidden, int64_t moe_inter, double tflops);

struct MoeRoutingSetup {
  model::ModelConfig config;
  int ep_gpus = 64;
  int gpus_per_node = 8;
  int64_t tokens_per_gpu = 4096;   // tokens of one micro-batch on each GPU
  int comm_sms = 20;
  bool low_latency = false;        // decode kernels (direct path) instead of the two-hop path
  RoutingSpec spec;
};

struct MoeLayerResult {
  int layer = 0;                        // index among MoE layers
  std::vector<int64_t> gpu_tokens;      // token-expert pairs per GPU
  std::vector<int64_t> slot_tokens;     // per physical expert slot
  std::vector<int64_t> expert_tokens;   // per logical expert
  double imbalance = 1;                 // max / mean of gpu_tokens
  double gemm_s = 0, gemm_balanced_s = 0;
  CommTime dispatch, combine;
  double dispatch_balanced_s = 0, combine_balanced_s = 0;
  double time_s = 0, balanced_time_s = 0;   // gemm + dispatch + combine, slowest GPU
  std::vector<double> dispatch_hops;    // [from * n + to] bytes per link, dispatch
  double max_vio_experts = 0;           // MaxVio of the logical experts' loads
  int max_nodes_per_token = 0;
  double mean_nodes_per_token = 0;
};

struct MoeRoutingResult {
  std::vector<MoeLayerResult> layers;   // the sampled MoE layers
  std::vector<int> sampled_layers;      // their MoE-layer indices
  int n_moe_layers = 0;
  double mean_imbalance = 1;
  double mean_time_s = 0, mean_balanced_time_s = 0;  // per MoE layer, forward
  int slots_per_gpu = 0;
  bool eplb_hierarchical = false;
  std::vector<Constant> calibration;    // the link model's constants
  std::string routing;                  // RoutingSpec::describe()
  int ep = 0, gpus_per_node = 0;
  int64_t tokens_per_gpu = 0, hidden = 0;
  // The sampled layer whose time is the median: the representative layer handed to the step model.
  int median_layer_index() const;
};

MoeRoutingResult simulate_moe_routing(const MoeRoutingSetup& setup, const LinkModel& links, const GroupedGemmTime& gemm);

}  // namespace dsv3::sim::routing
