#pragma once
// What `dsv3 report` reads: run files (dsv3.eval_run) and simulation files, told apart by their
// root `schema` attribute; plus the figures, tables and page built from them.
#include <filesystem>
#include <string>
#include <vector>

#include "reports/published_scores.hpp"
#include "reports/run_report.hpp"
#include "reports/sim_table.hpp"
#include "reports/svg_plot.hpp"
#include "reports/table.hpp"

namespace dsv3::reports {

// Root attribute `schema` of an HDF5 report file. InputError when the file is not HDF5 or has none.
std::string file_schema(const std::filesystem::path& file);

struct ReportInputs {
  std::vector<RunData> runs;
  std::vector<SimScenario> sims;
  std::vector<PublishedScore> refs;
};

// Reads every file, sorted by kind. Unknown schemas are an InputError naming the file.
ReportInputs load_report_inputs(const std::vector<std::filesystem::path>& files);

// Grouped benchmark bars (percent) with 95% CI whiskers for runs, plain bars for references.
BarChart benchmark_plot(const ReportInputs& in);

struct Figure {
  std::string name;   // file stem: "benchmarks", "step_breakdown", "sweep"
  std::string svg;
};
std::vector<Figure> report_figures(const ReportInputs& in);
std::vector<Table> report_tables(const ReportInputs& in);

// One self-contained HTML page (inline CSS and SVG, no scripts, no external resources).
std::string html_page(const std::string& title, const std::vector<Table>& tables, const std::vector<Figure>& figures,
                      const std::string& footer);

}  // namespace dsv3::reports
