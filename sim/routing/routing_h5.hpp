#pragma once
// The /routing group of a simulation report (reports/schema/simulation.md):
//   attrs    routing, ep, gpus_per_node, tokens_per_gpu, slots_per_gpu, moe_layers,
//            mean_imbalance, moe_layer_time_s, moe_layer_time_balanced_s, imbalance_cost
//   layers          [L]       MoE-layer index of each sampled layer
//   gpu_load        [L, EP]   token-expert pairs computed per GPU (one micro-batch)
//   expert_load     [L, E]    tokens per logical expert (readable back as a measured load file)
//   imbalance       [L]       max / mean of gpu_load
//   layer_time_s, layer_time_balanced_s, dispatch_s, combine_s, gemm_s   [L]
//   dispatch_link_bytes [EP, EP]  bytes over each physical hop (IB or NVLink), dispatch, summed
//                                 over the sampled layers; combine is its transpose x 2/(1+4/128)
#include <hdf5.h>

#include "sim/routing/moe_layer.hpp"

namespace dsv3::sim::routing {

void write_routing_group(hid_t file, const MoeRoutingResult& r);

}  // namespace dsv3::sim::routing
