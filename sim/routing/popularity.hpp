#pragma once
// Expert popularity models: for each MoE layer (and training step) a probability vector over
// the routed experts. The router turns a popularity into token-level affinities (router.hpp).
//   balanced   every expert equally popular
//   zipf(s)    popularity of the r-th most popular expert ~ 1/r^s, a random expert order per layer
//   dirichlet  one Dirichlet(alpha) draw per layer
//   drift      zipf or dirichlet at step 0, then each expert's log-popularity takes a Gaussian
//              random walk of drift_sigma per step
//   measured   a layers x experts count matrix from a CSV or HDF5 file
#include <cstdint>
#include <string>
#include <vector>

#include "sim/routing/routing_spec.hpp"

namespace dsv3::sim::routing {

// Reads a measured expert-load matrix (rows = layers, columns = experts). CSV: one row per
// line, comma separated numbers, '#' comment lines allowed. HDF5 (.h5/.hdf5): a 2-D dataset,
// "FILE.h5:/path" or by default expert_load or routing/expert_load. Throws InputError naming
// the file and the line or dataset.
std::vector<std::vector<double>> read_expert_load(const std::string& path);

// Counter-based random numbers (splitmix64 of a key): the same key always gives the same value,
// so runs are reproducible and independent of the order of work.
uint64_t mix64(uint64_t x);
inline uint64_t rng_key(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
  return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}
// Uniform in (0, 1) from a key.
inline double uniform01(uint64_t key) { return (static_cast<double>(mix64(key) >> 11) + 0.5) * 0x1.0p-53; }
double standard_normal(uint64_t key);
double gamma_sample(double alpha, uint64_t key);

class PopularityModel {
 public:
  PopularityModel(const RoutingSpec& spec, int n_layers, int n_experts);
  // Probability of each expert in MoE layer `layer` (0-based among MoE layers) at `step`.
  std::vector<double> at(int layer, int step = 0) const;
  int n_layers() const { return n_layers_; }
  int n_experts() const { return n_experts_; }
  const RoutingSpec& spec() const { return spec_; }

 private:
  std::vector<double> base(PopularityKind kind, int layer) const;
  RoutingSpec spec_;
  int n_layers_, n_experts_;
  std::vector<std::vector<double>> measured_;
};

}  // namespace dsv3::sim::routing
