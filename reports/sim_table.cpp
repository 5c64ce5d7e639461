#include "reports/sim_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "model/errors.hpp"

namespace dsv3::reports {

namespace {
std::string opt(const std::optional<double>& v, const char* f) { return v ? fmt::format(fmt::runtime(f), *v) : "—"; }
}  // namespace

std::optional<double> sim_metric(const SimScenario& s, const std::string& m) {
  if (m == "gpu_hours") return s.gpu_hours;
  if (m == "usd") return s.usd;
  if (m == "days") return s.days;
  if (m == "mfu") return s.mfu ? std::optional<double>(100 * *s.mfu) : std::nullopt;
  if (m == "step_time_s") return s.step_time_s;
  if (m == "compute_s") return s.compute_s;
  if (m == "exposed_comm_s") return s.exposed_comm_s;
  if (m == "bubble_s") return s.bubble_s;
  if (m == "memory_per_gpu_gib") return s.memory_per_gpu_gib;
  if (m == "imbalance") return s.imbalance;
  throw InputError(fmt::format("unknown simulation metric '{}' (gpu_hours, usd, days, mfu, step_time_s, compute_s, "
                               "exposed_comm_s, bubble_s, memory_per_gpu_gib, imbalance)",
                               m));
}

std::string sim_metric_label(const std::string& m) {
  if (m == "gpu_hours") return "GPU-hours";
  if (m == "usd") return "cost ($)";
  if (m == "days") return "days";
  if (m == "mfu") return "MFU (%)";
  if (m == "step_time_s") return "step time (s)";
  if (m == "compute_s") return "compute (s)";
  if (m == "exposed_comm_s") return "exposed communication (s)";
  if (m == "bubble_s") return "pipeline bubble (s)";
  if (m == "memory_per_gpu_gib") return "memory per GPU (GiB)";
  if (m == "imbalance") return "expert-load imbalance (max/mean)";
  return m;
}

Table sim_table(const std::vector<SimScenario>& s, const std::string& source) {
  Table t;
  t.title = "Simulated scenarios";
  t.header = {"scenario", "GPU", "GPU-hours (K)", "cost ($M)", "days", "MFU (%)", "step (s)", "compute (s)",
              "exposed comm (s)", "bubble (s)", "memory/GPU (GiB)", "imbalance (max/mean)"};
  t.numeric.assign(t.header.size(), true);
  t.numeric[0] = t.numeric[1] = false;
  for (auto& x : s)
    t.rows.push_back({x.name, x.gpu.empty() ? "—" : x.gpu, x.gpu_hours ? fmt::format("{:.1f}", *x.gpu_hours / 1e3) : "—",
                      x.usd ? fmt::format("{:.3f}", *x.usd / 1e6) : "—", opt(x.days, "{:.1f}"),
                      x.mfu ? fmt::format("{:.1f}", 100 * *x.mfu) : "—", opt(x.step_time_s, "{:.3f}"),
                      opt(x.compute_s, "{:.3f}"), opt(x.exposed_comm_s, "{:.3f}"), opt(x.bubble_s, "{:.3f}"),
                      opt(x.memory_per_gpu_gib, "{:.1f}"), opt(x.imbalance, "{:.3f}")});
  t.notes.push_back("Step time = compute + exposed communication + pipeline bubble (+ other, where the simulator "
                    "reports it). '—': the simulation file does not carry the value.");
  t.source = source;
  return t;
}

std::vector<std::string> sweep_axes(const std::vector<SimScenario>& s) {
  std::map<std::string, std::set<std::string>> values;
  for (auto& x : s)
    for (auto& [k, v] : x.params) values[k].insert(v);
  std::vector<std::string> out;
  for (auto& [k, v] : values)
    if (v.size() > 1) out.push_back(k);
  return out;
}

namespace {
// Sorts parameter values numerically when they all parse as numbers.
std::vector<std::string> sorted_values(const std::vector<SimScenario>& s, const std::string& p) {
  std::set<std::string> set;
  for (auto& x : s) {
    auto it = x.params.find(p);
    if (it != x.params.end()) set.insert(it->second);
  }
  std::vector<std::string> v(set.begin(), set.end());
  bool numeric = std::all_of(v.begin(), v.end(), [](const std::string& a) {
    char* end = nullptr;
    std::strtod(a.c_str(), &end);
    return end && *end == '\0' && !a.empty();
  });
  if (numeric)
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return std::strtod(a.c_str(), nullptr) < std::strtod(b.c_str(), nullptr); });
  return v;
}
}  // namespace

