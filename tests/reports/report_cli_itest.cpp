// dsv3 report end to end: the built binary on real RUN.h5 files; plots parsed as XML and
// converted to PNG; the HTML page opened in headless Chromium with a screenshot.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "reports/report_fixtures.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using dsv3::test::run;
using dsv3::test::run_dsv3;

namespace {

bool have(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

// Width and height from a PNG's IHDR.
std::pair<int, int> png_size(const fs::path& p) {
  std::string s = dsv3::test::read_file(p);
  if (s.size() < 24 || s.compare(1, 3, "PNG") != 0) return {0, 0};
  auto be = [&](size_t o) {
    return (static_cast<unsigned char>(s[o]) << 24) | (static_cast<unsigned char>(s[o + 1]) << 16) |
           (static_cast<unsigned char>(s[o + 2]) << 8) | static_cast<unsigned char>(s[o + 3]);
  };
  return {static_cast<int>(be(16)), static_cast<int>(be(20))};
}

struct Fixture {
  dsv3::test::TempDir tmp;
  std::string a, b;
  Fixture() {
    dsv3::test::write_fixture_runs(tmp / "RUN_A.h5", tmp / "RUN_B.h5");
    a = (tmp / "RUN_A.h5").string();
    b = (tmp / "RUN_B.h5").string();
  }
};

}  // namespace

TEST(ReportCli, TableMatchesTheGoldenAndAddsThePairedComparison) {
  Fixture f;
  auto r = run_dsv3({"report", "table", f.a, f.b, "--reference", "deepseek-v3-base", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto golden = dsv3::test::read_file(dsv3::test::test_data_dir() / "reports/golden/score_table.csv");
  EXPECT_EQ(r.out.substr(0, golden.size()), golden);
  EXPECT_NE(r.out.find("benchmark,common items"), std::string::npos);
  auto md = run_dsv3({"report", "table", f.a, "--format", "md"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| model-a (RUN_A.h5) | 75.0 ± 17.8 (acc, 5-shot) |"), std::string::npos) << md.out;
}

TEST(ReportCli, ShowAndClaims) {
  Fixture f;
  auto s = run_dsv3({"report", "show", f.a});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("### Per subject: mmlu"), std::string::npos);
  auto c = run_dsv3({"report", "claims", "--run", f.a, "--format", "csv"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("671B total parameters,671.03B"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("DeepSeek V3 MMLU: 88.5,75.0 (RUN_A.h5)"), std::string::npos) << c.out;
}

TEST(ReportCli, BadInputIsOneLineAndExitTwo) {
  Fixture f;
  dsv3::test::write_file(f.tmp / "notes.txt", "hello");
  auto r = run_dsv3({"report", "table", (f.tmp / "notes.txt").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "dsv3: error: " + (f.tmp / "notes.txt").string() + ": not an HDF5 file\n");
  auto fmt = run_dsv3({"report", "table", f.a, "--format", "docx"});
  EXPECT_EQ(fmt.exit_code, 2);
  EXPECT_NE(fmt.err.find("--format: unknown format 'docx'"), std::string::npos);
  auto ref = run_dsv3({"report", "table", f.a, "--reference", "nosuch"});
  EXPECT_EQ(ref.exit_code, 2);
  auto cfg = run_dsv3({"report", "claims", "--config", (f.tmp / "missing.json").string()});
  EXPECT_EQ(cfg.exit_code, 2) << cfg.err;
}

TEST(ReportCli, PlotsAreWellFormedSvgAndConvertToPng) {
  Fixture f;
  auto dir = f.tmp / "fig";
  auto r = run_dsv3({"report", "plot", f.a, f.b, "--reference", "deepseek-v3-base", "--out-dir", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto svg = dir / "benchmarks.svg";
  ASSERT_TRUE(fs::exists(svg));
  auto x = run({"/usr/bin/python3", "-c",
                "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
                "ns = '{http://www.w3.org/2000/svg}'; "
                "print(len(r.findall('.//' + ns + 'rect')), r.find(ns + 'title').text)",
                svg.string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  // background 1 + bars where a value exists (model-a 3, model-b 2, 4 published x 4) + 6 legend squares
  EXPECT_EQ(x.out, "28 Benchmark scores\n");
  auto text = dsv3::test::read_file(svg);
  EXPECT_NE(text.find(">score (%)</text>"), std::string::npos);  // y axis with unit
  EXPECT_NE(text.find("Source: RUN_A.h5, RUN_B.h5"), std::string::npos);
  if (!have("rsvg-convert") && !have("chromium")) GTEST_SKIP() << "no SVG-to-PNG converter installed";
  auto png = dir / "benchmarks.png";
  ASSERT_TRUE(fs::exists(png)) << r.out;
  auto [w, h] = png_size(png);
  EXPECT_EQ(w, 760);
  EXPECT_NE(text.find(fmt::format("height=\"{}\"", h)), std::string::npos) << h;  // the SVG's own size
  if (auto keep = std::getenv("DSV3_PLOT_DIR")) fs::copy_file(png, fs::path(keep) / "benchmarks.png", fs::copy_options::overwrite_existing);
}

TEST(ReportCli, HtmlPageOpensInHeadlessChromium) {
  Fixture f;
  auto page = f.tmp / "report.html";
  auto r = run_dsv3({"report", "html", f.a, f.b, "--reference", "published", "-o", page.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto html = dsv3::test::read_file(page);
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no external resources
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("The article&#39;s claims"), std::string::npos);
  // The page parses as HTML without errors in Python's parser too (balanced, no stray end tags).
  auto p = run({"/usr/bin/python3", "-c", R"(import sys, html.parser
class P(html.parser.HTMLParser):
    void = {"meta", "br", "img", "hr", "input", "link", "rect", "line", "circle", "polyline"}
    def __init__(s): super().__init__(); s.stack = []; s.bad = 0
    def handle_starttag(s, t, a):
        if t not in s.void: s.stack.append(t)
    def handle_startendtag(s, t, a): pass
    def handle_endtag(s, t):
        if t in s.void: return
        if not s.stack or s.stack.pop() != t: s.bad += 1
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); print(p.bad, len(p.stack))
)",
                page.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, "0 0\n");
  if (!have("chromium")) GTEST_SKIP() << "chromium not installed (scripts/setup.sh installs it)";
  auto profile = f.tmp / "chromium-profile";
  std::vector<std::string> base = {"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                   "--no-first-run", "--user-data-dir=" + profile.string()};
  auto dom = base;
  dom.push_back("--dump-dom");
  dom.push_back("file://" + page.string());
  auto d = run(dom);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_NE(d.out.find("<caption>Benchmark scores</caption>"), std::string::npos);
  EXPECT_NE(d.out.find("<svg"), std::string::npos);
  auto shot = f.tmp / "report.png";
  auto s = base;
  s.push_back("--window-size=1280,2400");
  s.push_back("--screenshot=" + shot.string());
  s.push_back("file://" + page.string());
  auto sr = run(s);
  ASSERT_EQ(sr.exit_code, 0) << sr.err;
  ASSERT_TRUE(fs::exists(shot));
  auto [w, h] = png_size(shot);
  EXPECT_EQ(w, 1280);
  EXPECT_EQ(h, 2400);
  EXPECT_GT(fs::file_size(shot), 50000u);  // a rendered page, not a blank image
  if (auto keep = std::getenv("DSV3_KEEP_SCREENSHOT")) fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
}
