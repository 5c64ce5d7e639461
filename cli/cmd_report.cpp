// dsv3 report: tables, plots, claims check and an HTML page from run and simulation files.
#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "cli/command.hpp"
#include "dsv3_version.hpp"
#include "model/config.hpp"
#include "model/errors.hpp"
#include "reports/claims.hpp"
#include "reports/published_scores.hpp"
#include "reports/report_inputs.hpp"
#include "reports/run_report.hpp"
#include "reports/score_table.hpp"
#include "reports/sim_table.hpp"
#include "reports/table.hpp"
#include "sim/scenario.hpp"
#include "sim/simulate.hpp"

namespace dsv3::cli {
namespace {

namespace fs = std::filesystem;
using namespace dsv3::reports;

void emit(const std::string& text, const std::string& out) {
  if (out.empty() || out == "-") {
    fmt::print("{}", text);
    return;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f) throw InputError(fmt::format("{}: cannot write", out));
  f << text;
}

std::string join_tables(const std::vector<Table>& tables, Format f) {
  std::string s;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (i) s += f == Format::csv ? "\n" : "\n";
    s += render(tables[i], f);
  }
  return s;
}

struct TableOpts {
  std::vector<std::string> files;
  std::string reference, format = "md", out, pivot, metric = "gpu_hours";
};

struct ClaimsOpts {
  std::string config, sim, run, reference = "published", format = "md", out, scenario;
  std::vector<std::string> sets;
  bool no_sim = false;
};

struct HtmlOpts {
  std::vector<std::string> files;
  std::string reference, out, config, sim, title = "dsv3 report";
  bool claims = true;
};

// The simulator's totals for the claims: the given scenario (default: the published run),
// with the model config replaced by --config when one is given, so a config change moves the
// cost rows too.
SimValues simulate_for_claims(const std::string& scenario, const std::vector<std::string>& sets,
                              const std::string& config) {
  sim::Scenario sc = sim::load_scenario(scenario.empty() ? sim::default_scenario_path() : fs::path(scenario));
  if (!config.empty()) sc.model_config = config;
  for (auto& a : sets) sim::apply_set(sc, a);
  sim::SimResult r = sim::simulate(sc);
  SimValues v;
  v.source = fmt::format("dsv3 simulate {}{}{}", scenario.empty() ? "(default scenario " + sim::default_scenario_path().filename().string() + ")" : scenario,
                         config.empty() ? "" : ", model " + config, sets.empty() ? "" : ", --set " + fmt::format("{}", fmt::join(sets, " ")));
  v.total_gpu_hours = r.total_gpu_hours;
  v.total_usd = r.total_usd;
  v.pretrain_gpu_hours = r.pretrain_gpu_hours;
  v.usd_per_gpu_hour = r.usd_per_gpu_hour;
  v.gpu = r.hw.name;
  v.precision = sim::to_string(sc.precision);
  return v;
}

struct PlotOpts {
  std::vector<std::string> files;
  std::string reference, out_dir;
  bool no_png = false;
};

ReportInputs inputs(const std::vector<std::string>& files, const std::string& reference) {
  std::vector<fs::path> paths(files.begin(), files.end());
  auto in = load_report_inputs(paths);
  if (!reference.empty()) in.refs = load_reference(reference);
  return in;
}

ClaimInputs claim_inputs(const std::string& config, const std::string& sim_json, const std::string& run,
                         const std::string& scenario = "", const std::vector<std::string>& sets = {}, bool run_sim = true) {
  ClaimInputs ci;
  auto cfg = config.empty() ? model::ModelConfig::deepseek_v3() : model::ModelConfig::load(config);
  ci.model = model_values(cfg);
  if (!sim_json.empty()) ci.sim = sim_values_from_json_file(sim_json);
  else if (run_sim) ci.sim = simulate_for_claims(scenario, sets, config);
  if (!run.empty()) {
    auto r = read_run(run);
    ci.run_source = fs::path(run).filename().string();
    for (auto& t : r.tasks)
      if (t.metrics.n_items > 0) ci.run_scores[t.info.name] = 100 * t.metrics.primary.value;
  }
  return ci;
}

void add_report(CLI::App& root) {
  auto* rep = root.add_subcommand("report", "Tables, plots, claims check and an HTML page from RUN.h5 files");
  rep->require_subcommand(1);

  auto t = std::make_shared<TableOpts>();
  auto* table = rep->add_subcommand(
      "table", "Model x benchmark table from RUN.h5 files (and published scores); scenario table from SIM.h5 files");
  table->add_option("files", t->files, "RUN.h5 (dsv3.eval_run) and/or SIM.h5 (dsv3.simulation) files");
  table->add_option("--reference", t->reference,
                    "published reference scores: 'published' (all shipped), a shipped file stem, or a YAML path");
  table->add_option("--format", t->format, "md, csv, latex or html")->capture_default_str();
  table->add_option("-o,--out", t->out, "write to this file instead of stdout");
  table->add_option("--pivot", t->pivot, "ROW,COL: sweep parameters for a pivot table of --metric (default: the first two "
                                         "swept keys when a sweep varies two or more)");
  table->add_option("--metric", t->metric,
                    "pivot cell: gpu_hours, usd, days, mfu, step_time_s, memory_per_gpu_gib, ...")
      ->capture_default_str();
  table->callback([t] {
    auto f = parse_format(t->format);
    if (t->files.empty() && t->reference.empty())
      throw InputError("report table: give RUN.h5 files and/or --reference published");
    auto in = inputs(t->files, t->reference);
    std::vector<Table> tables;
    std::string text;
    if (!in.runs.empty() || !in.refs.empty()) text += render_score_table(build_score_table(in.runs, in.refs), f);
    for (size_t i = 1; i < in.runs.size(); ++i) text += "\n" + render(paired_comparison(in.runs[0], in.runs[i]), f);
    if (!in.sims.empty()) {
      std::vector<std::string> files;
      for (auto& x : in.sims)
        if (std::find(files.begin(), files.end(), x.file) == files.end()) files.push_back(x.file);
      std::string src = fmt::format("dsv3 simulate ({})", fmt::join(files, ", "));
      if (!text.empty()) text += "\n";
      text += render(sim_table(in.sims, src), f);
      std::string rp, cp;
      if (!t->pivot.empty()) {
        auto comma = t->pivot.find(',');
        if (comma == std::string::npos) throw InputError("--pivot: expected ROW,COL");
        rp = t->pivot.substr(0, comma);
        cp = t->pivot.substr(comma + 1);
      } else if (auto axes = sweep_axes(in.sims); axes.size() >= 2) {
        rp = axes[0];
        cp = axes[1];
      }
      if (!rp.empty()) text += "\n" + render(sim_pivot(in.sims, rp, cp, t->metric, src), f);
    }
    emit(text, t->out);
  });

  auto s = std::make_shared<TableOpts>();
  auto* show = rep->add_subcommand("show", "Summary of one run: provenance, per-task scores, per-subject scores");
  show->add_option("file", s->files, "RUN.h5")->required()->expected(1);
  show->add_option("--format", s->format, "md, csv, latex or html")->capture_default_str();
  show->add_option("-o,--out", s->out, "write to this file instead of stdout");
  show->callback([s] {
    auto f = parse_format(s->format);
    emit(join_tables(run_summary(read_run(s->files.at(0))), f), s->out);
  });

  auto c = std::make_shared<ClaimsOpts>();
  auto* claims = rep->add_subcommand("claims", "The article's claims against dsv3's values and the primary sources");
  claims->add_option("--config", c->config, "model config.json or folder (default: the bundled DeepSeek-V3 config)");
  claims->add_option("--sim", c->sim, "JSON from `dsv3 simulate --format json` to use instead of simulating");
  claims->add_option("--scenario", c->scenario, "scenario YAML for the cost claims (default: the published run)");
  claims->add_option("--set", c->sets, "override a scenario key for the cost claims (repeatable)");
  claims->add_flag("--no-sim", c->no_sim, "leave the cost claims unsimulated");
  claims->add_option("--run", c->run, "RUN.h5 whose scores fill the benchmark rows' computed column");
  claims->add_option("--reference", c->reference, "published scores to check the benchmark table against")
      ->capture_default_str();
  claims->add_option("--format", c->format, "md, csv, latex or html")->capture_default_str();
  claims->add_option("-o,--out", c->out, "write to this file instead of stdout");
  claims->callback([c] {
    auto f = parse_format(c->format);
    auto ci = claim_inputs(c->config, c->sim, c->run, c->scenario, c->sets, !c->no_sim);
    auto rows = check_claims(ci, default_claims_dir(), load_reference(c->reference));
    emit(render(claims_table(rows, ci), f), c->out);
  });

  auto p = std::make_shared<PlotOpts>();
  auto* plot = rep->add_subcommand("plot", "SVG figures (and PNG where a converter is installed) into a folder");
  plot->add_option("files", p->files, "RUN.h5 files");
  plot->add_option("--reference", p->reference, "published reference scores to plot beside the runs");
  plot->add_option("--out-dir", p->out_dir, "folder for the figures")->required();
  plot->add_flag("--no-png", p->no_png, "SVG only");
  plot->callback([p] {
    auto in = inputs(p->files, p->reference);
    fs::create_directories(p->out_dir);
    auto figs = report_figures(in);
    if (figs.empty()) throw InputError("report plot: nothing to plot (give RUN.h5 files or --reference)");
    for (auto& fig : figs) {
      fs::path svg = fs::path(p->out_dir) / (fig.name + ".svg");
      auto png = write_svg(svg, fig.svg, !p->no_png);
      fmt::print("{}\n", svg.string());
      if (png) fmt::print("{}\n", png->string());
    }
  });

  auto h = std::make_shared<HtmlOpts>();
  auto* html = rep->add_subcommand("html", "One self-contained HTML page with the tables and figures");
  html->add_option("files", h->files, "RUN.h5 files");
  html->add_option("--reference", h->reference, "published reference scores ('published', a file stem or a path)");
  html->add_option("--config", h->config, "model config for the claims section (default: bundled DeepSeek-V3)");
  html->add_option("--sim", h->sim, "JSON from `dsv3 simulate --format json` for the claims section");
  html->add_flag("!--no-claims", h->claims, "leave out the claims section");
  html->add_option("--title", h->title, "page title")->capture_default_str();
  html->add_option("-o,--out", h->out, "the HTML file to write")->required();
  html->callback([h] {
    auto in = inputs(h->files, h->reference);
    auto tables = report_tables(in);
    for (auto& r : in.runs) {
      auto sum = run_summary(r);
      tables.insert(tables.end(), sum.begin(), sum.end());
    }
    if (h->claims) {
      auto ci = claim_inputs(h->config, h->sim, in.runs.empty() ? "" : in.runs[0].file.string());
      tables.push_back(claims_table(check_claims(ci, default_claims_dir(), load_reference("published")), ci));
    }
    auto figs = report_figures(in);
    emit(html_page(h->title, tables, figs, fmt::format("Made by dsv3 {} (git {}) at {}.", DSV3_VERSION, DSV3_GIT_HASH, utc_now_iso())),
         h->out);
  });
}

const Registrar reg(60, add_report);

}  // namespace
}  // namespace dsv3::cli
