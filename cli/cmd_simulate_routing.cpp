// dsv3 simulate routing: token-level routing of every (sampled) MoE layer under a routing model,
// the per-GPU load, the all-to-all from DeepEP's two-hop path, the imbalance and its cost, the
// aux-loss-free bias controller against no balancing, and an SVG expert-load heatmap.
//   dsv3 simulate routing --routing model=zipf --routing s=1.1 --ep 64 --tokens-per-gpu 4096
//     --bias-steps 200 --svg load.svg --format json
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "model/config.hpp"
#include "model/errors.hpp"
#include "model/moe_gate.hpp"
#include "reports/svg_heatmap.hpp"
#include "sim/routing/bias_controller.hpp"
#include "sim/routing/moe_layer.hpp"

namespace dsv3::cli {
namespace {

namespace routing = dsv3::sim::routing;

struct RoutingArgs {
  std::vector<std::string> sets;
  std::string config, svg, format = "text", links;
  int ep = 64, gpus_per_node = 8, comm_sms = 20, bias_steps = 0, micro_batches = 4;
  int64_t tokens_per_gpu = 4096;
  bool low_latency = false;
};

void run(const RoutingArgs& a) {
  routing::MoeRoutingSetup s;
  s.config = a.config.empty() ? model::ModelConfig::deepseek_v3() : model::ModelConfig::load(a.config);
  s.ep_gpus = a.ep;
  s.gpus_per_node = a.gpus_per_node;
  s.tokens_per_gpu = a.tokens_per_gpu;
  s.comm_sms = a.comm_sms;
  s.low_latency = a.low_latency;
  s.spec.layers_sampled = 8;
  for (const auto& kv : a.sets) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw InputError(fmt::format("--routing {}: expected KEY=VALUE", kv));
    s.spec.set(kv.substr(0, eq), kv.substr(eq + 1), "--routing");
  }
  if (s.spec.model == routing::PopularityKind::Measured && s.spec.load_file.empty())
    throw InputError("--routing: model=measured needs load_file=FILE");
  if (a.ep > a.gpus_per_node && a.ep % a.gpus_per_node)
    throw InputError(fmt::format("--ep {}: not whole nodes of --gpus-per-node {}", a.ep, a.gpus_per_node));
  const auto links = routing::LinkModel::load(a.links);
  const auto r = routing::simulate_moe_routing(
      s, links, routing::roofline_grouped_gemm(s.config.hidden_size, s.config.moe_intermediate_size, links.grouped_gemm_tflops));

  // The bias controller on the first sampled layer, from the same routing model.
  routing::BiasComparison bias;
  const bool run_bias = a.bias_steps > 0;
  if (run_bias) {
    const model::GateParams gate = model::GateParams::from_config(s.config);
    const routing::PopularityModel pop(s.spec, static_cast<int>(s.config.num_moe_layers()), gate.n_experts);
    routing::BiasOptions bo;
    bo.layer = r.sampled_layers.front();
    bo.steps = a.bias_steps;
    bo.micro_batches = a.micro_batches;
    bo.tokens_per_step = std::max<int64_t>(a.micro_batches, (a.tokens_per_gpu * a.ep) / a.micro_batches * a.micro_batches);
    bo.gamma = s.spec.bias_gamma;
    bo.seed = s.spec.seed;
    bias = routing::simulate_bias_controller(gate, pop, bo);
  }

  const double cost = r.mean_time_s / r.mean_balanced_time_s - 1.0;
  if (!a.svg.empty()) {
    reports::Heatmap h;
    h.title = fmt::format("Tokens per GPU, {} routing, EP{}", s.spec.model_name(), a.ep);
    h.x_label = "GPU (EP rank)";
    h.y_label = "MoE layer";
    h.value_label = "token-expert pairs";
    h.center_on_mean = true;
    for (const auto& L : r.layers) {
      h.values.emplace_back(L.gpu_tokens.begin(), L.gpu_tokens.end());
      h.row_names.push_back(std::to_string(L.layer));
    }
    h.caption = fmt::format(
        "{} | {} tokens per GPU per micro-batch, {} GPUs per node, {} slots per GPU\n"
        "mean max/mean GPU load {:.3f}; MoE layer time {:.3f} ms vs {:.3f} ms balanced ({:+.1f}%)",
        s.spec.describe(), a.tokens_per_gpu, a.gpus_per_node, r.slots_per_gpu, r.mean_imbalance, r.mean_time_s * 1e3,
        r.mean_balanced_time_s * 1e3, 100 * cost);
    std::ofstream out(a.svg);
    if (!out) throw InputError(fmt::format("{}: cannot write the SVG file", a.svg));
    out << reports::heatmap_svg(h);
  }

