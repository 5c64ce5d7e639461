#include "model/config.hpp"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::model {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& what) {
  throw InputError(fmt::format("{}: field '{}': {}", source, field, what));
}

// Keys of a Hugging Face config.json that carry no architecture information for us.
const std::set<std::string>& ignored_keys() {
  static const std::set<std::string> k = {
      "architectures", "auto_map", "transformers_version", "initializer_range", "use_cache",
      "pretraining_tp", "attention_dropout", "ep_size", "aux_loss_alpha", "seq_aux", "pad_token_id",
      "dtype", "output_attentions", "output_hidden_states", "return_dict", "_name_or_path",
      "head_dim", "num_experts", "use_sliding_window", "is_encoder_decoder", "id2label", "label2id",
      "tie_encoder_decoder", "chunk_size_feed_forward", "problem_type", "model_parallel"};
  return k;
}

struct Reader {
  const json& j;
  const std::string& source;
  std::set<std::string> seen;

  const json* get(const std::string& key) {
    seen.insert(key);
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
  }
  int64_t integer(const std::string& key, int64_t def, bool required = false) {
    const json* v = get(key);
    if (!v) {
      if (required) fail(source, key, "missing");
      return def;
    }
    if (v->is_number_integer()) return v->get<int64_t>();
    if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>())
      return static_cast<int64_t>(v->get<double>());
    fail(source, key, fmt::format("expected an integer, got {}", v->dump()));
  }
  double number(const std::string& key, double def) {
    const json* v = get(key);
    if (!v) return def;
    if (!v->is_number()) fail(source, key, fmt::format("expected a number, got {}", v->dump()));
    return v->get<double>();
  }
  bool boolean(const std::string& key, bool def) {
    const json* v = get(key);
    if (!v) return def;
    if (!v->is_boolean()) fail(source, key, fmt::format("expected true or false, got {}", v->dump()));
    return v->get<bool>();
  }
  std::string string(const std::string& key, const std::string& def) {
    const json* v = get(key);
    if (!v) return def;
    if (!v->is_string()) fail(source, key, fmt::format("expected a string, got {}", v->dump()));
    return v->get<std::string>();
  }
  void reject_unknown(const std::string& prefix) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!seen.count(it.key()) && !ignored_keys().count(it.key()))
        fail(source, prefix + it.key(), "unknown key");
  }
};

RopeScaling parse_rope(const json& r, const std::string& source, const std::string& field, double* theta) {
  if (!r.is_object()) fail(source, field, "expected an object");
  Reader rd{r, source, {}};
  RopeScaling s;
  std::string type = rd.string("type", "");
  std::string rope_type = rd.string("rope_type", "");
  if (type.empty()) type = rope_type;
  if (type.empty()) type = "default";
  if (type != "yarn" && type != "default") fail(source, field + ".type", fmt::format("unsupported RoPE scaling '{}' (yarn or default)", type));
  s.type = type;
  if (theta) *theta = rd.number("rope_theta", *theta);
  s.factor = rd.number("factor", 1.0);
  s.original_max_position_embeddings = rd.integer("original_max_position_embeddings", 0);
  s.beta_fast = rd.number("beta_fast", 32.0);
  s.beta_slow = rd.number("beta_slow", 1.0);
  s.mscale = rd.number("mscale", 1.0);
  s.mscale_set = r.contains("mscale") && !r["mscale"].is_null() && s.mscale != 0.0;
  s.mscale_all_dim = rd.number("mscale_all_dim", 0.0);
  s.attention_factor = rd.number("attention_factor", 0.0);  // HF 5 may write it; else derived from mscale
  s.truncate = rd.boolean("truncate", true);
  for (auto it = r.begin(); it != r.end(); ++it)
    if (!rd.seen.count(it.key())) fail(source, field + "." + it.key(), "unknown key");
  if (s.is_yarn()) {
    if (s.factor < 1.0) fail(source, field + ".factor", "must be >= 1");
    if (s.original_max_position_embeddings <= 0) fail(source, field + ".original_max_position_embeddings", "must be > 0 for yarn");
    if (s.beta_fast <= s.beta_slow) fail(source, field + ".beta_fast", "must be greater than beta_slow");
  }
  return s;
}

