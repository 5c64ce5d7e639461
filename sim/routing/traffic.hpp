#pragma once
// All-to-all traffic of one MoE layer from the routing assignment.
//
// Normal (training/prefill) kernels follow DeepEP's two-hop path (TR §3.2.2): a token goes once
// over IB to each destination node, to the GPU with the source's local index there, which
// forwards it over NVLink to the destination GPUs of that node; inside the source's own node it
// goes over NVLink directly. One copy per (token, destination GPU), whatever the number of its
// experts there. Low-latency (decode) kernels send one message per (token, expert) straight to
// the expert's GPU: NVLink inside the node, IB across nodes.
//
// Bytes per token as DeepEP counts them: dispatch FP8 = hidden * (1 + 4/128) (the E4M3 payload
// plus one float scale per 128 channels: 7392 B at hidden 7168); low-latency FP8 adds 16 B of
// metadata (7408 B); combine BF16 = hidden * 2 (14336 B). Combine runs the dispatch path in
// reverse, so its link loads are the dispatch loads transposed and scaled.
#include <cstdint>
#include <vector>

#include "sim/routing/placement.hpp"

namespace dsv3::sim::routing {

enum class A2aPath { TwoHop, Direct };

struct TrafficBytes {
  int64_t hidden = 7168;
  double dispatch_per_token() const { return static_cast<double>(hidden) * (1.0 + 4.0 / 128.0); }
  double dispatch_ll_per_token() const { return dispatch_per_token() + 16.0; }
  double combine_per_token() const { return static_cast<double>(hidden) * 2.0; }
};

// Bytes through each GPU's ports. NVLink and IB are full duplex: out and in are separate.
struct PortLoads {
  std::vector<double> nvl_out, nvl_in, ib_out, ib_in;
  void resize(int n) { nvl_out.assign(n, 0); nvl_in.assign(n, 0); ib_out.assign(n, 0); ib_in.assign(n, 0); }
  // The reverse direction (combine from dispatch) with every byte scaled by `scale`.
  PortLoads reversed(double scale) const;
};

struct LayerTraffic {
  int n_gpus = 0;
  A2aPath path = A2aPath::TwoHop;
  std::vector<int64_t> slot_tokens;      // tokens computed by each physical expert slot
  std::vector<int64_t> gpu_tokens;       // token-expert pairs computed per GPU (grouped GEMM rows)
  std::vector<double> dispatch_matrix;   // [src * n + dst] logical dispatch bytes (src == dst: local)
  std::vector<double> dispatch_hops;     // [from * n + to] bytes over each physical hop (IB or NVLink)
  PortLoads dispatch, combine;           // per-GPU port bytes
  std::vector<double> deepep_rdma_bytes; // per source GPU: (token, node) pairs x bytes, own node included
  std::vector<double> deepep_nvl_bytes;  // per destination GPU: tokens received x bytes
  int max_nodes_per_token = 0;
  double mean_nodes_per_token = 0;
  double mean_gpus_per_token = 0;
};

// experts: [n_tokens, top_k] logical expert ids; token t comes from GPU t / tokens_per_gpu.
// A token's expert with several replicas uses replica (t mod count).
LayerTraffic build_traffic(const Placement& pl, const int32_t* experts, int64_t n_tokens, int top_k,
                           int64_t tokens_per_gpu, const TrafficBytes& bytes, A2aPath path);

}  // namespace dsv3::sim::routing
