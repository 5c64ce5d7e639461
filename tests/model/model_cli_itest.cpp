// End to end: dsv3 model info | forward and dsv3 generate on the HF fixtures, through the
// built binary (JSON contracts of DESIGN.md, exit codes).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "model/data_dir.hpp"
#include "model/tokenizer.hpp"
#include "model_fixture_util.hpp"

using dsv3::test::run_dsv3;
using nlohmann::json;

namespace {
std::string ids_arg(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s;
}
}  // namespace

TEST(ModelCli, ForwardAllPositionsMatchesHF) {
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto g = dsv3::test::load_golden(name);
    auto ids = g.sequences()[1];
    auto r = run_dsv3({"model", "forward", "--model", dsv3::test::fixture_dir(name), "--ids", ids_arg(ids),
                       "--all-positions", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_EQ(j["logits"].size(), ids.size());
    std::vector<float> got;
    for (const auto& row : j["logits"])
      for (const auto& v : row) got.push_back(v.get<float>());
    EXPECT_LE(dsv3::test::max_abs_diff(got, g.tensor("seq1.logits")), 1e-3f) << name;
    EXPECT_NE(r.err.find("tokens/s"), std::string::npos);
    // Last position only by default.
    auto last = run_dsv3({"model", "forward", "--model", dsv3::test::fixture_dir(name), "--ids", ids_arg(ids),
                          "--format", "json", "--attention", "naive"});
    ASSERT_EQ(last.exit_code, 0) << last.err;
    EXPECT_EQ(json::parse(last.out)["logits"].size(), 1u);
  }
}

TEST(ModelCli, GenerateGreedyMatchesHF) {
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto g = dsv3::test::load_golden(name);
    auto ids = g.sequences()[0];
    auto want = g.meta["greedy"][0].get<std::vector<int32_t>>();
    auto r = run_dsv3({"generate", "--model", dsv3::test::fixture_dir(name), "--ids", ids_arg(ids), "--max-new-tokens",
                       "12", "--temperature", "0", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_EQ(j["ids"].get<std::vector<int32_t>>(), want) << name;
    EXPECT_NE(r.err.find("tokens/s"), std::string::npos) << r.err;
    auto s = run_dsv3({"generate", "--model", dsv3::test::fixture_dir(name), "--ids", ids_arg(ids), "--max-new-tokens",
                       "12", "--mtp", "--format", "json"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    auto js = json::parse(s.out);
    EXPECT_EQ(js["ids"].get<std::vector<int32_t>>(), want) << name;
    EXPECT_GT(js["mtp"]["drafted"].get<int>(), 0);
  }
}

TEST(ModelCli, GenerateDecodesWithTheRealTokenizer) {
  auto tok_path = dsv3::model::default_tokenizer_path();
  if (!std::filesystem::exists(tok_path)) GTEST_SKIP() << "no tokenizer.json (scripts/setup.sh installs it)";
  auto tok = dsv3::model::Tokenizer::load(tok_path);
  auto r = run_dsv3({"generate", "--model", dsv3::test::fixture_dir("tiny-bf16"), "--ids", "5,6,7", "--max-new-tokens",
                     "6", "--format", "json", "--tokenizer", tok_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  auto ids = j["ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(j["text"].get<std::string>(), tok.decode(ids, true));
  // A prompt goes through the chat template and the tokenizer; the tiny model's 320-row
  // embedding cannot take the real vocabulary's ids, which is reported as bad input.
  auto p = run_dsv3({"generate", "--model", dsv3::test::fixture_dir("tiny-bf16"), "--prompt", "Hi", "--tokenizer",
                     tok_path.string()});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("token id 128803 out of range"), std::string::npos) << p.err;  // <｜User｜>
}

TEST(ModelCli, InfoReportsParamsAndKvBytes) {
  auto r = run_dsv3({"model", "info", "--model", dsv3::test::fixture_dir("tiny-fp8"), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["architecture"]["moe_layers"].get<int>(), 2);
  EXPECT_EQ(j["kv_cache_bytes_per_token"]["mla_bf16"].get<int64_t>(), (144 + 16) * 4 * 2);
  bool fp8 = false;
  int64_t stored = 0;
  for (const auto& p : j["params"]["stored_by_component_and_dtype"]) {
    fp8 = fp8 || p["dtype"] == "F8_E4M3";
    if (p["component"] != "fp8_block_scales" && p["component"].get<std::string>().rfind("mtp.", 0) != 0)
      stored += p["params"].get<int64_t>();
  }
  EXPECT_TRUE(fp8);
  EXPECT_EQ(stored, j["params"]["total"].get<int64_t>());  // the config's count equals the file's
  auto t = run_dsv3({"model", "info", "--model", (dsv3::test::source_dir() / "model/configs/deepseek-v3.json").string()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("671,026,419,200"), std::string::npos) << t.out;
}

TEST(ModelCli, BadInputExitsTwoWithTheFileNamed) {
  auto r = run_dsv3({"model", "forward", "--model", "/nonexistent/model", "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/model"), std::string::npos) << r.err;
  dsv3::test::TempDir t;
  std::filesystem::copy(dsv3::test::fixture_dir("tiny-fp8"), t.path() / "m");
  std::filesystem::resize_file(t.path() / "m" / "model.safetensors", 4096);
  r = run_dsv3({"generate", "--model", (t.path() / "m").string(), "--ids", "1,2", "--format", "json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("model.safetensors: truncated"), std::string::npos) << r.err;
  r = run_dsv3({"model", "forward", "--model", dsv3::test::fixture_dir("tiny-bf16"), "--ids", "1,99999"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("token id 99999 out of range"), std::string::npos) << r.err;
  r = run_dsv3({"generate", "--model", dsv3::test::fixture_dir("tiny-bf16"), "--ids", "1", "--mtp", "--temperature", "-1"});
  EXPECT_EQ(r.exit_code, 2);
}
