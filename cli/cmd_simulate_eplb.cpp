// dsv3 simulate eplb: DeepSeek's expert-parallelism load balancer on a load matrix.
//   dsv3 simulate eplb --weights FILE.json --replicas N --groups G --nodes M --gpus K [--format json]
// FILE.json is a layers x experts array of loads. Prints phy2log, log2phy, logcnt and the
// per-GPU loads before (contiguous layout, no replicas) and after balancing.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "model/errors.hpp"
#include "sim/routing/eplb.hpp"

namespace dsv3::cli {
namespace {

namespace routing = dsv3::sim::routing;

struct EplbArgs {
  std::string weights, format = "text";
  int replicas = 0, groups = 0, nodes = 0, gpus = 0;
};

routing::LoadMatrix read_weights(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open the weights file", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(fmt::format("{}: not valid JSON ({})", path, e.what()));
  }
  if (!j.is_array() || j.empty())
    throw InputError(fmt::format("{}: expected a non-empty layers x experts array of loads", path));
  routing::LoadMatrix w;
  for (size_t l = 0; l < j.size(); ++l) {
    if (!j[l].is_array() || j[l].empty())
      throw InputError(fmt::format("{}: [{}] must be a non-empty array of expert loads", path, l));
    std::vector<double> row;
    for (size_t e = 0; e < j[l].size(); ++e) {
      if (!j[l][e].is_number() || j[l][e].get<double>() < 0)
        throw InputError(fmt::format("{}: [{}][{}] must be a non-negative number", path, l, e));
      row.push_back(j[l][e].get<double>());
    }
    if (l > 0 && row.size() != w[0].size())
      throw InputError(fmt::format("{}: [{}] has {} experts, [0] has {}", path, l, row.size(), w[0].size()));
    w.push_back(std::move(row));
  }
  return w;
}

void run(const EplbArgs& a) {
  const routing::LoadMatrix w = read_weights(a.weights);
  const routing::EplbResult r = routing::rebalance_experts(w, a.replicas, a.groups, a.nodes, a.gpus);
  const auto after = routing::gpu_loads(r, w);
  std::vector<std::vector<double>> before;
  const bool have_before = r.num_logical % a.gpus == 0;
  if (have_before) before = routing::contiguous_gpu_loads(w, a.gpus);

  if (a.format == "json") {
    nlohmann::json j;
    j["policy"] = r.hierarchical ? "hierarchical" : "global";
    j["phy2log"] = r.phy2log;
    j["log2phy"] = r.log2phy;
    j["logcnt"] = r.logcnt;
    j["gpu_loads"] = after;
    nlohmann::json mm_after = nlohmann::json::array(), mm_before = nlohmann::json::array();
    for (const auto& g : after) mm_after.push_back(routing::max_over_mean(g));
    j["max_over_mean"]["after"] = mm_after;
    if (have_before) {
      j["gpu_loads_before"] = before;
      for (const auto& g : before) mm_before.push_back(routing::max_over_mean(g));
      j["max_over_mean"]["before"] = mm_before;
    } else {
      j["gpu_loads_before"] = nullptr;
      j["max_over_mean"]["before"] = nullptr;
    }
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("EPLB ({} policy): {} layers, {} experts -> {} replicas on {} GPUs in {} nodes\n",
             r.hierarchical ? "hierarchical" : "global", r.num_layers, r.num_logical, r.num_physical, r.num_gpus,
             r.num_nodes);
  for (int l = 0; l < r.num_layers; ++l) {
    fmt::print("layer {}\n  phy2log   {}\n  logcnt    {}\n  gpu loads {}\n", l, r.phy2log[l], r.logcnt[l], after[l]);
    if (have_before)
      fmt::print("  max/mean GPU load: {:.3f} before (contiguous, no replicas), {:.3f} after\n",
                 routing::max_over_mean(before[l]), routing::max_over_mean(after[l]));
    else
      fmt::print("  max/mean GPU load: {:.3f} after\n", routing::max_over_mean(after[l]));
  }
}

// Adds "eplb" under "simulate" (the subcommand of cli/cmd_simulate.cpp, registered with a
// lower order).
const Registrar reg(900, [](CLI::App& root) {
  CLI::App* simulate = root.get_subcommand("simulate");  // cli/cmd_simulate.cpp, registered first
  auto args = std::make_shared<EplbArgs>();
  CLI::App* cmd = simulate->add_subcommand("eplb", "DeepSeek EPLB: replicate and place experts to balance GPU load");
  cmd->add_option("--weights", args->weights, "JSON file: layers x experts array of expert loads")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--replicas", args->replicas, "physical expert slots (experts + redundant), a multiple of --gpus")
      ->required();
  cmd->add_option("--groups", args->groups, "expert groups")->required();
  cmd->add_option("--nodes", args->nodes, "server nodes")->required();
  cmd->add_option("--gpus", args->gpus, "GPUs (a multiple of --nodes)")->required();
  cmd->add_option("--format", args->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([args] { run(*args); });
});

}  // namespace
}  // namespace dsv3::cli
