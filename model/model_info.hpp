#pragma once
// What `dsv3 model info` reports: parameter counts by component (from the config alone, or
// by component and stored dtype from a checkpoint), activated parameters per token, and KV
// cache bytes per token for MLA next to MHA and GQA equivalents.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"

namespace dsv3::model {

struct ComponentParams {
  std::string component;
  int64_t params = 0;
};

// Main model and MTP layers, from the config's shapes.
std::vector<ComponentParams> params_from_config(const ModelConfig& c);
int64_t total_params(const ModelConfig& c, bool include_mtp);
// Per token: everything but the routed experts, plus num_experts_per_tok of them per MoE layer
// (main model, lm_head included; the embedding, a row lookup, and MTP excluded).
int64_t activated_params(const ModelConfig& c);

struct KvBytes {
  int64_t mla = 0;  // (kv_lora_rank + qk_rope_head_dim) x layers x element bytes
  int64_t mha = 0;  // heads x (qk_head_dim + v_head_dim) x layers x element bytes
  int64_t gqa = 0;  // gqa_groups x (qk_head_dim + v_head_dim) x layers x element bytes
  int gqa_groups = 8;
};
KvBytes kv_bytes_per_token(const ModelConfig& c, int64_t element_bytes, int gqa_groups = 8);

}  // namespace dsv3::model
