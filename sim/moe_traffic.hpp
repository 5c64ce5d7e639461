#pragma once
// The interface between routing and the MoE-layer timing (stable: the routing model in
// sim/routing/ produces MoeLayerTraffic from token-level routing; the step model consumes it).
//
// One MoE layer, one micro-batch, one EP group of `ep` ranks (rank r on node r / gpus_per_node):
//   expert_rows[r]      token-expert rows computed by rank r's local experts (the grouped GEMM M,
//                       summed over its experts); the slowest rank sets the expert GEMM time.
//   ib_tokens[s*ep+d]   token copies rank s sends over its NIC to rank d (another node, same local
//                       index: DeepEP's IB hop), already de-duplicated per destination node.
//   nvlink_tokens[s*ep+d] token copies rank s moves over NVLink to rank d (same node): its own
//                       tokens for d's experts plus the copies it forwards after the IB hop.
// The combine moves the same copies back (the transposed matrices). Bytes per token copy are
// given by the caller (FP8 + scales for dispatch, BF16 for combine).
#include <string>
#include <vector>

namespace dsv3::sim {

struct MoeLayerTraffic {
  int ep = 1;
  int gpus_per_node = 8;
  int local_experts = 1;         // routed experts per rank (groups of the grouped GEMM)
  std::vector<double> expert_rows;
  std::vector<double> ib_tokens;
  std::vector<double> nvlink_tokens;
  std::string source = "balanced";  // how it was produced, printed with the results
};

// Expected traffic under perfectly balanced routing with DeepSeek's node-limited gate:
// the token picks topk_group of n_group expert groups uniformly, and topk / topk_group experts
// uniformly inside each chosen group; experts are laid out contiguously over the ranks.
// tokens_per_rank: tokens each rank routes in this micro-batch.
struct BalancedRouting {
  int ep = 1;
  int gpus_per_node = 8;
  int experts = 1;      // n_routed_experts
  int topk = 1;         // num_experts_per_tok
  int n_group = 1;
  int topk_group = 1;
  double tokens_per_rank = 0;
};
MoeLayerTraffic balanced_moe_traffic(const BalancedRouting& r);

// Probability that one token sends at least one copy to a given rank / node (balanced routing).
double balanced_rank_hit_probability(const BalancedRouting& r);
double balanced_node_hit_probability(const BalancedRouting& r);

struct LinkModel {
  double ib_bytes_per_s = 0;      // achievable NIC bandwidth per GPU, one direction
  double nvlink_bytes_per_s = 0;  // achievable NVLink bandwidth per GPU, one direction
  double latency_s = 0;
};

struct A2ATime {
  double seconds = 0;      // max(IB, NVLink) + latency: the two hops are pipelined (TR §3.2.2)
  double ib_s = 0;
  double nvlink_s = 0;
  double max_ib_bytes = 0;      // busiest rank, sent or received
  double max_nvlink_bytes = 0;
  double total_ib_bytes = 0;    // all ranks, sent
  double total_nvlink_bytes = 0;
};

// One all-to-all (dispatch, or combine when `combine` is true: the copies flow back).
A2ATime all_to_all_time(const MoeLayerTraffic& t, double bytes_per_token, bool combine, const LinkModel& links);

// Checks the sizes of the matrices; throws std::invalid_argument naming the field.
void validate(const MoeLayerTraffic& t);

}  // namespace dsv3::sim
