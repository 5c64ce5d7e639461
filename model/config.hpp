#pragma once
// ModelConfig: every field of a DeepSeek-V3 Hugging Face config.json, parsed and checked.
// The same struct feeds the model (model/) and the simulator (sim/).
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace dsv3::model {

struct RopeScaling {
  std::string type = "default";  // "default" (none) or "yarn"
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
  bool mscale_set = false;        // "mscale" present and non-zero (HF: ratio form of attention_factor)
  double attention_factor = 0.0;  // explicit cos/sin factor (HF 5 key); 0: derived
  bool truncate = true;           // floor/ceil of the YaRN correction range
  bool is_yarn() const { return type == "yarn"; }
};

struct QuantizationConfig {
  bool present = false;
  std::string quant_method;       // "fp8"
  std::string fmt = "e4m3";
  std::string activation_scheme = "dynamic";
  int64_t block_n = 128, block_k = 128;  // weight_block_size [rows, cols]
  std::string scale_fmt;          // "" or "ue8m0" (V3.1)
};

struct ModelConfig {
  std::string source;  // file the config came from, for error messages
  std::string model_type = "deepseek_v3";

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;      // dense FFN
  int64_t moe_intermediate_size = 0;  // one routed or shared expert
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;

  int64_t n_shared_experts = 0;
  int64_t n_routed_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  double routed_scaling_factor = 1.0;
  std::string scoring_func = "sigmoid";  // "sigmoid" (V3) or "softmax" (V2)
  std::string topk_method = "noaux_tc";  // "noaux_tc", "greedy", "group_limited_greedy"
  bool norm_topk_prob = true;

  int64_t q_lora_rank = 0;  // 0: no low-rank query (V2-Lite style q_proj)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool rope_interleave = true;

  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 0;
  std::string hidden_act = "silu";
  bool attention_bias = false;
  bool tie_word_embeddings = false;
  int64_t num_nextn_predict_layers = 0;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 1;
  std::string torch_dtype = "bfloat16";
  QuantizationConfig quantization;

  // Derived.
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  int64_t kv_cache_dim() const { return kv_lora_rank + qk_rope_head_dim; }  // MLA latent + rope key
  int64_t experts_per_group() const { return n_routed_experts / n_group; }
  bool is_moe_layer(int64_t layer) const;
  int64_t num_moe_layers() const;
  // YaRN attention factor mscale(s, mscale_all_dim)^2 times 1/sqrt(qk_head_dim).
  double softmax_scale() const;

  // Parses a config.json object. `source` names the file in error messages.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source);
  // Loads DIR/config.json or a config file path. Throws dsv3::InputError naming file and field.
  static ModelConfig load(const std::filesystem::path& path);
  // The released 671B DeepSeek-V3 config shipped in model/configs/deepseek-v3.json.
  static ModelConfig deepseek_v3();
};

// yarn_get_mscale(scale, m) = 0.1 * m * ln(scale) + 1 for scale > 1, else 1.
double yarn_mscale(double scale, double mscale);

}  // namespace dsv3::model
