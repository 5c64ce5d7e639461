#pragma once
// "Model x benchmark" tables: one row per run or published reference model, one column per
// benchmark; each cell the score (percent) ± the half-width of its 95% CI, with metric and
// shot count; cells whose setting differs from the rest of their column are marked. Plus the
// paired comparison of two runs on their common items, and a run's summary.
#include <optional>
#include <string>
#include <vector>

#include "reports/published_scores.hpp"
#include "reports/run_report.hpp"
#include "reports/table.hpp"

namespace dsv3::reports {

struct ScoreCell {
  double value = 0;                          // percent
  bool has_ci = false;                       // runs only
  double ci_low = 0, ci_high = 0;            // percent
  std::string metric;
  int64_t shots = -1;                        // -1: the source gives none
  std::string dataset_sha256;                // runs only
  int64_t n = 0;                             // items (runs only)
  bool setting_differs = false;              // metric or shots differ from the column's usual
  bool dataset_differs = false;              // a run scored a different dataset file
  std::string setting() const;               // "acc, 5-shot"
};

struct ScoreRow {
  std::string label;
  bool published = false;
  std::string source;                        // document + table for published rows, file for runs
  std::vector<std::optional<ScoreCell>> cells;  // one per column
};

struct ScoreTable {
  std::vector<std::string> columns;  // benchmark keys
  std::vector<ScoreRow> rows;
  std::vector<std::string> notes;
};

// Runs first (in the order given), then the published rows (model order of first appearance).
ScoreTable build_score_table(const std::vector<RunData>& runs, const std::vector<PublishedScore>& refs);

// md/latex/html: the wide table; csv: one line per cell (tidy), with numeric columns.
Table score_table_wide(const ScoreTable& t);
Table score_table_long(const ScoreTable& t);
std::string render_score_table(const ScoreTable& t, Format f);

// Paired comparison of run b against run a on every task both ran, joined on item id.
// McNemar (exact) when both have one sample per item, paired bootstrap (10000 resamples,
// fixed seed) of per-item scores always.
Table paired_comparison(const RunData& a, const RunData& b);

// `dsv3 report show`: provenance, per-task summary, per-subject scores.
std::vector<Table> run_summary(const RunData& r);

// Label of a run in tables: model name and file name.
std::string run_label(const RunData& r);

}  // namespace dsv3::reports
