#include "model/weights.hpp"

#include <fmt/core.h>

#include <map>

#include "model/errors.hpp"

namespace dsv3::model {

int64_t Linear::bytes() const {
  int64_t b = out * in * dtype_size(dtype);
  if (scale) b += ((out + block_n - 1) / block_n) * scale_cols * 4;
  return b;
}

void Linear::rows_to_float(int64_t r0, int64_t r1, float* dst) const {
  const int64_t n = (r1 - r0) * in;
  switch (dtype) {
    case DType::F32: {
      const auto* s = reinterpret_cast<const float*>(data) + r0 * in;
      std::copy(s, s + n, dst);
      break;
    }
    case DType::BF16: {
      const auto* s = reinterpret_cast<const uint16_t*>(data) + r0 * in;
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      break;
    }
    case DType::F16: {
      const auto* s = reinterpret_cast<const uint16_t*>(data) + r0 * in;
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
      break;
    }
    case DType::F8_E4M3: {
      const float* table = fp8_e4m3_table();
      for (int64_t r = r0; r < r1; ++r) {
        const uint8_t* s = data + r * in;
        const float* sc = scale + (r / block_n) * scale_cols;
        float* d = dst + (r - r0) * in;
        for (int64_t c0 = 0; c0 < in; c0 += block_k) {
          const int64_t c1 = std::min(in, c0 + block_k);
          const float f = sc[c0 / block_k];
          for (int64_t c = c0; c < c1; ++c) d[c] = table[s[c]] * f;
        }
      }
      break;
    }
  }
}

float Linear::at(int64_t r, int64_t c) const {
  float v;
  switch (dtype) {
    case DType::F32: return reinterpret_cast<const float*>(data)[r * in + c];
    case DType::BF16: return bf16_to_f32(reinterpret_cast<const uint16_t*>(data)[r * in + c]);
    case DType::F16: return f16_to_f32(reinterpret_cast<const uint16_t*>(data)[r * in + c]);
    case DType::F8_E4M3:
      v = fp8_e4m3_to_f32(data[r * in + c]);
      return v * scale[(r / block_n) * scale_cols + c / block_k];
  }
  return 0;
}

namespace {

const std::vector<DType> kFloatTypes = {DType::BF16, DType::F32, DType::F16};
const std::vector<DType> kLinearTypes = {DType::BF16, DType::F8_E4M3, DType::F32, DType::F16};

class Loader {
 public:
  Loader(const Checkpoint& ck, const ModelConfig& c) : ck_(ck), c_(c) {
    if (c.quantization.present) {
      bn_ = c.quantization.block_n;
      bk_ = c.quantization.block_k;
    }
  }

  Linear linear(const std::string& prefix, int64_t out, int64_t in) {
    Linear l;
    l.name = prefix + ".weight";
    const TensorInfo& t = ck_.expect(l.name, {out, in}, kLinearTypes);
    l.out = out;
    l.in = in;
    l.dtype = t.dtype;
    l.data = t.data;
    if (t.dtype == DType::F8_E4M3) {
      const std::string sname = prefix + ".weight_scale_inv";
      if (!ck_.has(sname))
        throw InputError(fmt::format("{}: tensor '{}' is F8_E4M3 but '{}' is missing", t.file, l.name, sname));
      const int64_t sr = (out + bn_ - 1) / bn_, sc = (in + bk_ - 1) / bk_;
      const TensorInfo& s = ck_.expect(sname, {sr, sc}, {DType::F32});
      l.scale = reinterpret_cast<const float*>(s.data);
      l.block_n = bn_;
      l.block_k = bk_;
      l.scale_cols = sc;
    }
    return l;
  }

  std::vector<float> vec(const std::string& name, int64_t n) {
    const TensorInfo& t = ck_.expect(name, {n}, kFloatTypes);
    std::vector<float> v(n);
    for (int64_t i = 0; i < n; ++i) {
      if (t.dtype == DType::F32) v[i] = reinterpret_cast<const float*>(t.data)[i];
      else if (t.dtype == DType::BF16) v[i] = bf16_to_f32(reinterpret_cast<const uint16_t*>(t.data)[i]);
      else v[i] = f16_to_f32(reinterpret_cast<const uint16_t*>(t.data)[i]);
    }
    return v;
  }

  MlpWeights mlp(const std::string& p, int64_t inter) {
    const int64_t H = c_.hidden_size;
    return MlpWeights{linear(p + ".gate_proj", inter, H), linear(p + ".up_proj", inter, H),
                      linear(p + ".down_proj", H, inter)};
  }

