#include "sim/model_cost.hpp"

#include <fmt/core.h>

namespace dsv3::sim {
namespace {

constexpr double kBf16 = 2.0;
// FP8 element plus its FP32 scale per 1x128 tile.
constexpr double kFp8Tile = 1.0 + 4.0 / 128.0;
// The o_proj input (the attention output) is cached in E5M6: 12 bits plus the tile scale (TR §3.3.2).
constexpr double kE5M6Tile = 1.5 + 4.0 / 128.0;

OpCost gemm(std::string name, OpKind kind, int64_t n, int64_t k, double rows_per_token = 1.0,
            double experts = 1.0) {
  OpCost o;
  o.name = std::move(name);
  o.kind = kind;
  o.n = n;
  o.k = k;
  o.rows_per_token = rows_per_token;
  o.params = static_cast<double>(n) * static_cast<double>(k) * experts;
  o.active_params = static_cast<double>(n) * static_cast<double>(k) * rows_per_token;
  o.fwd_flops = 2.0 * o.active_params;
  o.bwd_b_flops = 2.0 * o.active_params;
  o.bwd_w_flops = 2.0 * o.active_params;
  return o;
}

OpCost memory(std::string name, double fwd_bytes, double bwd_bytes, double act_bf16, double act_fp8,
              double params = 0, bool recompute = false) {
  OpCost o;
  o.name = std::move(name);
  o.kind = OpKind::Memory;
  o.fwd_bytes = fwd_bytes;
  o.bwd_bytes = bwd_bytes;
  o.act_bytes_bf16 = act_bf16;
  o.act_bytes_fp8 = act_fp8;
  o.params = params;
  o.active_params = params;
  o.recompute = recompute;
  return o;
}

// RMSNorm over d channels: forward reads and writes d BF16 values; backward reads the input,
// the output gradient and writes the input gradient (plus a recomputed forward). The input
// is cached for the recomputation (TR §3.2.3 recomputes every RMSNorm).
OpCost rmsnorm(std::string name, double d, bool cache_input) {
  double act = cache_input ? kBf16 * d : 0.0;
  return memory(std::move(name), 2 * kBf16 * d, 3 * kBf16 * d, act, act, d, true);
}

// SwiGLU over `inter` channels for `rows` rows per token: reads gate and up, writes the product.
// Its input is cached (BF16, or FP8 tiles in FP8 training: TR §3.3.3), its output recomputed.
OpCost swiglu(std::string name, double inter, double rows) {
  return memory(std::move(name), rows * 3 * kBf16 * inter, rows * 5 * kBf16 * inter, rows * 2 * kBf16 * inter,
                rows * 2 * kFp8Tile * inter);
}

OpCost residual(std::string name, double d) { return memory(std::move(name), 3 * kBf16 * d, 3 * kBf16 * d, 0, 0); }

void add_attention(std::vector<OpCost>& ops, const model::ModelConfig& c, int64_t seq_len, const std::string& p) {
  const double H = static_cast<double>(c.hidden_size);
  const int64_t heads = c.num_attention_heads;
  ops.push_back(rmsnorm(p + "attn.norm", H, true));
  if (c.q_lora_rank > 0) {
    OpCost a = gemm(p + "attn.q_a_kv_a_proj", OpKind::Gemm, c.q_lora_rank + c.kv_lora_rank + c.qk_rope_head_dim,
                    c.hidden_size);
    ops.push_back(a);
    // The down-projection outputs feed the recomputed norms and up-projections: cached in BF16.
    double lat = static_cast<double>(c.q_lora_rank + c.kv_lora_rank + c.qk_rope_head_dim);
    OpCost qn = rmsnorm(p + "attn.q_a_norm", static_cast<double>(c.q_lora_rank), false);
    qn.act_bytes_bf16 = qn.act_bytes_fp8 = kBf16 * lat;
    ops.push_back(qn);
    ops.push_back(rmsnorm(p + "attn.kv_a_norm", static_cast<double>(c.kv_lora_rank), false));
    OpCost qb = gemm(p + "attn.q_b_proj", OpKind::Gemm, heads * c.qk_head_dim(), c.q_lora_rank);
    qb.recompute = true;
    ops.push_back(qb);
  } else {
    ops.push_back(gemm(p + "attn.q_proj", OpKind::Gemm, heads * c.qk_head_dim(), c.hidden_size));
    OpCost kva = gemm(p + "attn.kv_a_proj", OpKind::Gemm, c.kv_lora_rank + c.qk_rope_head_dim, c.hidden_size);
    ops.push_back(kva);
    OpCost kn = rmsnorm(p + "attn.kv_a_norm", static_cast<double>(c.kv_lora_rank), false);
    kn.act_bytes_bf16 = kn.act_bytes_fp8 = kBf16 * static_cast<double>(c.kv_lora_rank + c.qk_rope_head_dim);
    ops.push_back(kn);
  }
  OpCost kvb = gemm(p + "attn.kv_b_proj", OpKind::Gemm, heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
  kvb.recompute = true;
  ops.push_back(kvb);

  OpCost core;
  core.name = p + "attn.core";
  core.kind = OpKind::Attention;
  core.fwd_flops = attention_fwd_flops_per_token(c, seq_len, true);
  core.fwd_flops_noncausal = attention_fwd_flops_per_token(c, seq_len, false);
  core.bwd_b_flops = 2.0 * core.fwd_flops;  // dQ, dK (from dS) and dV, dP: twice the forward
  const double hv = static_cast<double>(heads * c.v_head_dim);
  const double hqk = static_cast<double>(heads * c.qk_head_dim());
  // Streams Q, K, V in and O out once per token (FlashAttention-style tiling).
  core.fwd_bytes = kBf16 * (2 * hqk + hv + hv);
  core.bwd_bytes = kBf16 * (2 * hqk + 3 * hv) + kBf16 * (2 * hqk + hv);
  // Cached: the output O (BF16, or E5M6 in FP8 training where it is also the o_proj input)
  // and the softmax log-sum-exp (FP32 per head). Q, K, V are recomputed from the up-projections.
  core.act_bytes_bf16 = kBf16 * hv + 4.0 * static_cast<double>(heads);
  core.act_bytes_fp8 = kE5M6Tile * hv + 4.0 * static_cast<double>(heads);
  ops.push_back(core);
  ops.push_back(gemm(p + "attn.o_proj", OpKind::Gemm, c.hidden_size, heads * c.v_head_dim));
  ops.push_back(residual(p + "attn.residual", H));
}

void add_dense_ffn(std::vector<OpCost>& ops, const model::ModelConfig& c, const std::string& p) {
  const double H = static_cast<double>(c.hidden_size);
  ops.push_back(rmsnorm(p + "mlp.norm", H, true));
  ops.push_back(gemm(p + "ffn.gate_up_proj", OpKind::Gemm, 2 * c.intermediate_size, c.hidden_size));
  ops.push_back(swiglu(p + "ffn.swiglu", static_cast<double>(c.intermediate_size), 1.0));
  ops.push_back(gemm(p + "ffn.down_proj", OpKind::Gemm, c.hidden_size, c.intermediate_size));
  ops.push_back(residual(p + "mlp.residual", H));
}

void add_moe(std::vector<OpCost>& ops, const model::ModelConfig& c, const std::string& p) {
  const double H = static_cast<double>(c.hidden_size);
  const double topk = static_cast<double>(c.num_experts_per_tok);
  const double E = static_cast<double>(c.n_routed_experts);
  ops.push_back(rmsnorm(p + "mlp.norm", H, true));
  OpCost router = gemm(p + "moe.router", OpKind::BaseGemm, c.n_routed_experts, c.hidden_size);
  router.params += E;  // the routing bias (aux-loss-free balancing), not a GEMM weight
  router.active_params += E;
  router.act_bytes_bf16 = router.act_bytes_fp8 = 4.0 * E + 8.0 * topk;  // FP32 scores, top-k ids and weights
  ops.push_back(router);
  // Routed experts: each token's copy is computed on the GPU that holds its expert.
  OpCost up = gemm(p + "moe.experts.gate_up", OpKind::ExpertGemm, 2 * c.moe_intermediate_size, c.hidden_size, topk, E);
  up.act_bytes_bf16 = topk * kBf16 * H;  // the dispatched token copies (the GEMM input)
  up.act_bytes_fp8 = topk * kFp8Tile * H;
  ops.push_back(up);
  ops.push_back(swiglu(p + "moe.experts.swiglu", static_cast<double>(c.moe_intermediate_size), topk));
  ops.push_back(gemm(p + "moe.experts.down", OpKind::ExpertGemm, c.hidden_size, c.moe_intermediate_size, topk, E));
  if (c.n_shared_experts > 0) {
    int64_t is = c.moe_intermediate_size * c.n_shared_experts;
    ops.push_back(gemm(p + "moe.shared.gate_up", OpKind::Gemm, 2 * is, c.hidden_size));
    ops.push_back(swiglu(p + "moe.shared.swiglu", static_cast<double>(is), 1.0));
    ops.push_back(gemm(p + "moe.shared.down", OpKind::Gemm, c.hidden_size, is));
  }
  // Weighted sum of the top-k expert outputs and the shared output (after the combine).
  ops.push_back(memory(p + "moe.combine_sum", kBf16 * (topk + 2) * H, kBf16 * (topk + 2) * H, 0, 0));
  ops.push_back(residual(p + "mlp.residual", H));
}

void add_head(std::vector<OpCost>& ops, const model::ModelConfig& c, const std::string& p, bool shared_params) {
  const double H = static_cast<double>(c.hidden_size);
  const double V = static_cast<double>(c.vocab_size);
  ops.push_back(rmsnorm(p + "norm", H, true));
  OpCost head = gemm(p + "head.proj", OpKind::BaseGemm, c.vocab_size, c.hidden_size);
  if (shared_params) head.params = 0;  // the MTP module shares the main output head
  ops.push_back(head);
  // Softmax cross-entropy over the vocabulary: reads the BF16 logits, writes their gradient;
  // the logits are kept for the backward pass.
  ops.push_back(memory(p + "head.loss", kBf16 * V, 2 * kBf16 * V, kBf16 * V, kBf16 * V));
}

double sum(const std::vector<OpCost>& ops, double OpCost::*f) {
  double s = 0;
  for (auto& o : ops) s += o.*f;
  return s;
}

}  // namespace

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::Gemm: return "gemm";
    case OpKind::ExpertGemm: return "expert_gemm";
    case OpKind::BaseGemm: return "gemm_bf16";
    case OpKind::Attention: return "attention";
    case OpKind::Memory: return "memory";
  }
  return "?";
}

