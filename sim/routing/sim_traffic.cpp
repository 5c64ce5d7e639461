#include "sim/routing/sim_traffic.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>

#include "model/errors.hpp"

namespace dsv3::sim::routing {

MoeRoutingResult route_plan(const model::ModelConfig& cfg, const RoutingSpec& spec_in, int ep, int gpus_per_node,
                            int64_t tokens_per_rank, int comm_sms, const std::string& base_dir) {
  MoeRoutingSetup s;
  s.config = cfg;
  s.spec = spec_in;
  if (s.spec.model == PopularityKind::Measured && s.spec.load_file.empty())
    throw InputError("routing.load_file: required with routing.model: measured");
  if (!s.spec.load_file.empty() && !base_dir.empty() && std::filesystem::path(s.spec.load_file).is_relative() &&
      !std::filesystem::exists(s.spec.load_file))
    s.spec.load_file = (std::filesystem::path(base_dir) / s.spec.load_file).string();
  s.ep_gpus = ep;
  s.gpus_per_node = std::min(gpus_per_node, ep);
  s.tokens_per_gpu = std::max<int64_t>(1, std::min<int64_t>(tokens_per_rank, s.spec.tokens_per_gpu_cap));
  s.comm_sms = comm_sms > 0 ? comm_sms : 20;
  const LinkModel links = LinkModel::load();
  return simulate_moe_routing(s, links,
                              roofline_grouped_gemm(cfg.hidden_size, cfg.moe_intermediate_size, links.grouped_gemm_tflops));
}

MoeLayerTraffic to_moe_layer_traffic(const MoeRoutingResult& r, int layer_index, double scale, const std::string& source) {
  const MoeLayerResult& L = r.layers.at(static_cast<size_t>(layer_index));
  const int ep = r.ep;
  MoeLayerTraffic t;
  t.ep = ep;
  t.gpus_per_node = std::min(r.gpus_per_node, ep);
  t.local_experts = r.slots_per_gpu;
  for (int64_t x : L.gpu_tokens) t.expert_rows.push_back(static_cast<double>(x) * scale);
  t.ib_tokens.assign(static_cast<size_t>(ep) * ep, 0.0);
  t.nvlink_tokens.assign(static_cast<size_t>(ep) * ep, 0.0);
  // dispatch_hops holds bytes of the two-hop path; one token copy is dispatch_per_token bytes.
  TrafficBytes b;
  b.hidden = r.hidden;
  const double per = b.dispatch_per_token();
  for (int s = 0; s < ep; ++s)
    for (int d = 0; d < ep; ++d) {
      const double copies = L.dispatch_hops[static_cast<size_t>(s) * ep + d] / per * scale;
      if (copies == 0) continue;
      if (s / t.gpus_per_node == d / t.gpus_per_node)
        t.nvlink_tokens[static_cast<size_t>(s) * ep + d] = copies;
      else
        t.ib_tokens[static_cast<size_t>(s) * ep + d] = copies;
    }
  t.source = source;
  return t;
}

}  // namespace dsv3::sim::routing
