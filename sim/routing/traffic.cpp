#include "sim/routing/traffic.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "model/errors.hpp"

namespace dsv3::sim::routing {

PortLoads PortLoads::reversed(double scale) const {
  PortLoads r;
  r.nvl_out = nvl_in, r.nvl_in = nvl_out, r.ib_out = ib_in, r.ib_in = ib_out;
  for (auto* v : {&r.nvl_out, &r.nvl_in, &r.ib_out, &r.ib_in})
    for (double& x : *v) x *= scale;
  return r;
}

LayerTraffic build_traffic(const Placement& pl, const int32_t* experts, int64_t n_tokens, int top_k,
                           int64_t tokens_per_gpu, const TrafficBytes& bytes, A2aPath path) {
  const int G = pl.n_gpus, per_node = pl.gpus_per_node;
  if (tokens_per_gpu <= 0 || n_tokens != tokens_per_gpu * G)
    throw InputError(fmt::format("traffic: {} tokens are not {} per GPU on {} GPUs", n_tokens, tokens_per_gpu, G));
  LayerTraffic tr;
  tr.n_gpus = G;
  tr.path = path;
  tr.slot_tokens.assign(pl.phy2log.size(), 0);
  tr.gpu_tokens.assign(G, 0);
  tr.dispatch_matrix.assign(static_cast<size_t>(G) * G, 0.0);
  tr.dispatch_hops.assign(static_cast<size_t>(G) * G, 0.0);
  tr.dispatch.resize(G);
  tr.deepep_rdma_bytes.assign(G, 0.0);
  tr.deepep_nvl_bytes.assign(G, 0.0);
  const double b = path == A2aPath::TwoHop ? bytes.dispatch_per_token() : bytes.dispatch_ll_per_token();
  const int nodes = pl.nodes();
  std::vector<int64_t> gpu_mark(G, -1), node_mark(nodes, -1);  // last token that hit each
  double node_sum = 0, gpu_sum = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int src = static_cast<int>(t / tokens_per_gpu);
    const int src_node = pl.node_of_gpu(src), src_local = pl.local_index(src);
    int n_gpus_hit = 0, n_nodes_hit = 0;
    for (int k = 0; k < top_k; ++k) {
      const int e = experts[t * top_k + k];
      const auto& reps = pl.log2phy[e];
      const int slot = reps[static_cast<size_t>(t % static_cast<int64_t>(reps.size()))];
      ++tr.slot_tokens[slot];
      const int dst = pl.gpu_of_slot(slot);
      ++tr.gpu_tokens[dst];
      const int dst_node = pl.node_of_gpu(dst);
      if (node_mark[dst_node] != t) {
        node_mark[dst_node] = t;
        ++n_nodes_hit;
        tr.deepep_rdma_bytes[src] += bytes.dispatch_per_token();
        if (path == A2aPath::TwoHop && dst_node != src_node) {
          const int relay = dst_node * per_node + src_local;  // same local index on the destination node
          tr.dispatch.ib_out[src] += b;
          tr.dispatch.ib_in[relay] += b;
          tr.dispatch_hops[static_cast<size_t>(src) * G + relay] += b;
        }
      }
      const bool new_gpu = gpu_mark[dst] != t;
      if (new_gpu) {
        gpu_mark[dst] = t;
        ++n_gpus_hit;
        tr.deepep_nvl_bytes[dst] += bytes.dispatch_per_token();
      }
      if (path == A2aPath::TwoHop) {
        if (!new_gpu) continue;  // one copy per (token, GPU)
        tr.dispatch_matrix[static_cast<size_t>(src) * G + dst] += b;
        const int from = dst_node == src_node ? src : dst_node * per_node + src_local;
        if (from != dst) {
          tr.dispatch.nvl_out[from] += b;
          tr.dispatch.nvl_in[dst] += b;
          tr.dispatch_hops[static_cast<size_t>(from) * G + dst] += b;
        }
      } else {  // one message per (token, expert), straight to the expert's GPU
        tr.dispatch_matrix[static_cast<size_t>(src) * G + dst] += b;
        if (dst == src) continue;
        tr.dispatch_hops[static_cast<size_t>(src) * G + dst] += b;
        if (dst_node == src_node) {
          tr.dispatch.nvl_out[src] += b;
          tr.dispatch.nvl_in[dst] += b;
        } else {
          tr.dispatch.ib_out[src] += b;
          tr.dispatch.ib_in[dst] += b;
        }
      }
    }
    tr.max_nodes_per_token = std::max(tr.max_nodes_per_token, n_nodes_hit);
    node_sum += n_nodes_hit;
    gpu_sum += n_gpus_hit;
  }
  tr.mean_nodes_per_token = node_sum / static_cast<double>(n_tokens);
  tr.mean_gpus_per_token = gpu_sum / static_cast<double>(n_tokens);
  const double scale = bytes.combine_per_token() / b;
  tr.combine = tr.dispatch.reversed(scale);
  return tr;
}

}  // namespace dsv3::sim::routing
