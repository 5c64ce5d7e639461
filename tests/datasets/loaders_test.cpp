// Loaders on this project's samples and on deliberately malformed files.
#include <gtest/gtest.h>
#include <zlib.h>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/math_problems.hpp"
#include "datasets/mmlu.hpp"
#include "datasets/sha256.hpp"
#include "datasets/text_file.hpp"
#include "model/errors.hpp"
#include "support/test_support.hpp"

namespace ds = dsv3::datasets;
using dsv3::test::TempDir;

namespace {
void write_file(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  dsv3::test::write_file(p, content);
}
}  // namespace

namespace {
std::filesystem::path samples() { return dsv3::test::source_dir() / "datasets" / "samples"; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const dsv3::InputError& e) {
    return e.what();
  }
  return "<no error>";
}
}  // namespace

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ds::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ds::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ds::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(ds::sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Loaders, SamplesLoad) {
  auto test = ds::load_mmlu(samples(), "test");
  ASSERT_EQ(test.size(), 5u);
  EXPECT_EQ(test[0].subject, "astronomy");  // subjects in alphabetical order
  EXPECT_EQ(test[1].question, "Light from the Sun takes about how long to reach Earth?\n(Pick the closest value.)");
  EXPECT_EQ(test[4].question, "Which expression equals \"a, b\" written as a product of (a + b)(a - b)?");
  EXPECT_EQ(ds::load_mmlu(samples(), "dev").size(), 10u);
  EXPECT_EQ(ds::load_gsm8k(samples()).size(), 3u);
  auto he = ds::load_humaneval(samples());
  ASSERT_EQ(he.size(), 3u);
  EXPECT_EQ(he[0].entry_point, "add");
  auto m = ds::load_math(samples(), "test");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].level, 1);
  EXPECT_FALSE(m[0].answer.has_value());
  auto m5 = ds::load_math(samples(), "math500");
  ASSERT_EQ(m5.size(), 3u);
  EXPECT_EQ(*m5[1].answer, "2, 3");
  EXPECT_EQ(m5[1].level, 2);
}

TEST(Loaders, MalformedJsonLineNamesFileAndLine) {
  TempDir t;
  write_file(t / "gsm8k" / "test.jsonl",
             "{\"question\": \"q\", \"answer\": \"a\\n#### 1\"}\n\n{\"question\": \"q\", \"answer\": oops}\n");
  std::string e = error_of([&] { ds::load_gsm8k(t.path()); });
  EXPECT_NE(e.find("test.jsonl:3:"), std::string::npos) << e;
  write_file(t / "gsm8k" / "test.jsonl", "{\"question\": \"q\", \"answer\": \"no final line\"}\n");
  e = error_of([&] { ds::load_gsm8k(t.path()); });
  EXPECT_NE(e.find("test.jsonl:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("####"), std::string::npos) << e;
  write_file(t / "humaneval" / "HumanEval.jsonl", "{\"task_id\": \"a\", \"prompt\": \"p\"}\n");
  e = error_of([&] { ds::load_humaneval(t.path()); });
  EXPECT_NE(e.find("HumanEval.jsonl:1: missing field 'canonical_solution'"), std::string::npos) << e;
  write_file(t / "m.jsonl", "{\"problem\": \"p\", \"solution\": \"s\", \"type\": \"Algebra\", \"level\": \"Level 9\"}\n");
  e = error_of([&] { ds::load_math_jsonl(t / "m.jsonl"); });
  EXPECT_NE(e.find("m.jsonl:1: field 'level'"), std::string::npos) << e;
}

TEST(Loaders, MalformedCsvNamesFileAndLine) {
  TempDir t;
  write_file(t / "data" / "test" / "x_test.csv", "q1,a,b,c,d,A\n\"multi\nline\",a,b,c,d,B\nq3,a,b,c,E\n");
  std::string e = error_of([&] { ds::load_mmlu(t.path(), "test"); });
  EXPECT_NE(e.find("x_test.csv:4: expected 6 columns"), std::string::npos) << e;
  write_file(t / "data" / "test" / "x_test.csv", "q1,a,b,c,d,A\nq2,a,b,c,d,E\n");
  e = error_of([&] { ds::load_mmlu(t.path(), "test"); });
  EXPECT_NE(e.find("x_test.csv:2: answer must be one of A, B, C, D"), std::string::npos) << e;
  write_file(t / "data" / "test" / "x_test.csv", "q1,a,b,c,d,A\n\"open,a,b,c,d,A\n");
  e = error_of([&] { ds::load_mmlu(t.path(), "test"); });
  EXPECT_NE(e.find("x_test.csv:2: unterminated quoted field"), std::string::npos) << e;
}

TEST(Loaders, CsvQuotingLikePython) {
  auto recs = ds::parse_csv("\"a,b\",\"say \"\"hi\"\"\",x\r\n5 \"inch\" nails,\"\"\n", "t.csv");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (std::vector<std::string>{"a,b", "say \"hi\"", "x"}));
  EXPECT_EQ(recs[1].fields, (std::vector<std::string>{"5 \"inch\" nails", ""}));
  EXPECT_EQ(recs[1].line, 2);
}

TEST(Loaders, GzipAndMathTree) {
  TempDir t;
  std::string line =
      "{\"task_id\": \"T/0\", \"prompt\": \"def f():\\n\", \"canonical_solution\": \"    return 1\\n\", "
      "\"test\": \"def check(c):\\n    assert c() == 1\\n\", \"entry_point\": \"f\"}\n";
  std::filesystem::create_directories(t / "humaneval");
  gzFile f = gzopen((t / "humaneval" / "HumanEval.jsonl.gz").c_str(), "wb");
  gzwrite(f, line.data(), unsigned(line.size()));
  gzclose(f);
  auto he = ds::load_humaneval(t.path());
  ASSERT_EQ(he.size(), 1u);
  EXPECT_EQ(he[0].canonical_solution, "    return 1\n");
  // official MATH tree
  write_file(t / "math" / "MATH" / "test" / "algebra" / "10.json",
             "{\"problem\": \"p10\", \"level\": \"Level 2\", \"type\": \"Algebra\", \"solution\": \"\\\\boxed{1}\"}");
  write_file(t / "math" / "MATH" / "test" / "algebra" / "9.json",
             "{\"problem\": \"p9\", \"level\": \"Level ?\", \"type\": \"Algebra\", \"solution\": \"\\\\boxed{2}\"}");
  write_file(t / "math" / "MATH" / "test" / "geometry" / "1.json",
             "{\"problem\": \"g1\", \"level\": \"Level 5\", \"type\": \"Geometry\", \"solution\": \"\\\\boxed{3}\"}");
  auto m = ds::load_math(t.path(), "test");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].unique_id, "test/algebra/9.json");  // numeric order, not 10 before 9
  EXPECT_EQ(m[0].level, 0);
  EXPECT_EQ(m[1].unique_id, "test/algebra/10.json");
  EXPECT_EQ(m[2].subject, "Geometry");
  write_file(t / "math" / "MATH" / "test" / "geometry" / "2.json", "{\"problem\": ");
  std::string e = error_of([&] { ds::load_math(t.path(), "test"); });
  EXPECT_NE(e.find("2.json:1: not valid JSON"), std::string::npos) << e;
}
