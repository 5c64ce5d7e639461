#pragma once
// The `routing:` section of a simulate scenario, e.g.
//   routing: {model: zipf, s: 1.1, bias_gamma: 0.001, eplb_redundant_experts: 32}
// Keys (unknown keys are rejected):
//   model                   balanced | zipf | dirichlet | drift | measured   (default balanced)
//   s                       Zipf exponent of expert popularity (zipf, drift)          default 1.1
//   alpha                   Dirichlet concentration, one draw per layer (dirichlet)   default 1.0
//   drift_sigma             per-step std of each expert's log-popularity random walk   default 0.05
//   drift_base              zipf | dirichlet: the popularity the drift starts from     default zipf
//   load_file               measured: layers x experts counts, CSV or HDF5 (.h5: dataset
//                           expert_load or routing/expert_load, or FILE.h5:/dataset)
//   bias_gamma              aux-loss-free bias update speed; 0 turns the controller off default 0.001
//   bias_steps              steps of the bias controller run before the measured step  default 0
//   eplb_redundant_experts  redundant expert slots placed by EPLB (0: none)            default 0
//   eplb_policy             auto | hierarchical | global                               default auto
//   layers_sampled          MoE layers routed (evenly spaced; 0 = all)                 default 8
//   tokens_per_gpu_cap      in simulate, tokens per GPU routed per layer at most; larger
//                           micro-batches scale the counts (sampling noise of the cap)  default 4096
//   seed                    random seed                                                default 1
#include <cstdint>
#include <string>

namespace YAML {
class Node;
}

namespace dsv3::sim::routing {

enum class PopularityKind { Balanced, Zipf, Dirichlet, Drift, Measured };

struct RoutingSpec {
  PopularityKind model = PopularityKind::Balanced;
  double zipf_s = 1.1;
  double dirichlet_alpha = 1.0;
  double drift_sigma = 0.05;
  PopularityKind drift_base = PopularityKind::Zipf;
  std::string load_file;
  double bias_gamma = 0.001;
  int bias_steps = 0;
  int eplb_redundant_experts = 0;
  std::string eplb_policy = "auto";
  int layers_sampled = 8;
  int64_t tokens_per_gpu_cap = 4096;
  uint64_t seed = 1;

  // Parses the section. `where` names the file (and section) in error messages; relative
  // load_file paths resolve against `base_dir`.
  static RoutingSpec from_yaml(const YAML::Node& node, const std::string& where, const std::string& base_dir = "");
  // Sets one key from a string value (for --set routing.KEY=VALUE).
  void set(const std::string& key, const std::string& value, const std::string& where);
  std::string model_name() const;
  // One line: "zipf(s=1.1), bias_gamma=0.001, eplb_redundant_experts=32".
  std::string describe() const;
};

std::string to_string(PopularityKind k);

}  // namespace dsv3::sim::routing
