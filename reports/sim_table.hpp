#pragma once
// "Scenario x cost" tables and plots from simulation results: scenarios side by side
// (GPU-hours, $, days, MFU, step time split into compute / exposed communication / bubble,
// memory per GPU, expert-load imbalance), sweeps as a pivot table and a line chart.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/svg_plot.hpp"
#include "reports/table.hpp"

namespace dsv3::reports {

struct SimScenario {
  std::string name;                           // scenario name
  std::string file;                           // file it was read from
  std::map<std::string, std::string> params;  // sweep parameters ("gpus" -> "2048"); empty when not a sweep point
  std::optional<double> gpu_hours, usd, days, mfu;
  std::optional<double> step_time_s, compute_s, exposed_comm_s, bubble_s, other_s;
  std::optional<double> memory_per_gpu_gib, imbalance;
  std::string gpu;                            // hardware name
  // Expert load from the /routing group, when the file has one: tokens computed per GPU
  // (EP rank) for each sampled MoE layer.
  std::vector<std::vector<double>> gpu_load;  // [layer][EP rank]
  std::vector<std::string> load_layers;       // MoE-layer index of each row
  std::string routing;                        // routing model description
};

Table sim_table(const std::vector<SimScenario>& s, const std::string& source);

// Pivot: rows = values of row_param, columns = values of col_param, cells = metric
// ("gpu_hours", "usd", "days", "mfu", "step_time_s", ...). Missing points show "—".
Table sim_pivot(const std::vector<SimScenario>& s, const std::string& row_param, const std::string& col_param,
                const std::string& metric, const std::string& source);

// Names of the parameters that vary across the scenarios (sweep axes), in name order.
std::vector<std::string> sweep_axes(const std::vector<SimScenario>& s);

StackedBars step_breakdown_plot(const std::vector<SimScenario>& s, const std::string& source);
// x = x_param (numeric), one line per value of series_param (or one line), y = metric.
LineChart sweep_plot(const std::vector<SimScenario>& s, const std::string& x_param, const std::string& series_param,
                     const std::string& metric, const std::string& source);

std::optional<double> sim_metric(const SimScenario& s, const std::string& metric);
std::string sim_metric_label(const std::string& metric);  // "GPU-hours", "MFU (%)", ...

}  // namespace dsv3::reports
