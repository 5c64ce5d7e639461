#include "sim/routing/placement.hpp"

#include <fmt/core.h>

#include "model/errors.hpp"

namespace dsv3::sim::routing {

Placement Placement::from_phy2log(const std::vector<int>& phy2log, int n_experts, int n_gpus, int gpus_per_node) {
  if (n_gpus <= 0 || gpus_per_node <= 0 || phy2log.empty() || phy2log.size() % n_gpus)
    throw InputError(fmt::format("placement: {} expert slots do not split over {} GPUs", phy2log.size(), n_gpus));
  if (n_gpus > gpus_per_node && n_gpus % gpus_per_node)
    throw InputError(fmt::format("placement: {} GPUs are not whole nodes of {}", n_gpus, gpus_per_node));
  Placement p;
  p.n_experts = n_experts;
  p.n_gpus = n_gpus;
  p.gpus_per_node = std::min(gpus_per_node, n_gpus);
  p.slots_per_gpu = static_cast<int>(phy2log.size()) / n_gpus;
  p.phy2log = phy2log;
  p.log2phy.assign(n_experts, {});
  for (size_t s = 0; s < phy2log.size(); ++s) {
    if (phy2log[s] < 0 || phy2log[s] >= n_experts)
      throw InputError(fmt::format("placement: slot {} holds expert {}, outside 0..{}", s, phy2log[s], n_experts - 1));
    p.log2phy[phy2log[s]].push_back(static_cast<int>(s));
  }
  for (int e = 0; e < n_experts; ++e)
    if (p.log2phy[e].empty()) throw InputError(fmt::format("placement: expert {} has no slot", e));
  return p;
}

Placement Placement::contiguous(int n_experts, int n_gpus, int gpus_per_node) {
  if (n_gpus <= 0 || n_experts % n_gpus)
    throw InputError(fmt::format("placement: {} experts do not split evenly over {} GPUs", n_experts, n_gpus));
  std::vector<int> phy2log(n_experts);
  for (int e = 0; e < n_experts; ++e) phy2log[e] = e;
  return from_phy2log(phy2log, n_experts, n_gpus, gpus_per_node);
}

}  // namespace dsv3::sim::routing