Table sim_pivot(const std::vector<SimScenario>& s, const std::string& rp, const std::string& cp, const std::string& metric,
                const std::string& source) {
  auto rows = sorted_values(s, rp), cols = sorted_values(s, cp);
  if (rows.empty()) throw InputError(fmt::format("pivot: no scenario has parameter '{}'", rp));
  if (cols.empty()) throw InputError(fmt::format("pivot: no scenario has parameter '{}'", cp));
  Table t;
  t.title = fmt::format("{} by {} and {}", sim_metric_label(metric), rp, cp);
  t.header.push_back(fmt::format("{} \\ {}", rp, cp));
  for (auto& c : cols) t.header.push_back(c);
  t.numeric.assign(t.header.size(), true);
  t.numeric[0] = false;
  for (auto& r : rows) {
    std::vector<std::string> line{r};
    for (auto& c : cols) {
      std::string cell = "—";
      for (auto& x : s) {
        auto a = x.params.find(rp), b = x.params.find(cp);
        if (a != x.params.end() && b != x.params.end() && a->second == r && b->second == c)
          if (auto v = sim_metric(x, metric)) cell = std::fabs(*v) >= 1e4 ? fmt::format("{:.0f}", *v) : fmt::format("{:.4g}", *v);
      }
      line.push_back(cell);
    }
    t.rows.push_back(line);
  }
  t.source = source;
  return t;
}

StackedBars step_breakdown_plot(const std::vector<SimScenario>& s, const std::string& source) {
  StackedBars c;
  c.title = "Training step time by part, per scenario";
  c.y_label = "time per step (s)";
  c.caption = source;
  c.parts = {"compute", "exposed communication", "pipeline bubble", "other"};
  for (auto& x : s) {
    if (!x.compute_s) continue;  // sweep points carry only the step total
    c.bars.push_back(x.name);
    c.values.push_back({x.compute_s.value_or(0), x.exposed_comm_s.value_or(0), x.bubble_s.value_or(0), x.other_s.value_or(0)});
  }
  return c;
}

LineChart sweep_plot(const std::vector<SimScenario>& s, const std::string& xp, const std::string& sp,
                     const std::string& metric, const std::string& source) {
  LineChart c;
  c.title = fmt::format("{} vs {}", sim_metric_label(metric), xp);
  c.x_label = xp;
  c.y_label = sim_metric_label(metric);
  c.caption = source;
  std::vector<std::string> groups = sp.empty() ? std::vector<std::string>{""} : sorted_values(s, sp);
  bool pow2 = true;
  for (auto& g : groups) {
    LineSeries ls;
    ls.name = sp.empty() ? sim_metric_label(metric) : fmt::format("{} = {}", sp, g);
    std::vector<std::pair<double, double>> pts;
    for (auto& x : s) {
      auto xi = x.params.find(xp);
      if (xi == x.params.end()) continue;
      if (!sp.empty()) {
        auto si = x.params.find(sp);
        if (si == x.params.end() || si->second != g) continue;
      }
      auto v = sim_metric(x, metric);
      if (!v) continue;
      double xv = std::strtod(xi->second.c_str(), nullptr);
      if (xv <= 0 || (static_cast<long long>(xv) & (static_cast<long long>(xv) - 1)) != 0 || xv != std::floor(xv)) pow2 = false;
      pts.push_back({xv, *v});
    }
    std::sort(pts.begin(), pts.end());
    for (auto& [a, b] : pts) {
      ls.x.push_back(a);
      ls.y.push_back(b);
    }
    if (!ls.x.empty()) c.series.push_back(ls);
  }
  c.x_log2 = pow2;
  return c;
}

}  // namespace dsv3::reports