QuantizationConfig parse_quant(const json& q, const std::string& source) {
  if (!q.is_object()) fail(source, "quantization_config", "expected an object");
  Reader rd{q, source, {}};
  QuantizationConfig c;
  c.present = true;
  c.quant_method = rd.string("quant_method", "");
  c.fmt = rd.string("fmt", "e4m3");
  c.activation_scheme = rd.string("activation_scheme", "dynamic");
  c.scale_fmt = rd.string("scale_fmt", "");
  if (c.quant_method != "fp8") fail(source, "quantization_config.quant_method", fmt::format("unsupported '{}' (fp8)", c.quant_method));
  if (c.fmt != "e4m3") fail(source, "quantization_config.fmt", fmt::format("unsupported '{}' (e4m3)", c.fmt));
  if (c.activation_scheme != "dynamic") fail(source, "quantization_config.activation_scheme", fmt::format("unsupported '{}' (dynamic)", c.activation_scheme));
  if (!c.scale_fmt.empty() && c.scale_fmt != "ue8m0") fail(source, "quantization_config.scale_fmt", fmt::format("unsupported '{}'", c.scale_fmt));
  if (const json* b = rd.get("weight_block_size")) {
    if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() || !(*b)[1].is_number_integer() ||
        (*b)[0].get<int64_t>() <= 0 || (*b)[1].get<int64_t>() <= 0)
      fail(source, "quantization_config.weight_block_size", "expected two positive integers");
    c.block_n = (*b)[0].get<int64_t>();
    c.block_k = (*b)[1].get<int64_t>();
  } else {
    fail(source, "quantization_config.weight_block_size", "missing (block-scaled FP8 needs it)");
  }
  rd.get("modules_to_not_convert");
  for (auto it = q.begin(); it != q.end(); ++it)
    if (!rd.seen.count(it.key())) fail(source, "quantization_config." + it.key(), "unknown key");
  return c;
}

}  // namespace

double yarn_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (n_routed_experts <= 0) return false;
  // The MTP layer(s) after the main stack are MoE layers too.
  return layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
}

int64_t ModelConfig::num_moe_layers() const {
  int64_t n = 0;
  for (int64_t l = 0; l < num_hidden_layers; ++l) n += is_moe_layer(l) ? 1 : 0;
  return n;
}