  if (a.format == "json") {
    nlohmann::json j;
    j["routing"] = s.spec.describe();
    j["ep"] = a.ep;
    j["gpus_per_node"] = a.gpus_per_node;
    j["tokens_per_gpu"] = a.tokens_per_gpu;
    j["slots_per_gpu"] = r.slots_per_gpu;
    j["moe_layers"] = r.n_moe_layers;
    j["sampled_layers"] = r.sampled_layers;
    j["mean_imbalance"] = r.mean_imbalance;
    j["moe_layer_time_s"] = r.mean_time_s;
    j["moe_layer_time_balanced_s"] = r.mean_balanced_time_s;
    j["imbalance_cost"] = cost;
    for (const auto& L : r.layers)
      j["layers"].push_back({{"layer", L.layer},
                             {"imbalance", L.imbalance},
                             {"expert_max_vio", L.max_vio_experts},
                             {"gemm_s", L.gemm_s},
                             {"dispatch_s", L.dispatch.seconds},
                             {"combine_s", L.combine.seconds},
                             {"dispatch_bottleneck", L.dispatch.bottleneck},
                             {"time_s", L.time_s},
                             {"balanced_time_s", L.balanced_time_s},
                             {"max_nodes_per_token", L.max_nodes_per_token},
                             {"mean_nodes_per_token", L.mean_nodes_per_token},
                             {"gpu_tokens", L.gpu_tokens}});
    if (run_bias) {
      j["bias_controller"] = {{"gamma", bias.gamma},
                              {"layer", r.sampled_layers.front()},
                              {"tokens_per_step", bias.tokens_per_step},
                              {"micro_batches", bias.micro_batches},
                              {"maxvio_batch", bias.with_controller.maxvio_batch},
                              {"maxvio_micro", bias.with_controller.maxvio_micro},
                              {"maxvio_batch_no_balancing", bias.without.maxvio_batch},
                              {"maxvio_micro_no_balancing", bias.without.maxvio_micro}};
    }
    for (const auto& c : r.calibration) j["calibration"][c.name] = {{"value", c.value}, {"source", c.source}};
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("routing: {}\nEP{} ({} GPUs per node), {} tokens per GPU, {} slots per GPU, {} of {} MoE layers sampled\n",
             s.spec.describe(), a.ep, a.gpus_per_node, a.tokens_per_gpu, r.slots_per_gpu, r.layers.size(), r.n_moe_layers);
  fmt::print("{:>5} {:>9} {:>9} {:>9} {:>11} {:>10} {:>9} {:>11} {:>6}\n", "layer", "max/mean", "gemm ms", "disp ms",
             "combine ms", "layer ms", "bal. ms", "bottleneck", "nodes");
  for (const auto& L : r.layers)
    fmt::print("{:>5} {:>9.3f} {:>9.3f} {:>9.3f} {:>11.3f} {:>10.3f} {:>9.3f} {:>11} {:>6}\n", L.layer, L.imbalance,
               L.gemm_s * 1e3, L.dispatch.seconds * 1e3, L.combine.seconds * 1e3, L.time_s * 1e3, L.balanced_time_s * 1e3,
               L.dispatch.bottleneck, L.max_nodes_per_token);
  fmt::print("mean max/mean GPU load {:.3f}; MoE layer {:.3f} ms vs {:.3f} ms balanced: imbalance costs {:+.1f}%\n",
             r.mean_imbalance, r.mean_time_s * 1e3, r.mean_balanced_time_s * 1e3, 100 * cost);
  if (run_bias) {
    fmt::print("bias controller (gamma {}), layer {}, {} tokens per step in {} micro-batches: MaxVio per step\n", bias.gamma,
               r.sampled_layers.front(), bias.tokens_per_step, bias.micro_batches);
    fmt::print("{:>6} {:>12} {:>12} {:>14} {:>14}\n", "step", "batch", "micro-batch", "batch, off", "micro, off");
    const int n = static_cast<int>(bias.with_controller.maxvio_batch.size());
    for (int i = 0; i < n; i += std::max(1, n / 20))
      fmt::print("{:>6} {:>12.3f} {:>12.3f} {:>14.3f} {:>14.3f}\n", i, bias.with_controller.maxvio_batch[i],
                 bias.with_controller.maxvio_micro[i], bias.without.maxvio_batch[i], bias.without.maxvio_micro[i]);
  }
  fmt::print("calibration:\n");
  for (const auto& c : r.calibration) fmt::print("  {} = {} ({})\n", c.name, c.value, c.source);
}

const Registrar reg(901, [](CLI::App& root) {
  CLI::App* simulate = root.get_subcommand("simulate");  // cli/cmd_simulate.cpp, registered first
  auto a = std::make_shared<RoutingArgs>();
  CLI::App* cmd = simulate->add_subcommand("routing", "Token-level MoE routing: per-GPU load, all-to-all, imbalance cost, bias controller");
  cmd->add_option("--routing", a->sets, "KEY=VALUE of the routing section (model, s, alpha, drift_sigma, drift_base, "
                                        "load_file, bias_gamma, eplb_redundant_experts, eplb_policy, layers_sampled, seed)");
  cmd->add_option("--config", a->config, "model config.json (default: the bundled DeepSeek-V3)");
  cmd->add_option("--ep", a->ep, "EP GPUs (default 64)");
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "GPUs per node (default 8)");
  cmd->add_option("--tokens-per-gpu", a->tokens_per_gpu, "tokens per GPU per micro-batch (default 4096)");
  cmd->add_option("--comm-sms", a->comm_sms, "SMs of the communication kernels (default 20)");
  cmd->add_flag("--low-latency", a->low_latency, "decode kernels: direct per-expert sends instead of the two-hop path");
  cmd->add_option("--bias-steps", a->bias_steps, "steps of the aux-loss-free bias controller vs no balancing (default 0: off)");
  cmd->add_option("--micro-batches", a->micro_batches, "micro-batches per step for the per-micro-batch MaxVio (default 4)");
  cmd->add_option("--links", a->links, "link-model file (default: sim/routing/deepep_h800.yaml)");
  cmd->add_option("--svg", a->svg, "write the per-layer x per-GPU load heatmap here");
  cmd->add_option("--format", a->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([a] { run(*a); });
});

}  // namespace
}  // namespace dsv3::cli
