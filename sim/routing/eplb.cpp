#include "sim/routing/eplb.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "model/errors.hpp"

namespace dsv3::sim::routing {

void balanced_packing(const std::vector<float>& weight, int num_packs, std::vector<int>& pack_index,
                      std::vector<int>& rank_in_pack) {
  const int n = static_cast<int>(weight.size());
  if (num_packs <= 0 || n % num_packs != 0)
    throw InputError(fmt::format("eplb: {} items cannot be packed evenly into {} packs", n, num_packs));
  const int per_pack = n / num_packs;
  pack_index.assign(n, -1);
  rank_in_pack.assign(n, -1);
  if (per_pack == 1) {
    std::iota(pack_index.begin(), pack_index.end(), 0);
    std::fill(rank_in_pack.begin(), rank_in_pack.end(), 0);
    return;
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return weight[a] > weight[b]; });
  std::vector<float> pack_weight(num_packs, 0.0f);
  std::vector<int> pack_items(num_packs, 0);
  for (int item : order) {
    int best = -1;
    for (int p = 0; p < num_packs; ++p)
      if (pack_items[p] < per_pack && (best < 0 || pack_weight[p] < pack_weight[best])) best = p;
    pack_index[item] = best;
    rank_in_pack[item] = pack_items[best];
    pack_weight[best] += weight[item];
    ++pack_items[best];
  }
}

void replicate_experts(const std::vector<float>& weight, int num_phy, std::vector<int>& phy2log,
                       std::vector<int>& rank, std::vector<int>& logcnt) {
  const int num_log = static_cast<int>(weight.size());
  if (num_phy < num_log)
    throw InputError(fmt::format("eplb: {} physical slots cannot hold {} experts", num_phy, num_log));
  phy2log.resize(num_phy);
  rank.assign(num_phy, 0);
  logcnt.assign(num_log, 1);
  std::iota(phy2log.begin(), phy2log.begin() + num_log, 0);
  for (int i = num_log; i < num_phy; ++i) {
    int best = 0;
    float best_v = weight[0] / static_cast<float>(logcnt[0]);
    for (int e = 1; e < num_log; ++e) {
      const float v = weight[e] / static_cast<float>(logcnt[e]);
      if (v > best_v) best = e, best_v = v;
    }
    phy2log[i] = best;
    rank[i] = logcnt[best];
    ++logcnt[best];
  }
}

namespace {

std::vector<int> inverse(const std::vector<int>& perm) {
  std::vector<int> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int>(i);
  return inv;
}

// One layer of the hierarchical policy. Fills phy2log, phy_rank and logcnt of that layer.
void rebalance_layer(const std::vector<float>& w, int num_phy, int num_groups, int num_nodes, int num_gpus,
                     std::vector<int>& phy2log, std::vector<int>& phy_rank, std::vector<int>& logcnt) {
  const int num_log = static_cast<int>(w.size());
  const int group_size = num_log / num_groups;
  const int groups_per_node = num_groups / num_nodes;
  const int log_per_node = num_log / num_nodes;
  const int phy_per_node = num_phy / num_nodes;
  const int gpus_per_node = num_gpus / num_nodes;
  const int phy_per_gpu = num_phy / num_gpus;

  // Step 1: groups to nodes.
  std::vector<float> group_tokens(num_groups, 0.0f);
  for (int g = 0; g < num_groups; ++g)
    for (int j = 0; j < group_size; ++j) group_tokens[g] += w[g * group_size + j];
  std::vector<int> gpack, grank;
  balanced_packing(group_tokens, num_nodes, gpack, grank);
  std::vector<int> log2mlog(num_log);
  for (int e = 0; e < num_log; ++e) {
    const int g = e / group_size;
    log2mlog[e] = (gpack[g] * groups_per_node + grank[g]) * group_size + e % group_size;
  }
  const std::vector<int> mlog2log = inverse(log2mlog);

  phy2log.assign(num_phy, -1);
  phy_rank.assign(num_phy, 0);
  std::vector<int> mlogcnt(num_log, 0);
  for (int node = 0; node < num_nodes; ++node) {
    // Step 2: replicas inside the node.
    std::vector<float> tokens(log_per_node);
    for (int j = 0; j < log_per_node; ++j) tokens[j] = w[mlog2log[node * log_per_node + j]];
    std::vector<int> phy2mlog, phyrank, cnt;
    replicate_experts(tokens, phy_per_node, phy2mlog, phyrank, cnt);
    for (int j = 0; j < log_per_node; ++j) mlogcnt[node * log_per_node + j] = cnt[j];

    // Step 3: physical replicas to the node's GPUs.
    std::vector<float> tokens_per_phy(phy_per_node);
    for (int p = 0; p < phy_per_node; ++p) tokens_per_phy[p] = tokens[phy2mlog[p]] / static_cast<float>(cnt[phy2mlog[p]]);
    std::vector<int> pack, rank;
    balanced_packing(tokens_per_phy, gpus_per_node, pack, rank);
    std::vector<int> phy2pphy(phy_per_node);
    for (int p = 0; p < phy_per_node; ++p) phy2pphy[p] = pack[p] * phy_per_gpu + rank[p];
    const std::vector<int> pphy2phy = inverse(phy2pphy);
    for (int q = 0; q < phy_per_node; ++q) {
      const int p = pphy2phy[q];
      phy2log[node * phy_per_node + q] = mlog2log[node * log_per_node + phy2mlog[p]];
      phy_rank[node * phy_per_node + q] = phyrank[p];
    }
  }
  logcnt.assign(num_log, 0);
  for (int e = 0; e < num_log; ++e) logcnt[e] = mlogcnt[log2mlog[e]];
}

}  // namespace

