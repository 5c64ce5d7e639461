#include "reports/sim_read.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/errors.hpp"
#include "reports/h5_file.hpp"

namespace dsv3::reports {

namespace {

constexpr int64_t kReadsVersion = 1;
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::optional<double> attr(hid_t loc, const std::string& group, const std::string& name) {
  if (!h5::exists(loc, group)) return std::nullopt;
  auto g = h5::open_group(loc, group);
  auto v = h5::attr_double_opt(g.id(), name);
  if (v && std::isnan(*v)) return std::nullopt;
  return v;
}

std::optional<double> finite(double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; }

SimScenario read_single(hid_t f, const std::filesystem::path& file) {
  SimScenario s;
  s.file = file.filename().string();
  s.name = h5::attr_str_or(f, "name", s.file);
  s.gpu = h5::attr_str_or(f, "hardware_name", "");
  s.gpu_hours = attr(f, "cost", "total_gpu_hours");
  s.usd = attr(f, "cost", "total_usd");
  s.days = attr(f, "cost", "total_days");
  s.mfu = attr(f, "throughput", "mfu_bf16");
  s.step_time_s = attr(f, "step", "time_s");
  s.compute_s = attr(f, "step", "compute_s");
  s.exposed_comm_s = attr(f, "step", "exposed_comm_s");
  s.bubble_s = attr(f, "step", "bubble_s");
  if (s.step_time_s && s.compute_s && s.exposed_comm_s && s.bubble_s) {
    double rest = *s.step_time_s - *s.compute_s - *s.exposed_comm_s - *s.bubble_s;
    if (rest > 1e-9 * *s.step_time_s) s.other_s = rest;
  }
  if (auto m = attr(f, "memory", "per_gpu_bytes")) s.memory_per_gpu_gib = *m / kGiB;
  if (h5::exists(f, "moe/expert_rows")) {
    auto g = h5::open_group(f, "moe");
    auto rows = h5::read_doubles(g.id(), "expert_rows");
    if (!rows.empty()) {
      double mean = std::accumulate(rows.begin(), rows.end(), 0.0) / static_cast<double>(rows.size());
      if (mean > 0) s.imbalance = *std::max_element(rows.begin(), rows.end()) / mean;
    }
  }
  if (h5::exists(f, "routing/gpu_load")) {
    auto g = h5::open_group(f, "routing");
    size_t rows = 0, cols = 0;
    auto m = h5::read_matrix(g.id(), "gpu_load", rows, cols);
    for (size_t r = 0; r < rows; ++r) s.gpu_load.emplace_back(m.begin() + static_cast<long>(r * cols), m.begin() + static_cast<long>((r + 1) * cols));
    if (h5::exists(g.id(), "layers"))
      for (auto l : h5::read_ints(g.id(), "layers")) s.load_layers.push_back(std::to_string(l));
    s.routing = h5::attr_str_or(g.id(), "routing", "");
    if (auto imb = h5::attr_double_opt(g.id(), "mean_imbalance")) s.imbalance = *imb;
  }
  if (!s.gpu_hours || !s.usd)
    throw InputError(fmt::format("{}: missing attributes /cost total_gpu_hours or total_usd", file.string()));
  return s;
}

std::vector<SimScenario> read_sweep(hid_t f, const std::filesystem::path& file) {
  auto g = h5::open_group(f, "sweep");
  std::vector<std::string> keys;
  for (auto& n : h5::list_children(g.id()))
    if (n.rfind("set:", 0) == 0) keys.push_back(n);
  if (keys.empty()) throw InputError(fmt::format("{}: /sweep has no set:<key> columns", file.string()));
  std::vector<std::vector<std::string>> sets;
  for (auto& k : keys) sets.push_back(h5::read_strings(g.id(), k));
  auto errors = h5::read_strings(g.id(), "error");
  auto col = [&](const char* name) {
    return h5::exists(g.id(), name) ? h5::read_doubles(g.id(), name) : std::vector<double>(errors.size(), NAN);
  };
  auto step = col("step_time_s"), days = col("pretrain_days"), gh = col("total_gpu_hours"), usd = col("total_usd"),
       mfu = col("mfu_bf16"), mem = col("memory_per_gpu_bytes");
  std::vector<SimScenario> out;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].empty()) continue;  // a point that did not run (its error is in the file)
    SimScenario s;
    s.file = file.filename().string();
    std::string name;
    for (size_t k = 0; k < keys.size(); ++k) {
      std::string key = keys[k].substr(4);
      s.params[key] = sets[k][i];
      name += fmt::format("{}{}={}", name.empty() ? "" : " ", key, sets[k][i]);
    }
    s.name = name;
    s.step_time_s = finite(step[i]);
    s.days = finite(days[i]);
    s.gpu_hours = finite(gh[i]);
    s.usd = finite(usd[i]);
    s.mfu = finite(mfu[i]);
    if (auto m = finite(mem[i])) s.memory_per_gpu_gib = *m / kGiB;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<SimScenario> read_simulation(const std::filesystem::path& file) {
  auto f = h5::open_file(file, false);
  try {
    std::string schema = h5::attr_str_or(f.id(), "schema", "");
    if (schema != kSimulationSchema)
      throw InputError(fmt::format("attribute 'schema' is '{}', expected '{}'", schema, kSimulationSchema));
    int64_t v = h5::attr_int(f.id(), "schema_version");
    if (v > kReadsVersion)
      throw InputError(fmt::format("schema_version {} is newer than this build reads ({})", v, kReadsVersion));
    std::string kind = h5::attr_str(f.id(), "kind");
    if (kind == "single") return {read_single(f.id(), file)};
    if (kind == "sweep") return read_sweep(f.id(), file);
    throw InputError(fmt::format("attribute 'kind' is '{}', expected single or sweep", kind));
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (msg.rfind(file.string(), 0) == 0) throw;
    throw InputError(fmt::format("{}: {}", file.string(), msg));
  }
}

}  // namespace dsv3::reports
