#include "sim/scenario.hpp"

#include <fmt/core.h>

#include <cmath>
#include <functional>
#include <map>

#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "sim/yaml_fields.hpp"

namespace dsv3::sim {

const char* to_string(Schedule s) {
  switch (s) {
    case Schedule::DualPipe: return "dualpipe";
    case Schedule::OneFOneB: return "1f1b";
    case Schedule::ZB1P: return "zb1p";
  }
  return "?";
}

namespace {

[[noreturn]] void bad(const std::string& origin, const std::string& key, const std::string& what) {
  throw InputError(fmt::format("{}: key '{}': {}", origin, key, what));
}

double num(const std::string& origin, const std::string& key, const std::string& v) {
  return parse_number(v, origin, key);
}

int64_t integer(const std::string& origin, const std::string& key, const std::string& v, int64_t min) {
  double d = num(origin, key, v);
  if (std::floor(d) != d || std::fabs(d) > 9e15) bad(origin, key, fmt::format("expected an integer, got '{}'", v));
  if (d < static_cast<double>(min)) bad(origin, key, fmt::format("must be at least {}, got {}", min, v));
  return static_cast<int64_t>(d);
}

double positive(const std::string& origin, const std::string& key, const std::string& v) {
  double d = num(origin, key, v);
  if (!(d > 0)) bad(origin, key, fmt::format("must be positive, got {}", v));
  return d;
}

bool boolean(const std::string& origin, const std::string& key, const std::string& v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  bad(origin, key, fmt::format("expected true or false, got '{}'", v));
}

Schedule schedule(const std::string& origin, const std::string& key, const std::string& v) {
  if (v == "dualpipe") return Schedule::DualPipe;
  if (v == "1f1b") return Schedule::OneFOneB;
  if (v == "zb1p") return Schedule::ZB1P;
  bad(origin, key, fmt::format("expected dualpipe, 1f1b or zb1p, got '{}'", v));
}

using Setter = std::function<void(Scenario&, const std::string& origin, const std::string& key, const std::string& v)>;
struct KeyDef {
  std::string help;
  Setter set;
};

const std::map<std::string, KeyDef>& top_keys() {
  static const std::map<std::string, KeyDef> k = {
      {"name", {"a title for the scenario", [](Scenario& s, auto&, auto&, auto& v) { s.name = v; }}},
      {"model.config",
       {"the model's config.json (file or folder; relative paths from the source tree)",
        [](Scenario& s, auto&, auto&, auto& v) { s.model_config = v; }}},
      {"model.mtp",
       {"true: the MTP module(s) of the config run in every step (DeepSeek-V3 trained with MTP depth 1)",
        [](Scenario& s, auto& o, auto& k, auto& v) { s.mtp = boolean(o, k, v); }}},
      {"hardware.profile",
       {"GPU profile: h800, h100, h200, h20, a100, b200 (sim/hardware/<id>.yaml) or a .yaml path",
        [](Scenario& s, auto&, auto&, auto& v) { s.hardware = v; }}},
      {"hardware.gpus", {"GPUs in the cluster", [](Scenario& s, auto& o, auto& k, auto& v) { s.gpus = integer(o, k, v, 1); }}},
      {"hardware.usd_per_gpu_hour",
       {"price per GPU-hour in USD (default: the profile's)",
        [](Scenario& s, auto& o, auto& k, auto& v) { s.usd_per_gpu_hour = positive(o, k, v); }}},
      {"calibration",
       {"kernel calibration table: h800 (sim/calibration/<id>.yaml) or a .yaml path",
        [](Scenario& s, auto&, auto&, auto& v) { s.calibration = v; }}},
      {"precision",
       {"fp8 (FP8 GEMMs as in the TR) or bf16 (the BF16 baseline)",
        [](Scenario& s, auto& o, auto& k, auto& v) {
          if (v == "fp8") s.precision = Precision::FP8;
          else if (v == "bf16") s.precision = Precision::BF16;
          else bad(o, k, fmt::format("expected fp8 or bf16, got '{}'", v));
        }}},
      {"parallel.pp", {"pipeline-parallel stages", [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.pp = integer(o, k, v, 1); }}},
      {"parallel.ep", {"expert-parallel ranks (routed experts spread over them)",
                       [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.ep = integer(o, k, v, 1); }}},
      {"parallel.tp", {"tensor-parallel ranks inside a node (1: off, as in DeepSeek-V3 training)",
                       [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.tp = integer(o, k, v, 1); }}},
      {"parallel.cp", {"context-parallel ranks splitting each sequence (1: off)",
                       [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.cp = integer(o, k, v, 1); }}},
      {"parallel.zero", {"ZeRO stage: 1 shards the optimizer states over data parallelism, 0 does not",
                         [](Scenario& s, auto& o, auto& k, auto& v) {
                           s.parallel.zero = integer(o, k, v, 0);
                           if (s.parallel.zero > 1) bad(o, k, "only ZeRO stages 0 and 1 are modelled");
                         }}},
      {"parallel.comm_sms", {"SMs held by the all-to-all kernels (compute gets the rest)",
                             [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.comm_sms = integer(o, k, v, 0); }}},
      {"parallel.schedule", {"pipeline schedule: dualpipe, 1f1b or zb1p",
                             [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.schedule = schedule(o, k, v); }}},
      {"parallel.dp", {"data-parallel degree; when given, the cluster is PP x TP x CP x DP GPUs (it replaces hardware.gpus)",
                       [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.dp = integer(o, k, v, 1); }}},
      {"parallel.micro_batch", {"sequences per micro-batch",
                                [](Scenario& s, auto& o, auto& k, auto& v) { s.parallel.micro_batch = integer(o, k, v, 1); }}},
      {"overlap.dp_comm", {"bubble: DP gradient reduce-scatter and parameter all-gather run in the pipeline bubbles; none: exposed",
                           [](Scenario& s, auto& o, auto& k, auto& v) {
                             if (v == "bubble") s.dp_overlap_bubble = true;
                             else if (v == "none") s.dp_overlap_bubble = false;
                             else bad(o, k, fmt::format("expected bubble or none, got '{}'", v));
                           }}},
      {"fp8.cache_weights", {"true: keep FP8 copies of the weights (memory); false: re-cast them every micro-batch (time)",
                             [](Scenario& s, auto& o, auto& k, auto& v) { s.fp8_cache_weights = boolean(o, k, v); }}},
      {"memory.recompute", {"selective: the TR's recomputation (norms, MLA up-projections, SwiGLU outputs); full: keep only each layer's input and recompute its forward in backward",
                            [](Scenario& s, auto& o, auto& k, auto& v) {
                              if (v == "selective") s.recompute_full = false;
                              else if (v == "full") s.recompute_full = true;
                              else bad(o, k, fmt::format("expected selective or full, got '{}'", v));
                            }}},
      {"memory.check", {"true: a plan over the GPU memory is an error (exit 2)",
                        [](Scenario& s, auto& o, auto& k, auto& v) { s.memory_check = boolean(o, k, v); }}},
  };
  return k;
}

struct PhaseKeyDef {
  std::string help;
  std::function<void(PhaseSpec&, const std::string&, const std::string&, const std::string&)> set;
};

const std::map<std::string, PhaseKeyDef>& phase_fields() {
  static const std::map<std::string, PhaseKeyDef> k = {
      {"name", {"the phase's name (used in --set phases.<name>.<field>)", [](PhaseSpec& p, auto&, auto&, auto& v) { p.name = v; }}},
      {"seq_len", {"tokens per sequence", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.seq_len = integer(o, k, v, 1); }}},
      {"global_batch", {"sequences per step (after the ramp)",
                        [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.global_batch = integer(o, k, v, 1); }}},
      {"tokens", {"token budget of the phase (give tokens or steps)",
                  [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.tokens = positive(o, k, v); }}},
      {"steps", {"optimizer steps of the phase (give tokens or steps)",
                 [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.steps = integer(o, k, v, 1); }}},
      {"batch_ramp.from", {"batch-size ramp: sequences per step at the start",
                           [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.ramp_from = integer(o, k, v, 1); }}},
      {"batch_ramp.over_tokens", {"batch-size ramp: tokens over which the batch grows linearly to global_batch",
                                  [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.ramp_tokens = positive(o, k, v); }}},
      {"gpu_hours", {"a phase that is not simulated: its GPU-hours, given with `source`",
                     [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.given_gpu_hours = positive(o, k, v); }}},
      {"source", {"where given gpu_hours come from", [](PhaseSpec& p, auto&, auto&, auto& v) { p.source = v; }}},
      {"parallel.pp", {"override for this phase", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.pp = integer(o, k, v, 1); }}},
      {"parallel.ep", {"override for this phase", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.ep = integer(o, k, v, 1); }}},
      {"parallel.tp", {"override for this phase", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.tp = integer(o, k, v, 1); }}},
      {"parallel.cp", {"override for this phase", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.cp = integer(o, k, v, 1); }}},
      {"parallel.comm_sms", {"override for this phase", [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.comm_sms = integer(o, k, v, 0); }}},
      {"parallel.micro_batch", {"override for this phase",
                                [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.micro_batch = integer(o, k, v, 1); }}},
      {"parallel.schedule", {"override for this phase",
                             [](PhaseSpec& p, auto& o, auto& k, auto& v) { p.overrides.schedule = schedule(o, k, v); }}},
  };
  return k;
}