EplbResult rebalance_experts(const LoadMatrix& weight, int num_replicas, int num_groups, int num_nodes, int num_gpus) {
  if (weight.empty() || weight[0].empty()) throw InputError("eplb: the load matrix is empty");
  const int layers = static_cast<int>(weight.size());
  const int num_log = static_cast<int>(weight[0].size());
  for (int l = 0; l < layers; ++l)
    if (static_cast<int>(weight[l].size()) != num_log)
      throw InputError(fmt::format("eplb: layer {} has {} experts, layer 0 has {}", l, weight[l].size(), num_log));
  if (num_groups <= 0 || num_nodes <= 0 || num_gpus <= 0)
    throw InputError("eplb: groups, nodes and gpus must be positive");
  if (num_log % num_groups)
    throw InputError(fmt::format("eplb: {} experts do not split into {} groups", num_log, num_groups));
  if (num_gpus % num_nodes)
    throw InputError(fmt::format("eplb: {} GPUs are not a multiple of {} nodes", num_gpus, num_nodes));
  if (num_replicas < num_log || num_replicas % num_gpus)
    throw InputError(fmt::format("eplb: replicas ({}) must be at least the experts ({}) and a multiple of the GPUs ({})",
                                 num_replicas, num_log, num_gpus));

  EplbResult r;
  r.hierarchical = num_groups % num_nodes == 0;
  const int g = r.hierarchical ? num_groups : 1;
  const int n = r.hierarchical ? num_nodes : 1;
  if (num_log % n || num_replicas % n)
    throw InputError(fmt::format("eplb: experts ({}) and replicas ({}) must divide over {} nodes", num_log, num_replicas, n));
  r.num_layers = layers;
  r.num_logical = num_log;
  r.num_physical = num_replicas;
  r.num_gpus = num_gpus;
  r.num_nodes = num_nodes;
  r.phy2log.resize(layers);
  r.phy_rank.resize(layers);
  r.logcnt.resize(layers);
  int maxcnt = 1;
  for (int l = 0; l < layers; ++l) {
    std::vector<float> w(num_log);
    for (int e = 0; e < num_log; ++e) {
      if (!(weight[l][e] >= 0)) throw InputError(fmt::format("eplb: load [{}][{}] is negative or not a number", l, e));
      w[e] = static_cast<float>(weight[l][e]);
    }
    rebalance_layer(w, num_replicas, g, n, num_gpus, r.phy2log[l], r.phy_rank[l], r.logcnt[l]);
    maxcnt = std::max(maxcnt, *std::max_element(r.logcnt[l].begin(), r.logcnt[l].end()));
  }
  r.log2phy.assign(layers, std::vector<std::vector<int>>(num_log, std::vector<int>(maxcnt, -1)));
  for (int l = 0; l < layers; ++l)
    for (int p = 0; p < num_replicas; ++p) r.log2phy[l][r.phy2log[l][p]][r.phy_rank[l][p]] = p;
  return r;
}

std::vector<std::vector<double>> gpu_loads(const EplbResult& r, const LoadMatrix& weight) {
  std::vector<std::vector<double>> out(r.num_layers, std::vector<double>(r.num_gpus, 0.0));
  const int per = r.slots_per_gpu();
  for (int l = 0; l < r.num_layers; ++l)
    for (int p = 0; p < r.num_physical; ++p) {
      const int e = r.phy2log[l][p];
      out[l][p / per] += weight[l][e] / r.logcnt[l][e];
    }
  return out;
}

std::vector<std::vector<double>> contiguous_gpu_loads(const LoadMatrix& weight, int num_gpus) {
  std::vector<std::vector<double>> out;
  for (const auto& row : weight) {
    const int E = static_cast<int>(row.size());
    if (num_gpus <= 0 || E % num_gpus)
      throw InputError(fmt::format("eplb: {} experts do not split over {} GPUs", E, num_gpus));
    std::vector<double> g(num_gpus, 0.0);
    for (int e = 0; e < E; ++e) g[e / (E / num_gpus)] += row[e];
    out.push_back(std::move(g));
  }
  return out;
}

double max_over_mean(const std::vector<double>& loads) {
  if (loads.empty()) return 1.0;
  const double sum = std::accumulate(loads.begin(), loads.end(), 0.0);
  if (sum <= 0) return 1.0;
  return *std::max_element(loads.begin(), loads.end()) / (sum / static_cast<double>(loads.size()));
}

}  // namespace dsv3::sim::routing
