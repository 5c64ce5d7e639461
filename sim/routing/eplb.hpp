#pragma once
// DeepSeek's expert-parallelism load balancer (EPLB), re-implemented from the algorithm
// described in github.com/deepseek-ai/EPLB (README and eplb.py @d52c72d):
//
//  hierarchical policy (num_groups % num_nodes == 0):
//   1. pack expert groups onto nodes with balanced packing (heaviest first, each item to the
//      lightest pack that still has room; every pack gets the same number of items);
//   2. inside each node, add replicas one at a time to the expert with the largest
//      load / replica_count;
//   3. pack the node's physical replicas onto its GPUs with balanced packing of
//      load / replica_count.
//  global policy (otherwise): the same with one group and one node.
//
// Arithmetic is float32 and ties resolve to the lower index, as the reference does, so the
// README example reproduces exactly (tests/sim/routing_eplb_test.cpp).
#include <cstdint>
#include <vector>

namespace dsv3::sim::routing {

// weight[layer][logical expert]: the load statistics of each expert.
using LoadMatrix = std::vector<std::vector<double>>;

struct EplbResult {
  bool hierarchical = true;                          // which policy ran
  int num_layers = 0, num_logical = 0, num_physical = 0, num_gpus = 0, num_nodes = 0;
  std::vector<std::vector<int>> phy2log;             // [layer][physical slot] -> logical expert
  std::vector<std::vector<int>> phy_rank;            // [layer][physical slot] -> replica rank
  std::vector<std::vector<std::vector<int>>> log2phy;  // [layer][logical][max replicas], -1 padded
  std::vector<std::vector<int>> logcnt;              // [layer][logical] -> replica count
  int slots_per_gpu() const { return num_gpus ? num_physical / num_gpus : 0; }
};

// Packs n weighted items into num_packs packs of n/num_packs items each. Returns for each item
// its pack and its rank inside the pack. Throws InputError when n % num_packs != 0.
void balanced_packing(const std::vector<float>& weight, int num_packs, std::vector<int>& pack_index,
                      std::vector<int>& rank_in_pack);

// Replicates num_log experts to num_phy slots (slot i < num_log holds expert i); each extra
// slot goes to the expert with the largest weight / count (lowest index on ties).
void replicate_experts(const std::vector<float>& weight, int num_phy, std::vector<int>& phy2log,
                       std::vector<int>& rank, std::vector<int>& logcnt);

// The entry point: weight [layers][experts], num_replicas physical slots (a multiple of
// num_gpus), num_groups expert groups, num_nodes nodes, num_gpus GPUs (a multiple of
// num_nodes). Throws dsv3::InputError on inconsistent sizes.
EplbResult rebalance_experts(const LoadMatrix& weight, int num_replicas, int num_groups, int num_nodes, int num_gpus);

// Load of each GPU: sum over its slots of weight[phy2log] / logcnt[phy2log]. [layer][gpu]
std::vector<std::vector<double>> gpu_loads(const EplbResult& r, const LoadMatrix& weight);

// GPU loads with no EPLB: logical experts laid out contiguously, num_logical / num_gpus per GPU.
std::vector<std::vector<double>> contiguous_gpu_loads(const LoadMatrix& weight, int num_gpus);

// max / mean of a load vector (1.0 for an all-zero vector).
double max_over_mean(const std::vector<double>& loads);

}  // namespace dsv3::sim::routing
