// dsv3 simulate: DeepSeek-V3 training cost on a GPU cluster (sim/). Parsing and printing only.
#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "model/errors.hpp"
#include "sim/report.hpp"
#include "sim/scenario.hpp"
#include "sim/simulate.hpp"
#include "sim/trace.hpp"

namespace dsv3::cli {
namespace {

struct SimulateOptions {
  std::string file;
  std::vector<std::string> sets;
  std::vector<std::string> sweeps;
  std::string format = "table";
  std::string out;
  std::string trace;
};

struct Sweep {
  std::string key;
  std::vector<std::string> values;
};

Sweep parse_sweep(const std::string& arg) {
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= arg.size())
    throw InputError(fmt::format("--sweep {}: expected key=v1,v2,...", arg));
  Sweep s{arg.substr(0, eq), {}};
  std::string rest = arg.substr(eq + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    std::string v = rest.substr(start, comma - start);
    if (v.empty()) throw InputError(fmt::format("--sweep {}: empty value", arg));
    s.values.push_back(v);
    start = comma + 1;
  }
  return s;
}

void run(const SimulateOptions& o) {
  sim::Scenario base = sim::load_scenario(o.file.empty() ? sim::default_scenario_path() : std::filesystem::path(o.file));
  for (auto& a : o.sets) sim::apply_set(base, a);

  if (o.sweeps.empty()) {
    sim::SimResult r = sim::simulate(base);
    if (o.format == "json")
      std::cout << sim::to_json(r).dump(2) << '\n';
    else if (o.format == "csv")
      std::cout << sim::to_csv(r);
    else
      std::cout << sim::to_table(r);
    if (!o.out.empty()) {
      sim::write_h5(r, o.out);
      fmt::print(stderr, "wrote {}\n", o.out);
    }
    if (!o.trace.empty()) {
      std::ofstream f(o.trace);
      if (!f) throw InputError(fmt::format("--trace {}: cannot write the file", o.trace));
      f << sim::chrome_trace(r).dump() << '\n';
      if (!f.flush()) throw InputError(fmt::format("--trace {}: write failed", o.trace));
      fmt::print(stderr, "wrote {}\n", o.trace);
    }
    return;
  }
  if (!o.trace.empty()) throw InputError("--trace: one scenario at a time (not with --sweep)");

  std::vector<Sweep> sweeps;
  size_t total = 1;
  for (auto& a : o.sweeps) {
    sweeps.push_back(parse_sweep(a));
    total *= sweeps.back().values.size();
    // Check the key once, with the first value, so a typo is one clear error.
    sim::Scenario probe = base;
    sim::set_key(probe, sweeps.back().key, sweeps.back().values[0], fmt::format("--sweep {}", a));
  }
  std::vector<sim::SweepPoint> points;
  points.reserve(total);
  const bool progress = stderr_is_tty() && total >= 20;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < total; ++i) {
    sim::SweepPoint p;
    sim::Scenario s = base;
    size_t rem = i;
    for (size_t k = sweeps.size(); k-- > 0;) {
      const Sweep& sw = sweeps[k];
      const std::string& v = sw.values[rem % sw.values.size()];
      rem /= sw.values.size();
      p.set.insert(p.set.begin(), {sw.key, v});
    }
    try {
      for (auto& [k, v] : p.set) sim::set_key(s, k, v, fmt::format("--sweep {}={}", k, v));
      p.result = sim::simulate(s);
    } catch (const InputError& e) {
      p.error = e.what();
    }
    points.push_back(std::move(p));
    if (progress && (i + 1) % 10 == 0) {
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double rate = static_cast<double>(i + 1) / el;
      fmt::print(stderr, "\rsweep {}/{} points, {:.0f} points/s, ETA {:.0f} s   ", i + 1, total, rate,
                 static_cast<double>(total - i - 1) / rate);
    }
  }
  if (progress) fmt::print(stderr, "\n");
  bool any = false;
  for (auto& p : points) any |= p.result.has_value();
  if (o.format == "json")
    std::cout << sim::sweep_json(points).dump(2) << '\n';
  else if (o.format == "csv")
    std::cout << sim::sweep_csv(points);
  else
    std::cout << sim::sweep_table(points);
  if (!o.out.empty()) {
    sim::write_sweep_h5(points, o.out);
    fmt::print(stderr, "wrote {}\n", o.out);
  }
  if (!any) throw InputError(fmt::format("every sweep point failed; the first: {}", points.front().error));
}

const Registrar reg(20, [](CLI::App& root) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = root.add_subcommand(
      "simulate", "DeepSeek-V3 training cost on a GPU cluster: step time, MFU, GPU-hours and $ (default: the published run)");
  cmd->add_option("scenario", o->file, "scenario YAML (default: sim/scenarios/deepseek-v3-h800.yaml)");
  cmd->add_option("--set", o->sets, "override a scenario key, e.g. --set precision=bf16 (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--sweep", o->sweeps, "key=v1,v2,...: one row per point of the cartesian product (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--format", o->format, "table (default), json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  cmd->add_option("--out", o->out, "write the full breakdown to an HDF5 file (reports/schema/simulation.md)");
  cmd->add_option("--trace", o->trace,
                  "write one step of the slowest pipeline rank as a Chrome trace (JSON; open in Perfetto)");
  cmd->callback([o, cmd] {
    // A sub-subcommand (e.g. `simulate eplb`, added by another file) does its own work.
    if (!cmd->get_subcommands().empty()) return;
    run(*o);
  });
});

}  // namespace
}  // namespace dsv3::cli
