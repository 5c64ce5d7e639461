// Golden tests for every table format, on RUN.h5 files written and read back for real.
// DSV3_UPDATE_GOLDEN=1 rewrites tests/data/reports/golden/ (then review the diff).
#include <gtest/gtest.h>

#include <cstdlib>

#include "model/errors.hpp"
#include "reports/claims.hpp"
#include "reports/published_scores.hpp"
#include "reports/score_table.hpp"
#include "support/test_support.hpp"
#include "reports/report_fixtures.hpp"

using namespace dsv3::reports;
namespace fs = std::filesystem;

namespace {

fs::path golden(const std::string& name) { return dsv3::test::test_data_dir() / "reports" / "golden" / name; }

void check_golden(const std::string& name, const std::string& got) {
  if (std::getenv("DSV3_UPDATE_GOLDEN")) {
    dsv3::test::write_file(golden(name), got);
    return;
  }
  ASSERT_TRUE(fs::exists(golden(name))) << golden(name) << " missing (run with DSV3_UPDATE_GOLDEN=1)";
  EXPECT_EQ(got, dsv3::test::read_file(golden(name))) << "golden " << name << " differs";
}

struct Runs {
  dsv3::test::TempDir tmp;
  std::vector<RunData> runs;
  Runs() {
    dsv3::test::write_fixture_runs(tmp / "RUN_A.h5", tmp / "RUN_B.h5");
    runs = {read_run(tmp / "RUN_A.h5"), read_run(tmp / "RUN_B.h5")};
  }
};

}  // namespace

TEST(ReportTables, ScoreTableGoldenInEveryFormat) {
  Runs r;
  auto refs = load_reference("deepseek-v3-base");
  auto t = build_score_table(r.runs, refs);
  check_golden("score_table.md", render_score_table(t, Format::markdown));
  check_golden("score_table.csv", render_score_table(t, Format::csv));
  check_golden("score_table.tex", render_score_table(t, Format::latex));
  check_golden("score_table.html", render_score_table(t, Format::html));
}

TEST(ReportTables, CellsCarryScoreCiMetricShotsAndMarks) {
  Runs r;
  auto t = build_score_table(r.runs, load_reference("deepseek-v3-base"));
  ASSERT_EQ(t.columns, (std::vector<std::string>{"mmlu", "humaneval", "gsm8k", "math"}));
  auto& a = *t.rows[0].cells[0];  // model-a MMLU: 15/20
  EXPECT_DOUBLE_EQ(a.value, 75.0);
  EXPECT_TRUE(a.has_ci);
  EXPECT_LT(a.ci_low, 75.0);
  EXPECT_EQ(a.setting(), "acc, 5-shot");
  EXPECT_FALSE(a.setting_differs);
  EXPECT_TRUE(t.rows[1].cells[0]->setting_differs);  // model-b MMLU is 0-shot
  EXPECT_TRUE(t.rows[1].cells[2]->dataset_differs);  // model-b GSM8K: other file
  EXPECT_FALSE(t.rows[1].cells[1]);                  // model-b has no HumanEval
  // humaneval pass@1 over 3 samples: problems pass 0/3, 1/3, 2/3, 3/3 -> 50%.
  EXPECT_DOUBLE_EQ(t.rows[0].cells[1]->value, 50.0);
  EXPECT_EQ(t.rows.size(), 6u);  // 2 runs + 4 published base models
  EXPECT_EQ(t.rows[2].label, "DeepSeek-V3 Base [published]");
  EXPECT_DOUBLE_EQ(t.rows[2].cells[0]->value, 87.1);
}

TEST(ReportTables, PairedComparisonGolden) {
  Runs r;
  auto t = paired_comparison(r.runs[0], r.runs[1]);
  // MMLU: A right on i%4!=3 (15), B on even i (10). Discordant: A-only = odd i not 3 mod 4 = 5,
  // B-only = even i with i%4==3: none -> b/c = 5/0, exact p = 2 * 0.5^5 = 0.0625.
  ASSERT_EQ(t.rows.size(), 2u);  // GSM8K and MMLU (model-b ran no HumanEval)
  auto& mmlu = t.rows[1];
  ASSERT_EQ(mmlu[0], "MMLU");
  EXPECT_EQ(mmlu[1], "20");
  EXPECT_EQ(mmlu[5], "5/0");
  EXPECT_EQ(mmlu[6], "0.0625");
  EXPECT_EQ(mmlu[9], "no significant difference");
  check_golden("paired.md", render(t, Format::markdown));
}

TEST(ReportTables, RunSummaryGolden) {
  Runs r;
  std::string s;
  for (auto& t : run_summary(r.runs[0])) s += render(t, Format::markdown) + "\n";
  check_golden("run_summary.md", s);
}

TEST(ReportTables, PublishedRowsAllCarryTheirSource) {
  auto all = load_reference("published");
  ASSERT_GE(all.size(), 16u + 21u);
  for (auto& p : all) {
    EXPECT_FALSE(p.document.empty()) << p.model << " " << p.benchmark;
    EXPECT_FALSE(p.table.empty()) << p.model << " " << p.benchmark;
    EXPECT_FALSE(p.setting.empty()) << p.model << " " << p.benchmark;
  }
  dsv3::test::TempDir tmp;
  dsv3::test::write_file(tmp / "bad.yaml",
                         "tables:\n  - {document: d, table: t, setting: s, kind: base, rows: [{model: m, benchmark: mmlu, "
                         "metric: acc, shots: 5, value: 187.1}]}\n");
  try {
    load_published_file(tmp / "bad.yaml");
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml: tables[0].rows[0]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a percentage"), std::string::npos) << e.what();
  }
}
