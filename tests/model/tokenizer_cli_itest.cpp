// dsv3 tokenize, the real binary on the real tokenizer.json: the JSONL contract of
// DESIGN.md, --decode, the table for people, --chat, and bad input (exit 2, one line
// naming the line or file).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.hpp"

using dsv3::test::run_dsv3;

TEST(TokenizeCli, JsonlMatchesHfGoldens) {
  auto corpus = dsv3::test::read_file(dsv3::test::test_data_dir() / "tokenizer/corpus.jsonl");
  auto r = run_dsv3({"tokenize", "--jsonl"}, corpus);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream got(r.out), want(dsv3::test::read_file(dsv3::test::test_data_dir() / "tokenizer/corpus_hf.jsonl"));
  std::string g, w;
  size_t n = 0;
  while (std::getline(want, w)) {
    ASSERT_TRUE(static_cast<bool>(std::getline(got, g))) << "output ended at line " << n + 1;
    EXPECT_EQ(nlohmann::json::parse(g), nlohmann::json::parse(w)["ids"]) << "line " << n + 1;
    ++n;
  }
  EXPECT_GT(n, 300u);
}

TEST(TokenizeCli, DecodeJsonlAndPlain) {
  auto r = run_dsv3({"tokenize", "--jsonl", "--decode"}, "[19923,14,2058,3]\n[0,128803,23166,128804]\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "\"Hello, world!\"\n\"<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>\"\n");
  r = run_dsv3({"tokenize", "--decode", "--skip-special", "0,128803,23166,128804"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<｜User｜>Hi<｜Assistant｜>");
}

TEST(TokenizeCli, TableForPeopleAndBos) {
  auto r = run_dsv3({"tokenize", "--bos", "Hello, world!"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("19923"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Ġworld"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(special)"), std::string::npos) << r.out;  // BOS
  EXPECT_NE(r.out.find("5 tokens"), std::string::npos) << r.out;
  r = run_dsv3({"tokenize", "--ids"}, "Hello, world!");
  EXPECT_EQ(r.out, "[19923,14,2058,3]\n");
}

TEST(TokenizeCli, ChatRenderAndIds) {
  dsv3::test::TempDir dir;
  dsv3::test::write_file(dir / "c.json", R"([{"role":"system","content":"You are helpful."},{"role":"user","content":"Hi"}])");
  auto r = run_dsv3({"tokenize", "--chat", (dir / "c.json").string(), "--add-generation-prompt", "--render"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>");
  dsv3::test::write_file(dir / "u.json", R"({"messages":[{"role":"user","content":"Hi"}]})");
  r = run_dsv3({"tokenize", "--chat", (dir / "u.json").string(), "--add-generation-prompt", "--ids"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[0,128803,23166,128804]\n");
}

TEST(TokenizeCli, BadInputIsExit2WithTheLine) {
  auto r = run_dsv3({"tokenize", "--jsonl"}, "\"ok\"\n{\"not\": \"a string\"}\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("stdin line 2"), std::string::npos) << r.err;
  r = run_dsv3({"tokenize", "--jsonl", "--decode"}, "[1, 99999999]\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("stdin line 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("99999999"), std::string::npos) << r.err;
  dsv3::test::TempDir dir;
  dsv3::test::write_file(dir / "tokenizer.json", R"({"model": {"type": "Unigram"}})");
  r = run_dsv3({"tokenize", "--tokenizer", (dir / "tokenizer.json").string(), "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos) << r.err;
  r = run_dsv3({"tokenize", "--tokenizer", "/nonexistent/tokenizer.json", "x"});
  EXPECT_EQ(r.exit_code, 2);
}
