#include "reports/report_inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "model/errors.hpp"
#include "reports/h5_file.hpp"
#include "reports/score_table.hpp"
#include "reports/sim_read.hpp"
#include "reports/svg_heatmap.hpp"

namespace dsv3::reports {

std::string file_schema(const std::filesystem::path& file) {
  auto f = h5::open_file(file, false);
  if (!h5::has_attr(f.id(), "schema"))
    throw InputError(fmt::format("{}: no root attribute 'schema' (not a dsv3 report file)", file.string()));
  return h5::attr_str(f.id(), "schema");
}

ReportInputs load_report_inputs(const std::vector<std::filesystem::path>& files) {
  ReportInputs in;
  for (auto& f : files) {
    auto schema = file_schema(f);
    if (schema == kEvalRunSchema) {
      in.runs.push_back(read_run(f));
    } else if (schema == kSimulationSchema) {
      auto s = read_simulation(f);
      in.sims.insert(in.sims.end(), s.begin(), s.end());
    } else {
      throw InputError(fmt::format("{}: schema '{}' is not one `dsv3 report` reads (dsv3.eval_run, dsv3.simulation)",
                                   f.string(), schema));
    }
  }
  // Scenarios that share a name (e.g. the same scenario file run with different --set) are
  // told apart by their file.
  std::map<std::string, int> seen;
  for (auto& x : in.sims) ++seen[x.name];
  for (auto& x : in.sims)
    if (seen[x.name] > 1 && x.params.empty()) x.name += " (" + x.file + ")";
  return in;
}

BarChart benchmark_plot(const ReportInputs& in) {
  auto st = build_score_table(in.runs, in.refs);
  BarChart c;
  c.title = "Benchmark scores";
  c.y_label = "score (%)";
  c.y_max = 100;
  for (auto& k : st.columns) c.categories.push_back(benchmark_display_name(k));
  for (auto& row : st.rows) {
    BarSeries s;
    s.name = row.label;
    for (auto& cell : row.cells) {
      s.values.push_back(cell ? std::optional<double>(cell->value) : std::nullopt);
      s.ci_low.push_back(cell && cell->has_ci ? std::optional<double>(cell->ci_low) : std::nullopt);
      s.ci_high.push_back(cell && cell->has_ci ? std::optional<double>(cell->ci_high) : std::nullopt);
    }
    c.series.push_back(s);
  }
  std::vector<std::string> src;
  for (auto& r : in.runs) src.push_back(r.file.filename().string());
  if (!in.refs.empty()) src.push_back("published scores (reports/published)");
  c.caption = fmt::format("Source: {}. Whiskers: 95% CI (runs only). Metric and shots per cell: see the table.",
                          fmt::join(src, ", "));
  return c;
}

std::vector<Figure> report_figures(const ReportInputs& in) {
  std::vector<Figure> out;
  if (!in.runs.empty() || !in.refs.empty()) out.push_back({"benchmarks", svg_bar_chart(benchmark_plot(in))});
  if (!in.sims.empty()) {
    std::vector<std::string> files;
    for (auto& s : in.sims)
      if (std::find(files.begin(), files.end(), s.file) == files.end()) files.push_back(s.file);
    std::string src = fmt::format("Source: dsv3 simulate ({})", fmt::join(files, ", "));
    if (std::any_of(in.sims.begin(), in.sims.end(), [](auto& x) { return x.compute_s.has_value(); }))
      out.push_back({"step_breakdown", svg_stacked_bars(step_breakdown_plot(in.sims, src))});
    int n_maps = 0;
    for (auto& x : in.sims) {
      if (x.gpu_load.empty()) continue;
      Heatmap h;
      h.title = fmt::format("Expert load per GPU and MoE layer: {}", x.name);
      h.x_label = "GPU (EP rank)";
      h.y_label = "MoE layer";
      h.value_label = "token-expert pairs";
      h.center_on_mean = true;
      h.values = x.gpu_load;
      h.row_names = x.load_layers;
      h.caption = fmt::format("Source: dsv3 simulate ({}), /routing group{}{}", x.file,
                              x.routing.empty() ? "" : "; routing: " + x.routing,
                              x.imbalance ? fmt::format("; mean max/mean GPU load {:.3f}", *x.imbalance) : "");
      out.push_back({n_maps++ ? fmt::format("expert_load_{}", n_maps) : "expert_load", heatmap_svg(h)});
    }
    // Sweep chart: x = the first swept key whose values are all numbers; lines = another swept key.
    auto axes = sweep_axes(in.sims);
    auto numeric = [&](const std::string& key) {
      for (auto& x : in.sims) {
        auto it = x.params.find(key);
        if (it == x.params.end()) continue;
        char* end = nullptr;
        std::strtod(it->second.c_str(), &end);
        if (it->second.empty() || *end != '\0') return false;
      }
      return true;
    };
    auto xk = std::find_if(axes.begin(), axes.end(), numeric);
    if (xk != axes.end()) {
      std::string series;
      for (auto& a : axes)
        if (a != *xk) {
          series = a;
          break;
        }
      out.push_back({"sweep", svg_line_chart(sweep_plot(in.sims, *xk, series, "gpu_hours", src))});
    }
  }
  return out;
}

std::vector<Table> report_tables(const ReportInputs& in) {
  std::vector<Table> out;
  if (!in.runs.empty() || !in.refs.empty()) out.push_back(score_table_wide(build_score_table(in.runs, in.refs)));
  for (size_t i = 1; i < in.runs.size(); ++i) out.push_back(paired_comparison(in.runs[0], in.runs[i]));
  if (!in.sims.empty()) {
    std::vector<std::string> files;
    for (auto& s : in.sims)
      if (std::find(files.begin(), files.end(), s.file) == files.end()) files.push_back(s.file);
    std::string src = fmt::format("dsv3 simulate ({})", fmt::join(files, ", "));
    out.push_back(sim_table(in.sims, src));
    auto axes = sweep_axes(in.sims);
    if (axes.size() >= 2) out.push_back(sim_pivot(in.sims, axes[0], axes[1], "gpu_hours", src));
  }
  return out;
}

std::string html_page(const std::string& title, const std::vector<Table>& tables, const std::vector<Figure>& figures,
                      const std::string& footer) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += fmt::format("<title>{}</title>\n", html_escape(title));
  o += R"(<style>
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 1200px; color: #111; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
table.dsv3 { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
table.dsv3 caption { text-align: left; font-weight: bold; padding-bottom: 0.4em; }
table.dsv3 th, table.dsv3 td { border: 1px solid #bbb; padding: 4px 8px; vertical-align: top; }
table.dsv3 th { background: #eef2f7; }
table.dsv3 td.num { text-align: right; }
div.notes p { font-size: 0.8em; color: #444; margin: 0.2em 0; }
figure { margin: 1.5em 0; } figcaption { font-size: 0.8em; color: #444; }
footer { margin-top: 3em; font-size: 0.8em; color: #666; }
</style>
</head>
<body>
)";
  o += fmt::format("<h1>{}</h1>\n", html_escape(title));
  if (!tables.empty()) o += "<h2>Tables</h2>\n";
  for (auto& t : tables) o += render(t, Format::html);
  if (!figures.empty()) o += "<h2>Figures</h2>\n";
  for (auto& f : figures) {
    // Drop the XML prolog-free SVG in as is: it is standalone markup.
    o += fmt::format("<figure id=\"fig-{}\">\n{}<figcaption>Figure: {}</figcaption>\n</figure>\n", html_escape(f.name),
                     f.svg, html_escape(f.name));
  }
  o += fmt::format("<footer>{}</footer>\n</body>\n</html>\n", html_escape(footer));
  return o;
}

}  // namespace dsv3::reports
