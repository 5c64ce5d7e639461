// The claims table is computed: change the model config and the values and verdicts change.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/config.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "reports/claims.hpp"
#include "reports/published_scores.hpp"
#include "support/test_support.hpp"

using namespace dsv3::reports;

namespace {
std::vector<ClaimRow> rows_for(const dsv3::model::ModelConfig& cfg) {
  ClaimInputs in;
  in.model = model_values(cfg);
  return check_claims(in, default_claims_dir(), load_reference("published"));
}
}  // namespace

TEST(Claims, ModelValuesFromTheReleasedConfig) {
  auto v = model_values(dsv3::model::ModelConfig::deepseek_v3());
  EXPECT_NEAR(v.total_params / 1e9, 671.03, 0.01);       // reference note §1.3: 671.03B
  EXPECT_NEAR(v.activated_params / 1e9, 37.55, 0.01);    // 37.55B with embedding and head
  EXPECT_NEAR(v.activated_params_no_embedding / 1e9, 36.63, 0.01);
  EXPECT_EQ(v.kv_bytes_per_token, 70272);                // ISCA'25 Table 1
  EXPECT_EQ(v.routed_experts, 256);
  EXPECT_EQ(v.experts_per_token, 8);
}

TEST(Claims, ChangingTheConfigChangesTheComputedColumn) {
  auto base = dsv3::model::ModelConfig::deepseek_v3();
  auto rows = rows_for(base);
  ASSERT_GE(rows.size(), 8u + 12u);
  EXPECT_EQ(rows[0].verdict.rfind("agrees", 0), 0u) << rows[0].verdict;
  EXPECT_EQ(rows[2].verdict.rfind("agrees", 0), 0u);

  // Half the experts and a quarter fewer layers: a different model.
  auto j = nlohmann::json::parse(dsv3::test::read_file(dsv3::model::source_path("model/configs/deepseek-v3.json")));
  j["n_routed_experts"] = 128;
  j["num_hidden_layers"] = 45;
  j["kv_lora_rank"] = 256;
  dsv3::test::TempDir tmp;
  dsv3::test::write_file(tmp / "config.json", j.dump());
  auto small = dsv3::model::ModelConfig::load(tmp / "config.json");
  auto rows2 = rows_for(small);
  EXPECT_NE(rows2[0].computed, rows[0].computed);
  EXPECT_EQ(rows2[0].verdict.rfind("disagrees", 0), 0u) << rows2[0].verdict;
  EXPECT_NE(rows2[2].computed, rows[2].computed);
  EXPECT_EQ(rows2[2].verdict, "disagrees");
  EXPECT_NE(rows2[3].computed, rows[3].computed);  // KV bytes per token
  auto v = model_values(small);
  EXPECT_EQ(v.kv_bytes_per_token, (256 + 64) * 45 * 2);
  EXPECT_LT(v.total_params, 0.5 * model_values(base).total_params);
}

TEST(Claims, SimulationValuesFeedTheCostRows) {
  ClaimInputs in;
  in.model = model_values(dsv3::model::ModelConfig::deepseek_v3());
  dsv3::test::TempDir tmp;
  dsv3::test::write_file(tmp / "sim.json",
                         R"({"cost": {"total_gpu_hours": 3.0e6, "total_usd": 6.0e6, "usd_per_gpu_hour": 2.0},
                             "scenario": {"hardware_name": "H800", "precision": "fp8"}})");
  in.sim = sim_values_from_json_file(tmp / "sim.json");
  auto rows = check_claims(in, default_claims_dir(), load_reference("published"));
  EXPECT_NE(rows[5].computed.find("$6.000M"), std::string::npos) << rows[5].computed;
  EXPECT_EQ(rows[5].verdict.rfind("roughly agrees (+7.6%)", 0), 0u) << rows[5].verdict;
  EXPECT_NE(rows[6].computed.find("16.7x"), std::string::npos) << rows[6].computed;
  EXPECT_NE(rows[7].computed.find("H800"), std::string::npos);
  dsv3::test::write_file(tmp / "bad.json", R"({"cost": {"total_usd": "lots"}})");
  EXPECT_THROW(sim_values_from_json_file(tmp / "bad.json"), dsv3::InputError);
}

TEST(Claims, ArticleBenchmarkTableAgainstPrimarySources) {
  auto rows = rows_for(dsv3::model::ModelConfig::deepseek_v3());
  auto find = [&](const std::string& claim) -> const ClaimRow& {
    for (auto& r : rows)
      if (r.claim == claim) return r;
    throw std::runtime_error("no row " + claim);
  };
  EXPECT_EQ(find("DeepSeek V3 MMLU: 88.5").verdict.rfind("agrees with DeepSeek-V3", 0), 0u);
  EXPECT_EQ(find("DeepSeek V3 HumanEval: 91.6").verdict.rfind("disagrees", 0), 0u);
  EXPECT_EQ(find("GPT-4 HumanEval: 67.0").verdict.rfind("agrees with GPT-4 (2023)", 0), 0u);
  EXPECT_EQ(find("Claude 3.5 MMLU: 90.4").verdict.rfind("disagrees", 0), 0u);
  EXPECT_EQ(find("Claude 3.5 GSM8K: 96.4").verdict.rfind("cannot be checked", 0), 0u);
}
