// The loaders against the real benchmark files in ../shared/data/benchmarks.
#include <gtest/gtest.h>

#include <set>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/math_problems.hpp"
#include "datasets/mmlu.hpp"
#include "support/test_support.hpp"

namespace ds = dsv3::datasets;

namespace {
std::filesystem::path bench(const char* sub) {
  auto p = dsv3::test::benchmarks_dir() / sub;
  return std::filesystem::exists(p) ? p : std::filesystem::path();
}
#define REQUIRE_DATA(sub)                                                                              \
  if (bench(sub).empty()) GTEST_SKIP() << "real benchmark files not present: " << (dsv3::test::benchmarks_dir() / sub)
}  // namespace

TEST(RealData, MmluCounts) {
  REQUIRE_DATA("mmlu");
  auto d = dsv3::test::benchmarks_dir();
  auto test = ds::load_mmlu(d, "test");
  EXPECT_EQ(test.size(), 14042u);
  EXPECT_EQ(ds::load_mmlu(d, "dev").size(), 285u);
  EXPECT_EQ(ds::load_mmlu(d, "val").size(), 1531u);
  std::set<std::string> subjects;
  for (auto& it : test) subjects.insert(it.subject);
  EXPECT_EQ(subjects.size(), 57u);
  int answers[4] = {0, 0, 0, 0};
  for (auto& it : test) answers[it.answer]++;
  EXPECT_EQ(answers[0], 3222);  // README: A 3222 / B 3462 / C 3582 / D 3776
  EXPECT_EQ(answers[3], 3776);
}

TEST(RealData, HumanEvalGsm8kMathCounts) {
  REQUIRE_DATA("humaneval");
  auto d = dsv3::test::benchmarks_dir();
  auto he = ds::load_humaneval(d);
  ASSERT_EQ(he.size(), 164u);
  EXPECT_EQ(he.front().task_id, "HumanEval/0");
  EXPECT_EQ(he.back().task_id, "HumanEval/163");
  EXPECT_EQ(ds::load_gsm8k(d, "test").size(), 1319u);
  EXPECT_EQ(ds::load_gsm8k(d, "train").size(), 7473u);
  auto m = ds::load_math(d, "test");
  EXPECT_EQ(m.size(), 5000u);
  auto m5 = ds::load_math(d, "math500");
  EXPECT_EQ(m5.size(), 500u);
  for (auto& p : m5) EXPECT_TRUE(p.answer.has_value()) << p.unique_id;
}

TEST(RealData, VerifyCommandPasses) {
  REQUIRE_DATA("gsm8k");
  auto r = dsv3::test::run_dsv3({"datasets", "verify", "--data-dir", dsv3::test::benchmarks_dir().string(), "--strict"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("177 ok, 0 missing, 0 not matching"), std::string::npos) << r.out;
}
