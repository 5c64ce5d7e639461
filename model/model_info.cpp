#include "model/model_info.hpp"

#include <algorithm>

namespace dsv3::model {

namespace {
int64_t attention_params(const ModelConfig& c) {
  const int64_t H = c.hidden_size, nh = c.num_attention_heads;
  int64_t p = 0;
  if (c.q_lora_rank > 0) p += c.q_lora_rank * H + c.q_lora_rank + nh * c.qk_head_dim() * c.q_lora_rank;
  else p += nh * c.qk_head_dim() * H;
  p += (c.kv_lora_rank + c.qk_rope_head_dim) * H + c.kv_lora_rank;
  p += nh * (c.qk_nope_head_dim + c.v_head_dim) * c.kv_lora_rank;
  p += H * nh * c.v_head_dim;
  return p + 2 * H;  // + the two layer norms
}
int64_t expert_params(const ModelConfig& c, int64_t inter) { return 3 * c.hidden_size * inter; }
}  // namespace

std::vector<ComponentParams> params_from_config(const ModelConfig& c) {
  const int64_t H = c.hidden_size, V = c.vocab_size;
  const int64_t moe = c.num_moe_layers(), dense = c.num_hidden_layers - moe;
  std::vector<ComponentParams> v;
  v.push_back({"embedding", V * H});
  v.push_back({"attention (incl. norms)", c.num_hidden_layers * attention_params(c)});
  v.push_back({"dense_mlp", dense * expert_params(c, c.intermediate_size)});
  v.push_back({"router (incl. bias)", moe * (c.n_routed_experts * H + c.n_routed_experts)});
  v.push_back({"routed_experts", moe * c.n_routed_experts * expert_params(c, c.moe_intermediate_size)});
  v.push_back({"shared_experts", moe * expert_params(c, c.moe_intermediate_size * c.n_shared_experts)});
  v.push_back({"final norm + lm_head", H + (c.tie_word_embeddings ? 0 : V * H)});
  if (c.num_nextn_predict_layers > 0) {
    // Per MTP module: enorm, hnorm, eh_proj, one MoE decoder layer, shared_head.norm
    // (embedding and head shared with the main model).
    const int64_t layer = attention_params(c) + c.n_routed_experts * H + c.n_routed_experts +
                          c.n_routed_experts * expert_params(c, c.moe_intermediate_size) +
                          expert_params(c, c.moe_intermediate_size * c.n_shared_experts);
    v.push_back({"mtp", c.num_nextn_predict_layers * (3 * H + 2 * H * H + layer)});
  }
  return v;
}

int64_t total_params(const ModelConfig& c, bool include_mtp) {
  int64_t t = 0;
  for (const auto& p : params_from_config(c))
    if (include_mtp || p.component != "mtp") t += p.params;
  return t;
}

int64_t activated_params(const ModelConfig& c) {
  int64_t t = total_params(c, false) - c.vocab_size * c.hidden_size;  // the embedding is a lookup
  const int64_t moe = c.num_moe_layers();
  t -= moe * c.n_routed_experts * expert_params(c, c.moe_intermediate_size);
  t += moe * c.num_experts_per_tok * expert_params(c, c.moe_intermediate_size);
  return t;
}

KvBytes kv_bytes_per_token(const ModelConfig& c, int64_t element_bytes, int gqa_groups) {
  KvBytes k;
  const int64_t L = c.num_hidden_layers;
  k.mla = c.kv_cache_dim() * L * element_bytes;
  k.mha = c.num_attention_heads * (c.qk_head_dim() + c.v_head_dim) * L * element_bytes;
  k.gqa_groups = static_cast<int>(std::min<int64_t>(gqa_groups, c.num_attention_heads));
  k.gqa = k.gqa_groups * (c.qk_head_dim() + c.v_head_dim) * L * element_bytes;
  return k;
}

}  // namespace dsv3::model
