// The CPU forward pass against HF transformers' DeepseekV3ForCausalLM (fixtures from
// scripts/make_model_fixtures.py): logits at every position, both attention paths.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "model/backend.hpp"
#include "model/rope.hpp"
#include "model_fixture_util.hpp"

using namespace dsv3;
using namespace dsv3::model;

namespace {

// FP32 compute on the stored weights: the golden model is HF in FP32 on the same values, so
// only summation order differs (observed max |dlogit| ~1e-5 on logits of magnitude ~10).
constexpr float kTolBf16 = 1e-3f;
// FP8 fixture: same FP32 math on the dequantised weights (value x block scale), so the same
// tolerance holds; the FP8-specific error (vs the unquantised weights) is not in play.
constexpr float kTolFp8 = 1e-3f;

void check_logits(const std::string& name, float tol) {
  auto m = Model::load(test::fixture_dir(name));
  auto g = test::load_golden(name);
  auto be = make_backend("cpu", m, {.threads = 2});
  const int64_t V = m->config.vocab_size;
  auto seqs = g.sequences();
  for (AttentionPath path : {AttentionPath::Naive, AttentionPath::Absorbed}) {
    for (size_t k = 0; k < seqs.size(); ++k) {
      be->reset(1, 64);
      auto out = be->forward({{0, seqs[k]}}, {.all_logits = true, .path = path});
      auto ref = g.tensor("seq" + std::to_string(k) + ".logits");
      ASSERT_EQ(out[0].logits.size(), seqs[k].size() * V);
      float d = test::max_abs_diff(out[0].logits, ref);
      EXPECT_LE(d, tol) << name << " seq" << k << (path == AttentionPath::Naive ? " naive" : " absorbed");
      ::testing::Test::RecordProperty(name + "_seq" + std::to_string(k) + (path == AttentionPath::Naive ? "_naive" : "_absorbed"),
                     std::to_string(d));
    }
  }
}

}  // namespace

TEST(ModelForward, RopeMatchesHF) {
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto c = ModelConfig::load(test::fixture_dir(name));
    auto g = test::load_golden(name);
    Rope r = Rope::from_config(c);
    auto ref = g.meta["inv_freq"].get<std::vector<double>>();
    ASSERT_EQ(r.inv_freq.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(r.inv_freq[i], ref[i], 1e-7 * std::abs(ref[i]) + 1e-12) << i;
    EXPECT_NEAR(r.attention_factor, g.meta["attention_scaling"].get<double>(), 1e-7);
    EXPECT_NEAR(c.softmax_scale(), g.meta["softmax_scale"].get<double>(), 1e-7);
  }
}

TEST(ModelForward, Bf16LogitsMatchHF) { check_logits("tiny-bf16", kTolBf16); }

TEST(ModelForward, Fp8LogitsMatchHF) { check_logits("tiny-fp8", kTolFp8); }

TEST(ModelForward, RopeAttentionFactorFollowsHF) {
  // HF: attention_factor = mscale(f, mscale) / mscale(f, mscale_all_dim) when both are set,
  // else mscale(f) with mscale 1; an explicit attention_factor wins. f = max_pos / original.
  auto j = nlohmann::json::parse(test::read_file(test::fixture_dir("tiny-bf16") + "/config.json"));
  auto factor_for = [&](const nlohmann::json& rs) {
    auto jj = j;
    jj["rope_scaling"] = rs;
    return Rope::from_config(ModelConfig::from_json(jj, "cfg.json")).attention_factor;
  };
  nlohmann::json base = {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 64}};
  auto b = base;
  b["mscale"] = 0.9;
  b["mscale_all_dim"] = 0.7;
  EXPECT_NEAR(factor_for(b), (0.09 * std::log(4.0) + 1) / (0.07 * std::log(4.0) + 1), 1e-6);
  b = base;
  b["mscale_all_dim"] = 1.0;  // mscale absent: mscale(f)
  EXPECT_NEAR(factor_for(b), 0.1 * std::log(4.0) + 1, 1e-6);
  b["attention_factor"] = 1.25;
  EXPECT_NEAR(factor_for(b), 1.25, 1e-6);
  // No scaling: plain RoPE frequencies base^(-2i/d).
  auto jj = j;
  jj.erase("rope_scaling");
  Rope r = Rope::from_config(ModelConfig::from_json(jj, "cfg.json"));
  EXPECT_FLOAT_EQ(r.inv_freq[1], static_cast<float>(std::pow(10000.0, -2.0 / 16)));
  EXPECT_EQ(r.attention_factor, 1.0f);
}