PhaseSpec& find_phase(Scenario& s, const std::string& sel, const std::string& origin, const std::string& key,
                      bool create_index) {
  bool digits = !sel.empty() && sel.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    size_t i = std::stoul(sel);
    if (create_index && i == s.phases.size()) s.phases.emplace_back();
    if (i < s.phases.size()) return s.phases[i];
    bad(origin, key, fmt::format("there is no phase {} (the scenario has {})", i, s.phases.size()));
  }
  for (auto& p : s.phases)
    if (p.name == sel) return p;
  std::string names;
  for (auto& p : s.phases) names += (names.empty() ? "" : ", ") + p.name;
  bad(origin, key, fmt::format("no phase named '{}' (phases: {})", sel, names));
}

void set_key_impl(Scenario& s, const std::string& key, const std::string& value, const std::string& origin,
                  bool from_file) {
  if (key.rfind("phases.", 0) == 0) {
    size_t dot = key.find('.', 7);
    if (dot == std::string::npos) bad(origin, key, "expected phases.<name or index>.<field>");
    std::string sel = key.substr(7, dot - 7);
    std::string field = key.substr(dot + 1);
    auto it = phase_fields().find(field);
    if (it == phase_fields().end()) bad(origin, key, "unknown key");
    PhaseSpec& p = find_phase(s, sel, origin, key, from_file);
    it->second.set(p, origin, key, value);
    return;
  }
  if (key.rfind("routing.", 0) == 0) {
    s.routing.set(key.substr(8), value, origin);  // InputError names origin and the key
    s.routing_set = true;
    return;
  }
  auto it = top_keys().find(key);
  if (it == top_keys().end()) bad(origin, key, "unknown key");
  it->second.set(s, origin, key, value);
}