double ModelConfig::softmax_scale() const {
  double s = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (rope_scaling.is_yarn() && rope_scaling.mscale_all_dim != 0.0) {
    double m = yarn_mscale(rope_scaling.factor, rope_scaling.mscale_all_dim);
    s *= m * m;
  }
  return s;
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(fmt::format("{}: expected a JSON object", source));
  Reader rd{j, source, {}};
  ModelConfig c;
  c.source = source;
  c.model_type = rd.string("model_type", "deepseek_v3");
  if (c.model_type != "deepseek_v3" && c.model_type != "deepseek_v2")
    fail(source, "model_type", fmt::format("unsupported '{}' (deepseek_v3 or deepseek_v2)", c.model_type));

  c.vocab_size = rd.integer("vocab_size", 0, true);
  c.hidden_size = rd.integer("hidden_size", 0, true);
  c.intermediate_size = rd.integer("intermediate_size", 0, true);
  c.moe_intermediate_size = rd.integer("moe_intermediate_size", 0);
  c.num_hidden_layers = rd.integer("num_hidden_layers", 0, true);
  c.num_attention_heads = rd.integer("num_attention_heads", 0, true);
  c.num_key_value_heads = rd.integer("num_key_value_heads", c.num_attention_heads);
  c.n_shared_experts = rd.integer("n_shared_experts", 0);
  c.n_routed_experts = rd.integer("n_routed_experts", 0);
  c.num_experts_per_tok = rd.integer("num_experts_per_tok", 0);
  c.n_group = rd.integer("n_group", 1);
  c.topk_group = rd.integer("topk_group", 1);
  c.first_k_dense_replace = rd.integer("first_k_dense_replace", 0);
  c.moe_layer_freq = rd.integer("moe_layer_freq", 1);
  c.routed_scaling_factor = rd.number("routed_scaling_factor", 1.0);
  c.scoring_func = rd.string("scoring_func", c.model_type == "deepseek_v2" ? "softmax" : "sigmoid");
  c.topk_method = rd.string("topk_method", c.model_type == "deepseek_v2" ? "greedy" : "noaux_tc");
  c.norm_topk_prob = rd.boolean("norm_topk_prob", c.model_type != "deepseek_v2");
  c.q_lora_rank = rd.integer("q_lora_rank", 0);
  c.kv_lora_rank = rd.integer("kv_lora_rank", 0, true);
  c.qk_nope_head_dim = rd.integer("qk_nope_head_dim", 0, true);
  c.qk_rope_head_dim = rd.integer("qk_rope_head_dim", 0, true);
  c.v_head_dim = rd.integer("v_head_dim", 0, true);
  c.rope_interleave = rd.boolean("rope_interleave", true);
  c.rms_norm_eps = rd.number("rms_norm_eps", 1e-6);
  c.rope_theta = rd.number("rope_theta", 10000.0);
  c.max_position_embeddings = rd.integer("max_position_embeddings", 0, true);
  c.hidden_act = rd.string("hidden_act", "silu");
  c.attention_bias = rd.boolean("attention_bias", false);
  c.tie_word_embeddings = rd.boolean("tie_word_embeddings", false);
  c.num_nextn_predict_layers = rd.integer("num_nextn_predict_layers", 0);
  c.bos_token_id = rd.integer("bos_token_id", 0);
  c.eos_token_id = rd.integer("eos_token_id", 1);
  c.torch_dtype = rd.string("torch_dtype", "bfloat16");
  if (const json* d = j.contains("dtype") ? &j["dtype"] : nullptr; d && d->is_string()) c.torch_dtype = d->get<std::string>();

  // rope_scaling (transformers 4) or rope_parameters (transformers 5, which also holds rope_theta).
  if (const json* r = rd.get("rope_scaling")) c.rope_scaling = parse_rope(*r, source, "rope_scaling", nullptr);
  if (const json* r = rd.get("rope_parameters")) c.rope_scaling = parse_rope(*r, source, "rope_parameters", &c.rope_theta);
  if (const json* q = rd.get("quantization_config")) c.quantization = parse_quant(*q, source);
  rd.reject_unknown("");

  // Consistency.
  auto positive = [&](const char* f, int64_t v) {
    if (v <= 0) fail(source, f, fmt::format("must be > 0, got {}", v));
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("intermediate_size", c.intermediate_size);
  positive("num_hidden_layers", c.num_hidden_layers);
  positive("num_attention_heads", c.num_attention_heads);
  positive("kv_lora_rank", c.kv_lora_rank);
  positive("qk_nope_head_dim", c.qk_nope_head_dim);
  positive("qk_rope_head_dim", c.qk_rope_head_dim);
  positive("v_head_dim", c.v_head_dim);
  positive("max_position_embeddings", c.max_position_embeddings);
  positive("moe_layer_freq", c.moe_layer_freq);
  if (c.q_lora_rank < 0) fail(source, "q_lora_rank", "must be >= 0 (0 or null: no low-rank query)");
  if (c.qk_rope_head_dim % 2) fail(source, "qk_rope_head_dim", "must be even (RoPE rotates pairs)");
  if (c.num_key_value_heads != c.num_attention_heads)
    fail(source, "num_key_value_heads", fmt::format("MLA needs num_key_value_heads == num_attention_heads ({} != {})",
                                                    c.num_key_value_heads, c.num_attention_heads));
  if (c.hidden_act != "silu") fail(source, "hidden_act", fmt::format("unsupported '{}' (silu)", c.hidden_act));
  if (c.attention_bias) fail(source, "attention_bias", "true is not supported (DeepSeek-V3 has no attention biases)");
  if (c.first_k_dense_replace < 0 || c.first_k_dense_replace > c.num_hidden_layers)
    fail(source, "first_k_dense_replace", fmt::format("must be in [0, num_hidden_layers], got {}", c.first_k_dense_replace));
  if (c.num_nextn_predict_layers < 0) fail(source, "num_nextn_predict_layers", "must be >= 0");
  if (c.scoring_func != "sigmoid" && c.scoring_func != "softmax")
    fail(source, "scoring_func", fmt::format("unsupported '{}' (sigmoid or softmax)", c.scoring_func));
  if (c.topk_method != "noaux_tc" && c.topk_method != "greedy" && c.topk_method != "group_limited_greedy")
    fail(source, "topk_method", fmt::format("unsupported '{}' (noaux_tc, greedy or group_limited_greedy)", c.topk_method));
  if (c.n_routed_experts > 0) {
    positive("moe_intermediate_size", c.moe_intermediate_size);
    positive("num_experts_per_tok", c.num_experts_per_tok);
    positive("n_group", c.n_group);
    positive("topk_group", c.topk_group);
    if (c.n_routed_experts % c.n_group)
      fail(source, "n_group", fmt::format("n_routed_experts {} is not divisible by n_group {}", c.n_routed_experts, c.n_group));
    if (c.topk_group > c.n_group)
      fail(source, "topk_group", fmt::format("topk_group {} exceeds n_group {}", c.topk_group, c.n_group));
    if (c.num_experts_per_tok > c.n_routed_experts)
      fail(source, "num_experts_per_tok", fmt::format("{} exceeds n_routed_experts {}", c.num_experts_per_tok, c.n_routed_experts));
    bool grouped = c.topk_method == "noaux_tc" || c.topk_method == "group_limited_greedy";
    if (grouped && c.num_experts_per_tok > c.topk_group * c.experts_per_group())
      fail(source, "num_experts_per_tok",
           fmt::format("{} exceeds the {} experts left in topk_group={} groups", c.num_experts_per_tok,
                       c.topk_group * c.experts_per_group(), c.topk_group));
    if (c.topk_method == "noaux_tc" && c.scoring_func != "sigmoid")
      fail(source, "topk_method", "noaux_tc needs scoring_func sigmoid");
    if (c.n_shared_experts < 0) fail(source, "n_shared_experts", "must be >= 0");
  } else if (c.first_k_dense_replace < c.num_hidden_layers && c.n_routed_experts < 0) {
    fail(source, "n_routed_experts", "must be >= 0");
  }
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& path) {
  std::filesystem::path file = path;
  if (std::filesystem::is_directory(path)) file = path / "config.json";
  std::ifstream f(file);
  if (!f) throw InputError(fmt::format("{}: cannot open model config", file.string()));
  json j;
  try {
    j = json::parse(f);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: invalid JSON at byte {}: {}", file.string(), e.byte, e.what()));
  }
  return from_json(j, file.string());
}

ModelConfig ModelConfig::deepseek_v3() { return load(source_path("model/configs/deepseek-v3.json")); }

}  // namespace dsv3::model
