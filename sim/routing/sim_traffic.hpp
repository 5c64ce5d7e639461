#pragma once
// The routing model feeding the step model (sim/step_time): token-level routing of the plan's MoE
// layers turned into the simulator's MoeLayerTraffic (sim/moe_traffic.hpp), the interface the
// step model times: expert rows per rank (the grouped GEMM M of each GPU) and the token copies
// over IB and NVLink per rank pair (DeepEP's two-hop path).
#include <cstdint>
#include <string>

#include "model/config.hpp"
#include "sim/moe_traffic.hpp"
#include "sim/routing/moe_layer.hpp"

namespace dsv3::sim::routing {

// Routes the plan's MoE layers: ep ranks, gpus_per_node, tokens each rank routes per micro-batch
// (at most spec.tokens_per_gpu_cap of them are routed; the caller scales the counts).
// Relative load_file paths resolve against base_dir. Expert GEMM time inside uses the stand-in
// rate of the link-model file; the step model times the returned traffic with its own GEMM model.
MoeRoutingResult route_plan(const model::ModelConfig& cfg, const RoutingSpec& spec, int ep, int gpus_per_node,
                            int64_t tokens_per_rank, int comm_sms, const std::string& base_dir);

// One routed layer as the step model's traffic (token copies; expert rows per rank), every count
// multiplied by `scale` (micro-batch tokens per rank / routed tokens per rank).
MoeLayerTraffic to_moe_layer_traffic(const MoeRoutingResult& r, int layer_index, double scale, const std::string& source);

}  // namespace dsv3::sim::routing
