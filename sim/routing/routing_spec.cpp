#include "sim/routing/routing_spec.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "model/errors.hpp"

namespace dsv3::sim::routing {

std::string to_string(PopularityKind k) {
  switch (k) {
    case PopularityKind::Balanced: return "balanced";
    case PopularityKind::Zipf: return "zipf";
    case PopularityKind::Dirichlet: return "dirichlet";
    case PopularityKind::Drift: return "drift";
    case PopularityKind::Measured: return "measured";
  }
  return "?";
}

namespace {

PopularityKind parse_kind(const std::string& v, const std::string& where, const std::string& key) {
  for (auto k : {PopularityKind::Balanced, PopularityKind::Zipf, PopularityKind::Dirichlet, PopularityKind::Drift,
                 PopularityKind::Measured})
    if (v == to_string(k)) return k;
  throw InputError(
      fmt::format("{}: routing.{}: '{}' is not one of balanced, zipf, dirichlet, drift, measured", where, key, v));
}

double parse_double(const std::string& v, const std::string& where, const std::string& key) {
  try {
    size_t used = 0;
    const double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  throw InputError(fmt::format("{}: routing.{}: '{}' is not a number", where, key, v));
}

int parse_int(const std::string& v, const std::string& where, const std::string& key) {
  const double d = parse_double(v, where, key);
  if (d != static_cast<double>(static_cast<long long>(d)) || d < 0 || d > 1e9)
    throw InputError(fmt::format("{}: routing.{}: '{}' must be a non-negative integer", where, key, v));
  return static_cast<int>(d);
}

}  // namespace

void RoutingSpec::set(const std::string& key, const std::string& v, const std::string& where) {
  if (key == "model") {
    model = parse_kind(v, where, key);
  } else if (key == "s") {
    zipf_s = parse_double(v, where, key);
    if (zipf_s < 0) throw InputError(fmt::format("{}: routing.s: {} must be >= 0", where, v));
  } else if (key == "alpha") {
    dirichlet_alpha = parse_double(v, where, key);
    if (!(dirichlet_alpha > 0)) throw InputError(fmt::format("{}: routing.alpha: {} must be > 0", where, v));
  } else if (key == "drift_sigma") {
    drift_sigma = parse_double(v, where, key);
    if (drift_sigma < 0) throw InputError(fmt::format("{}: routing.drift_sigma: {} must be >= 0", where, v));
  } else if (key == "drift_base") {
    drift_base = parse_kind(v, where, key);
    if (drift_base != PopularityKind::Zipf && drift_base != PopularityKind::Dirichlet)
      throw InputError(fmt::format("{}: routing.drift_base: '{}' must be zipf or dirichlet", where, v));
  } else if (key == "load_file") {
    load_file = v;
  } else if (key == "bias_gamma") {
    bias_gamma = parse_double(v, where, key);
    if (bias_gamma < 0) throw InputError(fmt::format("{}: routing.bias_gamma: {} must be >= 0", where, v));
  } else if (key == "bias_steps") {
    bias_steps = parse_int(v, where, key);
  } else if (key == "eplb_redundant_experts") {
    eplb_redundant_experts = parse_int(v, where, key);
  } else if (key == "eplb_policy") {
    if (v != "auto" && v != "hierarchical" && v != "global")
      throw InputError(fmt::format("{}: routing.eplb_policy: '{}' must be auto, hierarchical or global", where, v));
    eplb_policy = v;
  } else if (key == "layers_sampled") {
    layers_sampled = parse_int(v, where, key);
  } else if (key == "tokens_per_gpu_cap") {
    tokens_per_gpu_cap = parse_int(v, where, key);
    if (tokens_per_gpu_cap < 1) throw InputError(fmt::format("{}: routing.tokens_per_gpu_cap: must be at least 1", where));
  } else if (key == "seed") {
    seed = static_cast<uint64_t>(parse_int(v, where, key));
  } else {
    throw InputError(fmt::format(
        "{}: routing.{}: unknown key (known: model, s, alpha, drift_sigma, drift_base, load_file, bias_gamma, "
        "bias_steps, eplb_redundant_experts, eplb_policy, layers_sampled, tokens_per_gpu_cap, seed)",
        where, key));
  }
}

RoutingSpec RoutingSpec::from_yaml(const YAML::Node& node, const std::string& where, const std::string& base_dir) {
  RoutingSpec s;
  if (!node || node.IsNull()) return s;
  if (!node.IsMap()) throw InputError(fmt::format("{}: routing: expected a mapping of keys", where));
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!kv.second.IsScalar())
      throw InputError(fmt::format("{}: routing.{}: expected a single value", where, key));
    s.set(key, kv.second.as<std::string>(), where);
  }
  if (s.model == PopularityKind::Measured && s.load_file.empty())
    throw InputError(fmt::format("{}: routing.load_file: required with model: measured", where));
  if (!s.load_file.empty() && !base_dir.empty() && std::filesystem::path(s.load_file).is_relative())
    s.load_file = (std::filesystem::path(base_dir) / s.load_file).string();
  return s;
}

std::string RoutingSpec::model_name() const { return to_string(model); }

std::string RoutingSpec::describe() const {
  std::string m;
  switch (model) {
    case PopularityKind::Balanced: m = "balanced"; break;
    case PopularityKind::Zipf: m = fmt::format("zipf(s={})", zipf_s); break;
    case PopularityKind::Dirichlet: m = fmt::format("dirichlet(alpha={})", dirichlet_alpha); break;
    case PopularityKind::Drift:
      m = fmt::format("drift(base={}, s={}, alpha={}, sigma={})", to_string(drift_base), zipf_s, dirichlet_alpha,
                      drift_sigma);
      break;
    case PopularityKind::Measured: m = fmt::format("measured({})", load_file); break;
  }
  return fmt::format("{}, bias_gamma={}, eplb_redundant_experts={}", m, bias_gamma, eplb_redundant_experts);
}

}  // namespace dsv3::sim::routing