void apply_node(Scenario& s, const YAML::Node& n, const std::string& prefix, const std::string& origin) {
  std::string key = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
  if (n.IsNull()) return;
  if (n.IsScalar()) {
    set_key_impl(s, key, n.Scalar(), origin, true);
    return;
  }
  if (n.IsSequence()) {
    if (key != "phases") bad(origin, key, "a list is only allowed for 'phases'");
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsMap()) bad(origin, fmt::format("phases[{}]", i), "expected a map of phase keys");
      s.phases.emplace_back();
      apply_node(s, n[i], fmt::format("phases.{}.", i), origin);
    }
    return;
  }
  if (n.IsMap()) {
    if (key == "routing" && n.size() == 0) return;
    for (auto it = n.begin(); it != n.end(); ++it) apply_node(s, it->second, prefix + it->first.Scalar() + ".", origin);
  }
}

}  // namespace

void set_key(Scenario& s, const std::string& key, const std::string& value, const std::string& origin) {
  set_key_impl(s, key, value, origin, false);
}

void apply_set(Scenario& s, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(fmt::format("--set {}: expected key=value", assignment));
  std::string key = assignment.substr(0, eq);
  set_key(s, key, assignment.substr(eq + 1), fmt::format("--set {}", assignment));
}

std::filesystem::path default_scenario_path() { return model::source_path("sim/scenarios/deepseek-v3-h800.yaml"); }

Scenario load_scenario(const std::filesystem::path& path) {
  YAML::Node root = load_yaml_file(path);
  if (!root.IsMap()) throw InputError(fmt::format("{}: expected a map of scenario keys", path.string()));
  Scenario s;
  s.file = path.string();
  s.model_config = "model/configs/deepseek-v3.json";
  apply_node(s, root, "", path.string());
  for (size_t i = 0; i < s.phases.size(); ++i)
    if (s.phases[i].name.empty()) s.phases[i].name = fmt::format("phase{}", i);
  return s;
}

std::vector<std::pair<std::string, std::string>> scenario_keys() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [k, d] : top_keys()) out.emplace_back(k, d.help);
  for (auto& [k, d] : phase_fields()) out.emplace_back("phases.<name or index>." + k, d.help);
  out.emplace_back("routing.<key>",
                   "token-level routing (model: balanced|zipf|dirichlet|drift|measured, s, alpha, drift_sigma, drift_base, "
                   "load_file, bias_gamma, bias_steps, eplb_redundant_experts, eplb_policy, layers_sampled, seed); see "
                   "sim/routing/routing_spec.hpp");
  return out;
}

}  // namespace dsv3::sim
