#include "sim/routing/routing_h5.hpp"

#include "reports/h5_file.hpp"

namespace dsv3::sim::routing {

void write_routing_group(hid_t file, const MoeRoutingResult& r) {
  namespace h5 = dsv3::reports::h5;
  h5::Handle g = h5::ensure_group(file, "routing");
  h5::set_attr(g.id(), "routing", r.routing);
  h5::set_attr(g.id(), "ep", static_cast<int64_t>(r.ep));
  h5::set_attr(g.id(), "gpus_per_node", static_cast<int64_t>(r.gpus_per_node));
  h5::set_attr(g.id(), "tokens_per_gpu", r.tokens_per_gpu);
  h5::set_attr(g.id(), "slots_per_gpu", static_cast<int64_t>(r.slots_per_gpu));
  h5::set_attr(g.id(), "moe_layers", static_cast<int64_t>(r.n_moe_layers));
  h5::set_attr(g.id(), "mean_imbalance", r.mean_imbalance);
  h5::set_attr(g.id(), "moe_layer_time_s", r.mean_time_s);
  h5::set_attr(g.id(), "moe_layer_time_balanced_s", r.mean_balanced_time_s);
  h5::set_attr(g.id(), "imbalance_cost", r.mean_balanced_time_s > 0 ? r.mean_time_s / r.mean_balanced_time_s - 1 : 0.0);
  const size_t L = r.layers.size();
  if (L == 0) return;
  const size_t G = r.layers[0].gpu_tokens.size(), E = r.layers[0].expert_tokens.size();
  std::vector<double> gpu, expert, links(G * G, 0.0);
  std::vector<int64_t> idx;
  std::vector<double> imb, t, tb, disp, comb, gemm;
  for (const auto& x : r.layers) {
    idx.push_back(x.layer);
    gpu.insert(gpu.end(), x.gpu_tokens.begin(), x.gpu_tokens.end());
    expert.insert(expert.end(), x.expert_tokens.begin(), x.expert_tokens.end());
    for (size_t i = 0; i < links.size() && i < x.dispatch_hops.size(); ++i) links[i] += x.dispatch_hops[i];
    imb.push_back(x.imbalance);
    t.push_back(x.time_s);
    tb.push_back(x.balanced_time_s);
    disp.push_back(x.dispatch.seconds);
    comb.push_back(x.combine.seconds);
    gemm.push_back(x.gemm_s);
  }
  h5::write_column(g.id(), "layers", idx);
  h5::write_matrix(g.id(), "gpu_load", gpu, L, G);
  h5::write_matrix(g.id(), "expert_load", expert, L, E);
  h5::write_matrix(g.id(), "dispatch_link_bytes", links, G, G);
  h5::write_column(g.id(), "imbalance", imb);
  h5::write_column(g.id(), "layer_time_s", t);
  h5::write_column(g.id(), "layer_time_balanced_s", tb);
  h5::write_column(g.id(), "dispatch_s", disp);
  h5::write_column(g.id(), "combine_s", comb);
  h5::write_column(g.id(), "gemm_s", gemm);
}

}  // namespace dsv3::sim::routing
