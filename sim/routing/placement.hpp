#pragma once
// Where experts live: physical expert slots on GPUs, GPUs in nodes. The default EP layout is
// contiguous (experts 0..E/G-1 on GPU 0, ...); EPLB gives a layout with redundant replicas.
// GPU g sits in node g / gpus_per_node at local index g % gpus_per_node.
#include <cstdint>
#include <vector>

#include "sim/routing/eplb.hpp"

namespace dsv3::sim::routing {

struct Placement {
  int n_experts = 0, n_gpus = 0, gpus_per_node = 8, slots_per_gpu = 0;
  std::vector<int> phy2log;                // [n_gpus * slots_per_gpu] logical expert of each slot
  std::vector<std::vector<int>> log2phy;   // [expert] its slots

  int nodes() const { return (n_gpus + gpus_per_node - 1) / gpus_per_node; }
  int gpu_of_slot(int slot) const { return slot / slots_per_gpu; }
  int node_of_gpu(int gpu) const { return gpu / gpus_per_node; }
  int local_index(int gpu) const { return gpu % gpus_per_node; }

  // E experts over n_gpus GPUs, E / n_gpus each (InputError when it does not divide).
  static Placement contiguous(int n_experts, int n_gpus, int gpus_per_node);
  // From a physical-to-logical map (e.g. one layer of an EPLB result).
  static Placement from_phy2log(const std::vector<int>& phy2log, int n_experts, int n_gpus, int gpus_per_node);
};

}  // namespace dsv3::sim::routing
