#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "model/config.hpp"
#include "model/errors.hpp"
#include "support/test_support.hpp"

using dsv3::InputError;
using dsv3::model::ModelConfig;

TEST(ModelConfig, ReleasedDeepSeekV3) {
  auto c = ModelConfig::deepseek_v3();
  EXPECT_EQ(c.hidden_size, 7168);
  EXPECT_EQ(c.num_hidden_layers, 61);
  EXPECT_EQ(c.num_moe_layers(), 58);
  EXPECT_EQ(c.kv_cache_dim(), 576);
  EXPECT_EQ(c.qk_head_dim(), 192);
  EXPECT_TRUE(c.rope_scaling.is_yarn());
  EXPECT_TRUE(c.quantization.present);
  EXPECT_EQ(c.quantization.block_n, 128);
  // 192^-1/2 * (0.1 ln 40 + 1)^2 = 0.0721688 * 1.8738542 (model facts §3.4).
  EXPECT_NEAR(c.softmax_scale(), 0.1352338, 1e-6);
}

namespace {
nlohmann::json v3_json() {
  return nlohmann::json::parse(dsv3::test::read_file(dsv3::test::source_dir() / "model/configs/deepseek-v3.json"));
}
void expect_error(const nlohmann::json& j, const std::string& needle) {
  try {
    ModelConfig::from_json(j, "cfg.json");
    FAIL() << "no error for " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(ModelConfig, UnknownKeyIsAnError) {
  auto j = v3_json();
  j["hiden_size"] = 7;
  expect_error(j, "'hiden_size': unknown key");
}

TEST(ModelConfig, InconsistentValuesAreErrors) {
  auto j = v3_json();
  j["n_group"] = 7;
  expect_error(j, "'n_group'");
  j = v3_json();
  j["topk_group"] = 9;
  expect_error(j, "'topk_group'");
  j = v3_json();
  j["num_key_value_heads"] = 8;
  expect_error(j, "'num_key_value_heads'");
  j = v3_json();
  j["hidden_size"] = "big";
  expect_error(j, "'hidden_size': expected an integer");
  j = v3_json();
  j["rope_scaling"]["type"] = "ntk";
  expect_error(j, "rope_scaling.type");
  j = v3_json();
  j.erase("vocab_size");
  expect_error(j, "'vocab_size': missing");
}

TEST(ModelConfig, TransformersFiveRopeParameters) {
  auto j = v3_json();
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 5000.0}, {"factor", 40.0},
                          {"original_max_position_embeddings", 4096}, {"beta_fast", 32.0}, {"beta_slow", 1.0},
                          {"mscale", 1.0}, {"mscale_all_dim", 1.0}};
  auto c = ModelConfig::from_json(j, "cfg.json");
  EXPECT_TRUE(c.rope_scaling.is_yarn());
  EXPECT_EQ(c.rope_theta, 5000.0);
  EXPECT_EQ(c.rope_scaling.factor, 40.0);
}

TEST(ModelConfig, MissingFileNamesIt) {
  try {
    ModelConfig::load("/nonexistent/dir");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir"), std::string::npos);
  }
}

#include "model/model_info.hpp"

TEST(ModelInfo, DeepSeekV3ParameterCountsAndKvBytes) {
  auto c = ModelConfig::deepseek_v3();
  // README: 671B main model, 37B activated; README_WEIGHTS: 14B more with MTP (model facts §1).
  EXPECT_NEAR(dsv3::model::total_params(c, false) / 1e9, 671.0, 1.0);
  EXPECT_NEAR(dsv3::model::activated_params(c) / 1e9, 37.0, 0.6);
  EXPECT_NEAR((dsv3::model::total_params(c, true) - dsv3::model::total_params(c, false)) / 1e9, 11.5, 0.6);
  auto kv = dsv3::model::kv_bytes_per_token(c, 2);
  EXPECT_EQ(kv.mla, 576 * 61 * 2);  // 70,272 B per token in BF16 (model facts §3.5)
  EXPECT_EQ(kv.mha, 128 * (192 + 128) * 61 * 2);
}
