#include "sim/routing/popularity.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "model/errors.hpp"
#include "reports/h5_file.hpp"

namespace dsv3::sim::routing {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

double standard_normal(uint64_t key) {
  const double u1 = uniform01(key), u2 = uniform01(key ^ 0x5851f42d4c957f2dull);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

double gamma_sample(double alpha, uint64_t key) {
  // Marsaglia-Tsang; alpha < 1 by the boost gamma(alpha) = gamma(alpha + 1) * U^(1/alpha).
  if (alpha < 1.0) return gamma_sample(alpha + 1.0, key ^ 0x1234567ull) * std::pow(uniform01(key ^ 0x89abcdefull), 1.0 / alpha);
  const double d = alpha - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (uint64_t i = 0;; ++i) {
    const double x = standard_normal(rng_key(key, i, 1));
    const double v = std::pow(1.0 + c * x, 3);
    if (v <= 0) continue;
    const double u = uniform01(rng_key(key, i, 2));
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

namespace {

std::vector<std::vector<double>> read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open the expert-load file", path));
  std::vector<std::vector<double>> rows;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    int col = 0;
    while (std::getline(ss, cell, ',')) {
      ++col;
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      while (end && (*end == ' ' || *end == '\t' || *end == '\r')) ++end;
      if (end == cell.c_str() || (end && *end) || !(v >= 0) || !std::isfinite(v))
        throw InputError(fmt::format("{}: line {}, column {}: '{}' is not a non-negative number", path, lineno, col, cell));
      row.push_back(v);
    }
    if (!rows.empty() && row.size() != rows[0].size())
      throw InputError(fmt::format("{}: line {}: {} experts, the first row has {}", path, lineno, row.size(), rows[0].size()));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw InputError(fmt::format("{}: no rows of expert loads", path));
  return rows;
}

std::vector<std::vector<double>> read_h5(const std::string& file, const std::string& dataset) {
  namespace h5 = dsv3::reports::h5;
  h5::quiet_errors();
  h5::Handle f = h5::open_file(file, false);
  std::string name = dataset;
  while (!name.empty() && name.front() == '/') name.erase(0, 1);
  if (name.empty()) {
    for (const char* cand : {"expert_load", "routing/expert_load"})
      if (h5::exists(f.id(), cand)) {
        name = cand;
        break;
      }
    if (name.empty())
      throw InputError(fmt::format("{}: no dataset expert_load or routing/expert_load (name one as FILE.h5:/path)", file));
  } else if (!h5::exists(f.id(), name)) {
    throw InputError(fmt::format("{}: no dataset {}", file, name));
  }
  size_t rows = 0, cols = 0;
  std::vector<double> v;
  try {
    v = h5::read_matrix(f.id(), name, rows, cols);
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: dataset {}: not a 2-D numeric matrix ({})", file, name, e.what()));
  }
  std::vector<std::vector<double>> out(rows, std::vector<double>(cols));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      const double x = v[r * cols + c];
      if (!(x >= 0) || !std::isfinite(x))
        throw InputError(fmt::format("{}: dataset {}: [{}][{}] = {} is not a non-negative number", file, name, r, c, x));
      out[r][c] = x;
    }
  if (out.empty()) throw InputError(fmt::format("{}: dataset {} is empty", file, name));
  return out;
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

std::vector<std::vector<double>> read_expert_load(const std::string& path) {
  for (const char* ext : {".h5:", ".hdf5:"}) {
    const auto pos = path.find(ext);
    if (pos != std::string::npos) {
      const auto colon = pos + std::string(ext).size() - 1;
      return read_h5(path.substr(0, colon), path.substr(colon + 1));
    }
  }
  if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) return read_h5(path, "");
  return read_csv(path);
}

PopularityModel::PopularityModel(const RoutingSpec& spec, int n_layers, int n_experts)
    : spec_(spec), n_layers_(n_layers), n_experts_(n_experts) {
  if (n_layers <= 0 || n_experts <= 0) throw InputError("routing: a popularity model needs layers and experts");
  if (spec.model == PopularityKind::Measured) {
    measured_ = read_expert_load(spec.load_file);
    if (static_cast<int>(measured_[0].size()) != n_experts)
      throw InputError(fmt::format("{}: {} experts per row, the model has {} routed experts", spec.load_file,
                                   measured_[0].size(), n_experts));
    if (static_cast<int>(measured_.size()) < n_layers)
      throw InputError(fmt::format("{}: {} rows (layers), the model has {} MoE layers", spec.load_file,
                                   measured_.size(), n_layers));
    for (size_t l = 0; l < measured_.size(); ++l)
      if (std::accumulate(measured_[l].begin(), measured_[l].end(), 0.0) <= 0)
        throw InputError(fmt::format("{}: row {} has no load", spec.load_file, l));
  }
}

std::vector<double> PopularityModel::base(PopularityKind kind, int layer) const {
  const int E = n_experts_;
  std::vector<double> p(E, 1.0 / E);
  switch (kind) {
    case PopularityKind::Balanced: break;
    case PopularityKind::Zipf: {
      // Random expert order per layer: sort experts by a keyed random value.
      std::vector<int> order(E);
      std::iota(order.begin(), order.end(), 0);
      std::vector<uint64_t> keys(E);
      for (int e = 0; e < E; ++e) keys[e] = rng_key(spec_.seed, 0x21f, layer, e);
      std::sort(order.begin(), order.end(), [&](int a, int b) { return keys[a] < keys[b]; });
      double sum = 0;
      for (int r = 0; r < E; ++r) sum += p[order[r]] = std::pow(r + 1.0, -spec_.zipf_s);
      for (double& x : p) x /= sum;
      break;
    }
    case PopularityKind::Dirichlet: {
      double sum = 0;
      for (int e = 0; e < E; ++e) sum += p[e] = std::max(1e-300, gamma_sample(spec_.dirichlet_alpha, rng_key(spec_.seed, 0xd1c, layer, e)));
      for (double& x : p) x /= sum;
      break;
    }
    case PopularityKind::Measured: {
      const auto& row = measured_[layer];
      const double sum = std::accumulate(row.begin(), row.end(), 0.0);
      for (int e = 0; e < E; ++e) p[e] = row[e] / sum;
      break;
    }
    case PopularityKind::Drift: break;
  }
  return p;
}

std::vector<double> PopularityModel::at(int layer, int step) const {
  if (layer < 0 || layer >= n_layers_) throw std::out_of_range("routing: layer out of range");
  if (spec_.model != PopularityKind::Drift) return base(spec_.model, layer);
  std::vector<double> p = base(spec_.drift_base, layer);
  double sum = 0;
  for (int e = 0; e < n_experts_; ++e) {
    double walk = 0;
    for (int t = 1; t <= step; ++t) walk += standard_normal(rng_key(spec_.seed, 0xd71f7, layer * 1000003ull + e, t));
    sum += p[e] = p[e] * std::exp(spec_.drift_sigma * walk);
  }
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace dsv3::sim::routing
