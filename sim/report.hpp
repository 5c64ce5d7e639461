#pragma once
// The simulator's outputs: the JSON object of the DESIGN.md contract, the human-readable table
// (summary first, then the step breakdown, then the calibration with sources), CSV rows, and
// the HDF5 file of reports/schema/simulation.md. Sweeps print one row per point.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/simulate.hpp"

namespace dsv3::sim {

inline constexpr int kSimulationSchemaVersion = 1;

nlohmann::json to_json(const SimResult& r);
std::string to_table(const SimResult& r);
std::string to_csv(const SimResult& r);  // header + one row
void write_h5(const SimResult& r, const std::filesystem::path& path);

// One point of a sweep: the key=value assignments that define it, and its result or error.
struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> set;
  std::optional<SimResult> result;
  std::string error;
};

nlohmann::json sweep_json(const std::vector<SweepPoint>& points);
std::string sweep_table(const std::vector<SweepPoint>& points);
std::string sweep_csv(const std::vector<SweepPoint>& points);
void write_sweep_h5(const std::vector<SweepPoint>& points, const std::filesystem::path& path);

}  // namespace dsv3::sim