double SlotCost::params() const { return sum(ops, &OpCost::params); }
double SlotCost::active_params() const { return sum(ops, &OpCost::active_params); }
double SlotCost::fwd_flops() const { return sum(ops, &OpCost::fwd_flops); }
double SlotCost::bwd_flops() const { return sum(ops, &OpCost::bwd_b_flops) + sum(ops, &OpCost::bwd_w_flops); }

double attention_fwd_flops_per_token(const model::ModelConfig& c, int64_t seq_len, bool causal) {
  // Query i attends to i+1 keys (causal): on average (S+1)/2 keys; S keys otherwise.
  double keys = causal ? (static_cast<double>(seq_len) + 1.0) / 2.0 : static_cast<double>(seq_len);
  return 2.0 * static_cast<double>(c.num_attention_heads) * static_cast<double>(c.qk_head_dim() + c.v_head_dim) * keys;
}

ModelCost model_cost(const model::ModelConfig& c, int64_t seq_len, bool include_mtp) {
  ModelCost mc;
  mc.seq_len = seq_len;
  const double H = static_cast<double>(c.hidden_size);
  const double V = static_cast<double>(c.vocab_size);

  SlotCost emb{"embedding", "embedding", false, {}};
  OpCost lookup = memory("embedding.lookup", 2 * kBf16 * H, kBf16 * H + 4.0 * H, 0, 0, V * H);
  emb.ops.push_back(lookup);
  mc.slots.push_back(emb);

  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    bool moe = c.is_moe_layer(l);
    SlotCost s{fmt::format("layer.{}", l), moe ? "moe" : "dense", moe, {}};
    add_attention(s.ops, c, seq_len, "");
    if (moe)
      add_moe(s.ops, c, "");
    else
      add_dense_ffn(s.ops, c, "");
    mc.slots.push_back(std::move(s));
  }
  if (include_mtp) {
    for (int64_t d = 0; d < c.num_nextn_predict_layers; ++d) {
      SlotCost s{fmt::format("mtp.{}", d), "mtp", true, {}};
      OpCost e = memory("mtp.embedding.lookup", 2 * kBf16 * H, kBf16 * H + 4.0 * H, 0, 0, 0);
      s.ops.push_back(e);
      s.ops.push_back(rmsnorm("mtp.enorm", H, true));
      s.ops.push_back(rmsnorm("mtp.hnorm", H, true));
      s.ops.push_back(gemm("mtp.eh_proj", OpKind::BaseGemm, c.hidden_size, 2 * c.hidden_size));
      add_attention(s.ops, c, seq_len, "mtp.");
      add_moe(s.ops, c, "mtp.");
      add_head(s.ops, c, "mtp.shared_head.", true);
      mc.slots.push_back(std::move(s));
    }
  }
  SlotCost head{"head", "head", false, {}};
  add_head(head.ops, c, "final.", false);
  mc.slots.push_back(std::move(head));

  ModelTotals& t = mc.totals;
  t.kv_cache_bytes_per_token = kBf16 * static_cast<double>(c.kv_cache_dim()) * static_cast<double>(c.num_hidden_layers);
  for (auto& s : mc.slots) {
    bool mtp = s.kind == "mtp";
    double flops = s.fwd_flops() + s.bwd_flops();
    if (mtp) {
      t.mtp_params += s.params();
      t.train_flops_per_token_mtp += flops;
      continue;
    }
    t.total_params += s.params();
    t.activated_params += s.active_params();
    t.train_flops_per_token += flops;
    t.fwd_flops_per_token += s.fwd_flops();
    double nc = 0;
    for (auto& o : s.ops)
      if (o.kind == OpKind::Attention) nc += 3.0 * (o.fwd_flops_noncausal - o.fwd_flops);
    t.train_flops_per_token_noncausal += flops + nc;
  }
  t.activated_params_no_embedding = t.activated_params - V * H;
  return mc;
}

}  // namespace dsv3::sim