  LayerWeights layer(int64_t i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    const int64_t H = c_.hidden_size, nh = c_.num_attention_heads;
    LayerWeights L;
    L.attn_norm = vec(p + "input_layernorm.weight", H);
    L.ffn_norm = vec(p + "post_attention_layernorm.weight", H);
    AttentionWeights& a = L.attn;
    if (c_.q_lora_rank > 0) {
      a.q_a = linear(p + "self_attn.q_a_proj", c_.q_lora_rank, H);
      a.q_a_norm = vec(p + "self_attn.q_a_layernorm.weight", c_.q_lora_rank);
      a.q_b = linear(p + "self_attn.q_b_proj", nh * c_.qk_head_dim(), c_.q_lora_rank);
    } else {
      a.q = linear(p + "self_attn.q_proj", nh * c_.qk_head_dim(), H);
    }
    a.kv_a = linear(p + "self_attn.kv_a_proj_with_mqa", c_.kv_lora_rank + c_.qk_rope_head_dim, H);
    a.kv_a_norm = vec(p + "self_attn.kv_a_layernorm.weight", c_.kv_lora_rank);
    a.kv_b = linear(p + "self_attn.kv_b_proj", nh * (c_.qk_nope_head_dim + c_.v_head_dim), c_.kv_lora_rank);
    a.o = linear(p + "self_attn.o_proj", H, nh * c_.v_head_dim);
    L.is_moe = c_.is_moe_layer(i);
    if (!L.is_moe) {
      L.dense = mlp(p + "mlp", c_.intermediate_size);
    } else {
      MoeWeights& m = L.moe;
      m.router = linear(p + "mlp.gate", c_.n_routed_experts, H);
      const std::string bias = p + "mlp.gate.e_score_correction_bias";
      if (c_.topk_method == "noaux_tc") m.bias = vec(bias, c_.n_routed_experts);
      for (int64_t e = 0; e < c_.n_routed_experts; ++e)
        m.experts.push_back(mlp(fmt::format("{}mlp.experts.{}", p, e), c_.moe_intermediate_size));
      if (c_.n_shared_experts > 0) m.shared = mlp(p + "mlp.shared_experts", c_.moe_intermediate_size * c_.n_shared_experts);
    }
    return L;
  }

  MtpWeights mtp(int64_t i, const ModelWeights& main) {
    const std::string p = fmt::format("model.layers.{}.", i);
    const int64_t H = c_.hidden_size;
    MtpWeights m;
    m.enorm = vec(p + "enorm.weight", H);
    m.hnorm = vec(p + "hnorm.weight", H);
    m.eh_proj = linear(p + "eh_proj", H, 2 * H);
    m.head_norm = vec(p + "shared_head.norm.weight", H);
    m.embed = ck_.has(p + "embed_tokens.weight") ? linear(p + "embed_tokens", c_.vocab_size, H) : main.embed;
    m.head = ck_.has(p + "shared_head.head.weight") ? linear(p + "shared_head.head", c_.vocab_size, H) : main.lm_head;
    m.layer = layer(i);
    return m;
  }

 private:
  const Checkpoint& ck_;
  const ModelConfig& c_;
  int64_t bn_ = 128, bk_ = 128;
};

}  // namespace

std::shared_ptr<Model> Model::load(const std::string& dir, bool load_mtp) {
  auto m = std::make_shared<Model>();
  m->config = ModelConfig::load(dir);
  m->checkpoint = Checkpoint::open(dir);
  const ModelConfig& c = m->config;
  Loader ld(*m->checkpoint, c);
  ModelWeights& w = m->weights;
  w.embed = ld.linear("model.embed_tokens", c.vocab_size, c.hidden_size);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) w.layers.push_back(ld.layer(i));
  w.norm = ld.vec("model.norm.weight", c.hidden_size);
  if (c.tie_word_embeddings && !m->checkpoint->has("lm_head.weight")) w.lm_head = w.embed;
  else w.lm_head = ld.linear("lm_head", c.vocab_size, c.hidden_size);
  if (load_mtp) {
    for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
      const int64_t i = c.num_hidden_layers + k;
      if (!m->checkpoint->has(fmt::format("model.layers.{}.eh_proj.weight", i))) break;  // MTP not shipped
      w.mtp.push_back(ld.mtp(i, w));
    }
  }
  return m;
}

namespace {
// Component of a released tensor name.
std::string component_of(const std::string& name, int64_t main_layers) {
  auto has = [&](const char* k) { return name.find(k) != std::string::npos; };
  std::string pre;
  if (name.rfind("model.layers.", 0) == 0) {
    const int64_t layer = std::stoll(name.substr(13));
    if (layer >= main_layers) pre = "mtp.";
  }
  if (has("weight_scale_inv")) return pre + "fp8_block_scales";
  if (has("embed_tokens")) return pre + "embedding";
  if (name == "lm_head.weight" || has("shared_head.head")) return pre + "lm_head";
  if (has("eh_proj")) return pre + "eh_proj";
  if (has("norm")) return pre + "norms";
  if (has("self_attn")) return pre + "attention";
  if (has("mlp.gate.")) return pre + "router";
  if (has("mlp.experts.")) return pre + "routed_experts";
  if (has("mlp.shared_experts.")) return pre + "shared_experts";
  if (has("mlp.")) return pre + "dense_mlp";
  return pre + "other";
}
}  // namespace

std::vector<ParamCount> count_parameters(const Model& m) {
  std::map<std::pair<std::string, std::string>, ParamCount> acc;
  for (const auto& name : m.checkpoint->names()) {
    const TensorInfo& t = m.checkpoint->get(name);
    auto& p = acc[{component_of(name, m.config.num_hidden_layers), t.dtype_name}];
    p.component = component_of(name, m.config.num_hidden_layers);
    p.dtype = t.dtype_name;
    p.params += t.numel();
    p.bytes += t.nbytes;
  }
  std::vector<ParamCount> out;
  for (auto& [k, v] : acc) out.push_back(v);
  return out;
}

}  // namespace dsv3::model
