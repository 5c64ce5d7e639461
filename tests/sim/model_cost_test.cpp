// Model cost: each total against a hand calculation from the DeepSeek-V3 config.json shapes.
#include <gtest/gtest.h>

#include "model/config.hpp"
#include "sim/model_cost.hpp"

using namespace dsv3::sim;

namespace {
const dsv3::model::ModelConfig& v3() {
  static auto c = dsv3::model::ModelConfig::deepseek_v3();
  return c;
}
// Hand calculation (numbers from config.json: H=7168, 128 heads, q_lora 1536, kv_lora 512,
// nope 128, rope 64, v 128, dense FFN 18432, expert 2048, 256 routed + 1 shared, top-8, vocab 129280).
constexpr double H = 7168, V = 129280;
constexpr double kMla = 7168.0 * (1536 + 512 + 64) + 1536.0 * 128 * 192 + 512.0 * 128 * 256 + 128.0 * 128 * 7168 +
                        1536 + 512;  // projections + q_a/kv_a norms
constexpr double kNorms = 2 * H;
constexpr double kDenseFfn = 3.0 * 7168 * 18432;
constexpr double kExpert = 3.0 * 7168 * 2048;
constexpr double kRouter = 256.0 * 7168 + 256;  // weight + routing bias
}  // namespace

TEST(ModelCost, TotalParamsMatchHandCountAnd671B) {
  ModelCost mc = model_cost(v3(), 4096, false);
  double dense_layer = kMla + kNorms + kDenseFfn;
  double moe_layer = kMla + kNorms + kRouter + 257 * kExpert;
  double hand = 3 * dense_layer + 58 * moe_layer + 2 * V * H + H;  // + embedding, head, final norm
  EXPECT_NEAR(mc.totals.total_params, hand, 1.0);
  EXPECT_NEAR(mc.totals.total_params / 671e9, 1.0, 0.005);
  EXPECT_NEAR(kMla / 1e6, 187.1, 0.1);  // facts §1.3: 187.1M per MLA block
}

TEST(ModelCost, ActivatedParamsWithin2PercentOf37B) {
  ModelCost mc = model_cost(v3(), 4096, false);
  double moe_active = kMla + kNorms + kRouter + 9 * kExpert;
  double hand = 3 * (kMla + kNorms + kDenseFfn) + 58 * moe_active + 2 * V * H + H;
  EXPECT_NEAR(mc.totals.activated_params, hand, 1.0);
  EXPECT_NEAR(mc.totals.activated_params / 37e9, 1.0, 0.02);
  EXPECT_NEAR(mc.totals.activated_params_no_embedding, hand - V * H, 1.0);
}

TEST(ModelCost, KvCacheIsExactly70272BytesPerToken) {
  ModelCost mc = model_cost(v3(), 4096, false);
  EXPECT_EQ(mc.totals.kv_cache_bytes_per_token, 70272.0);  // (512 + 64) x 61 layers x 2 bytes
}

TEST(ModelCost, TrainFlopsPerTokenWithin5PercentOf250G) {
  ModelCost mc = model_cost(v3(), 4096, false);
  // 6 x (activated GEMM params: everything but the embedding table and the norms/bias) plus the
  // causal attention core: 3 x 2 x heads x (192 + 128) x (S+1)/2 per layer.
  double moe_gemm = kMla - 1536 - 512 + 256.0 * 7168 + 9 * kExpert;
  double dense_gemm = kMla - 1536 - 512 + kDenseFfn;
  double gemm = 3 * dense_gemm + 58 * moe_gemm + V * H;
  double attn = 61 * 3 * 2.0 * 128 * 320 * (4096 + 1) / 2.0;
  EXPECT_NEAR(mc.totals.train_flops_per_token, 6 * gemm + attn, 1e3);
  EXPECT_NEAR(mc.totals.train_flops_per_token / 250e9, 1.0, 0.05);
  // Non-causal: every query sees all 4096 keys (ISCA Table 4: 432 vs 385 TFLOPS, ratio 1.122).
  double attn_nc = 61 * 3 * 2.0 * 128 * 320 * 4096.0;
  EXPECT_NEAR(mc.totals.train_flops_per_token_noncausal, 6 * gemm + attn_nc, 1e3);
}

TEST(ModelCost, MtpIsSeparateAndAbout11_5B) {
  ModelCost with = model_cost(v3(), 4096, true);
  ModelCost without = model_cost(v3(), 4096, false);
  EXPECT_EQ(with.totals.total_params, without.totals.total_params);
  EXPECT_EQ(with.totals.train_flops_per_token, without.totals.train_flops_per_token);
  // eh_proj (2H -> H) + one MoE layer + enorm, hnorm and the shared head's norm.
  double hand = 2 * H * H + kMla + kNorms + kRouter + 257 * kExpert + 3 * H;
  EXPECT_NEAR(with.totals.mtp_params, hand, 1.0);
  EXPECT_NEAR(with.totals.mtp_params / 11.5e9, 1.0, 0.02);  // README_WEIGHTS: 11.5B unique
  EXPECT_GT(with.totals.train_flops_per_token_mtp, 0);
  EXPECT_EQ(with.slots.size(), without.slots.size() + 1);
}

TEST(ModelCost, BackwardSplitsIntoInputAndWeightGradients) {
  ModelCost mc = model_cost(v3(), 4096, false);
  for (auto& op : mc.slots[1].ops) {
    if (op.kind == OpKind::Gemm) {
      EXPECT_EQ(op.fwd_flops, 2.0 * op.n * op.k) << op.name;
      EXPECT_EQ(op.bwd_b_flops, op.fwd_flops) << op.name;
      EXPECT_EQ(op.bwd_w_flops, op.fwd_flops) << op.name;
    }
    if (op.kind == OpKind::Attention) {
      EXPECT_EQ(op.bwd_b_flops, 2 * op.fwd_flops);
      EXPECT_EQ(op.bwd_w_flops, 0);
    }
  }
}

TEST(ModelCost, CausalAttentionCountsHalfTheKeys) {
  EXPECT_DOUBLE_EQ(attention_fwd_flops_per_token(v3(), 8, true), 2.0 * 128 * 320 * 4.5);
  EXPECT_DOUBLE_EQ(attention_fwd_flops_per_token(v3(), 8, false), 2.0 * 128 * 320 * 8);
}

TEST(ModelCost, Fp8CachesFewerActivationBytes) {
  ModelCost mc = model_cost(v3(), 4096, false);
  double bf16 = 0, fp8 = 0;
  for (auto& op : mc.slots[10].ops) {
    bf16 += op.act_bytes_bf16;
    fp8 += op.act_bytes_fp8;
  }
  EXPECT_LT(fp8, 0.75 * bf16);
  // The dispatched expert inputs: 8 copies of H in FP8 with one FP32 scale per 128 values.
  for (auto& op : mc.slots[10].ops)
    if (op.name == "moe.experts.gate_up") {
      EXPECT_DOUBLE_EQ(op.act_bytes_fp8, 8 * H * (1 + 4.0 / 128));
    }
}
