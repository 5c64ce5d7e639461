#pragma once
// Reads `dsv3 simulate --out FILE.h5` files (schema dsv3.simulation, reports/schema/simulation.md)
// into SimScenario rows: one for a single run, one per point for a sweep.
#include <filesystem>
#include <vector>

#include "reports/sim_table.hpp"

namespace dsv3::reports {

inline constexpr const char* kSimulationSchema = "dsv3.simulation";

// Throws dsv3::InputError naming the file and the missing field.
std::vector<SimScenario> read_simulation(const std::filesystem::path& file);

}  // namespace dsv3::reports
