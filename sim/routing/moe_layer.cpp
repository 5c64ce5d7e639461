#include "sim/routing/moe_layer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "model/errors.hpp"
#include "model/moe_gate.hpp"
#include "sim/routing/bias_controller.hpp"
#include "sim/routing/eplb.hpp"
#include "sim/routing/placement.hpp"
#include "sim/routing/popularity.hpp"
#include "sim/routing/router.hpp"

namespace dsv3::sim::routing {

GroupedGemmTime roofline_grouped_gemm(int64_t hidden, int64_t moe_inter, double tflops) {
  return [=](const std::vector<int64_t>& tokens) {
    const double m = static_cast<double>(std::accumulate(tokens.begin(), tokens.end(), int64_t{0}));
    return 2.0 * m * static_cast<double>(hidden) * static_cast<double>(moe_inter) * 3.0 / (tflops * 1e12);
  };
}

namespace {

std::vector<int> sample_layers(int n, int want) {
  std::vector<int> out;
  if (want <= 0 || want >= n) {
    out.resize(n);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int i = 0; i < want; ++i) out.push_back(static_cast<int>((static_cast<int64_t>(i) * n + n / 2) / want) % n);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

double slowest_gemm(const Placement& pl, const std::vector<int64_t>& slot_tokens, const GroupedGemmTime& gemm,
                    std::vector<double>* per_gpu = nullptr) {
  double worst = 0;
  std::vector<int64_t> local(pl.slots_per_gpu);
  for (int g = 0; g < pl.n_gpus; ++g) {
    std::copy(slot_tokens.begin() + g * pl.slots_per_gpu, slot_tokens.begin() + (g + 1) * pl.slots_per_gpu, local.begin());
    const double t = gemm(local);
    if (per_gpu) per_gpu->push_back(t);
    worst = std::max(worst, t);
  }
  return worst;
}

}  // namespace

int MoeRoutingResult::median_layer_index() const {
  std::vector<int> idx(layers.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](int a, int b) { return layers[a].time_s < layers[b].time_s; });
  return idx.empty() ? -1 : idx[idx.size() / 2];
}

MoeRoutingResult simulate_moe_routing(const MoeRoutingSetup& s, const LinkModel& links, const GroupedGemmTime& gemm) {
  const auto& c = s.config;
  const model::GateParams gate = model::GateParams::from_config(c);
  const int E = gate.n_experts, k = gate.top_k, G = s.ep_gpus;
  if (G <= 0 || s.tokens_per_gpu <= 0) throw InputError("routing: EP size and tokens per GPU must be positive");
  const int n_moe = static_cast<int>(c.num_moe_layers());
  if (n_moe <= 0) throw InputError(fmt::format("{}: the model has no MoE layers", c.source));
  const int slots = E + s.spec.eplb_redundant_experts;
  if (slots % G)
    throw InputError(fmt::format(
        "routing.eplb_redundant_experts: {} routed + {} redundant experts do not split evenly over {} EP GPUs", E,
        s.spec.eplb_redundant_experts, G));
  const int nodes = std::max(1, G / s.gpus_per_node);

  MoeRoutingResult out;
  out.n_moe_layers = n_moe;
  out.sampled_layers = sample_layers(n_moe, s.spec.layers_sampled);
  out.slots_per_gpu = slots / G;
  out.calibration = links.constants;
  out.routing = s.spec.describe();
  out.ep = G;
  out.gpus_per_node = s.gpus_per_node;
  out.tokens_per_gpu = s.tokens_per_gpu;
  out.hidden = c.hidden_size;
  const PopularityModel pop(s.spec, n_moe, E);
  const int64_t T = s.tokens_per_gpu * G;
  TrafficBytes bytes;
  bytes.hidden = c.hidden_size;

  // Balanced reference: every GPU gets the mean number of token-expert pairs, spread over its slots,
  // and the same all-to-all pattern scaled to the mean port load.
  for (int layer : out.sampled_layers) {
    // Bias: run the aux-loss-free controller first when asked.
    std::vector<float> bias;
    if (s.spec.bias_steps > 0 && s.spec.bias_gamma > 0) {
      BiasOptions bo;
      bo.layer = layer;
      bo.steps = s.spec.bias_steps;
      bo.tokens_per_step = std::min<int64_t>(T, 16384);
      bo.micro_batches = 1;
      bo.gamma = s.spec.bias_gamma;
      bo.seed = s.spec.seed;
      bias = simulate_bias_controller(gate, pop, bo).with_controller.final_bias;
    }
    const auto p = pop.at(layer, s.spec.bias_steps);
    // Placement: contiguous, or EPLB on the expected loads (a perfect load predictor).
    Placement pl;
    if (s.spec.eplb_redundant_experts > 0) {
      LoadMatrix w(1, std::vector<double>(E));
      for (int e = 0; e < E; ++e) w[0][e] = p[e] * static_cast<double>(T * k);
      int groups = gate.n_group, eplb_nodes = nodes;
      if (s.spec.eplb_policy == "global") groups = 1, eplb_nodes = 1;
      if (s.spec.eplb_policy == "hierarchical" && groups % eplb_nodes)
        throw InputError(fmt::format("routing.eplb_policy: hierarchical needs the {} expert groups to divide over {} nodes",
                                     groups, eplb_nodes));
      const auto r = rebalance_experts(w, slots, groups, eplb_nodes, G);
      out.eplb_hierarchical = r.hierarchical && eplb_nodes > 1;
      pl = Placement::from_phy2log(r.phy2log[0], E, G, s.gpus_per_node);
    } else {
      pl = Placement::contiguous(E, G, s.gpus_per_node);
    }
    std::vector<int32_t> experts;
    route_tokens(gate, p, bias, rng_key(s.spec.seed, 0x1a7e, layer, s.spec.bias_steps), T, experts);
    const auto tr = build_traffic(pl, experts.data(), T, k, s.tokens_per_gpu, bytes,
                                  s.low_latency ? A2aPath::Direct : A2aPath::TwoHop);
    MoeLayerResult L;
    L.layer = layer;
    L.gpu_tokens = tr.gpu_tokens;
    L.slot_tokens = tr.slot_tokens;
    const double mean_tokens = static_cast<double>(T * k) / G;
    L.imbalance = *std::max_element(tr.gpu_tokens.begin(), tr.gpu_tokens.end()) / mean_tokens;
    L.expert_tokens = expert_counts(experts, E);
    L.max_vio_experts = max_vio(L.expert_tokens);
    L.max_nodes_per_token = tr.max_nodes_per_token;
    L.mean_nodes_per_token = tr.mean_nodes_per_token;
    L.dispatch_hops = tr.dispatch_hops;
    L.gemm_s = slowest_gemm(pl, tr.slot_tokens, gemm);
    const std::vector<int64_t> even(pl.slots_per_gpu, static_cast<int64_t>(mean_tokens / pl.slots_per_gpu + 0.5));
    L.gemm_balanced_s = gemm(even);
    L.dispatch = comm_time(tr.dispatch, links, s.comm_sms, s.low_latency);
    L.combine = comm_time(tr.combine, links, s.comm_sms, s.low_latency);
    // Balanced all-to-all: every port carries the mean load of its kind.
    auto flatten = [](const PortLoads& pl_) {
      PortLoads m = pl_;
      for (auto* v : {&m.nvl_out, &m.nvl_in, &m.ib_out, &m.ib_in}) {
        const double avg = std::accumulate(v->begin(), v->end(), 0.0) / static_cast<double>(v->size());
        std::fill(v->begin(), v->end(), avg);
      }
      return m;
    };
    L.dispatch_balanced_s = comm_time(flatten(tr.dispatch), links, s.comm_sms, s.low_latency).seconds;
    L.combine_balanced_s = comm_time(flatten(tr.combine), links, s.comm_sms, s.low_latency).seconds;
    L.time_s = L.gemm_s + L.dispatch.seconds + L.combine.seconds;
    L.balanced_time_s = L.gemm_balanced_s + L.dispatch_balanced_s + L.combine_balanced_s;
    out.layers.push_back(std::move(L));
  }
  double imb = 0, t = 0, tb = 0;
  for (const auto& L : out.layers) imb += L.imbalance, t += L.time_s, tb += L.balanced_time_s;
  const double n = static_cast<double>(out.layers.size());
  out.mean_imbalance = imb / n;
  out.mean_time_s = t / n;
  out.mean_balanced_time_s = tb / n;
  return out;
}

}  // namespace dsv3::sim::routing
