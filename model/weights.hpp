#pragma once
// The DeepSeek-V3 weights in the released checkpoint layout, as views into the mapped
// safetensors files. Nothing big is copied: projections stay in their stored dtype (BF16,
// F16, F32, or F8_E4M3 with a weight_scale_inv per block) and backends convert them tile by
// tile. Only the small vectors (norm weights, the router's correction bias) become float.
//
// Tensor names (prefix model.layers.N.):
//   input_layernorm, post_attention_layernorm
//   self_attn.{q_a_proj, q_a_layernorm, q_b_proj | q_proj, kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj}
//   mlp.{gate_proj, up_proj, down_proj}                           (the first first_k_dense_replace layers)
//   mlp.gate.weight, mlp.gate.e_score_correction_bias,
//   mlp.experts.E.{gate,up,down}_proj, mlp.shared_experts.{gate,up,down}_proj   (MoE layers)
// MTP layer N = num_hidden_layers (+k): the same plus enorm, hnorm, eh_proj, shared_head.{norm,head}
// and its own embed_tokens (copies of the main ones; the main ones are used when absent).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/dtype.hpp"
#include "model/safetensors.hpp"

namespace dsv3::model {

// A [out, in] projection (nn.Linear convention: y = x W^T), in its stored dtype.
struct Linear {
  std::string name;
  int64_t out = 0, in = 0;
  DType dtype = DType::F32;
  const uint8_t* data = nullptr;  // row-major [out, in]
  // FP8 only: weight_scale_inv [ceil(out/block_n), ceil(in/block_k)], multiplied in.
  const float* scale = nullptr;
  int64_t block_n = 128, block_k = 128, scale_cols = 0;

  bool empty() const { return data == nullptr; }
  int64_t params() const { return out * in; }
  int64_t bytes() const;  // stored bytes, scales included
  // Rows [r0, r1) as float, row-major into dst ((r1 - r0) x in).
  void rows_to_float(int64_t r0, int64_t r1, float* dst) const;
  // Element (r, c) as float (slow; tests and tools).
  float at(int64_t r, int64_t c) const;
};

struct AttentionWeights {
  Linear q_a, q_b, q;  // q_a/q_b with q_lora_rank > 0, else q (V2-Lite style)
  std::vector<float> q_a_norm;
  Linear kv_a;  // [kv_lora_rank + rope, H]
  std::vector<float> kv_a_norm;
  Linear kv_b;  // [heads * (nope + v), kv_lora_rank]
  Linear o;     // [H, heads * v]
};

struct MlpWeights {
  Linear gate, up, down;
};

struct MoeWeights {
  Linear router;                  // [n_routed_experts, H]
  std::vector<float> bias;        // e_score_correction_bias, empty when absent
  std::vector<MlpWeights> experts;
  MlpWeights shared;              // empty when n_shared_experts == 0
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  AttentionWeights attn;
  bool is_moe = false;
  MlpWeights dense;
  MoeWeights moe;
};

struct MtpWeights {
  std::vector<float> enorm, hnorm, head_norm;
  Linear eh_proj;  // [H, 2H]: input [enorm(embedding); hnorm(hidden)]
  Linear embed;    // its own embed_tokens, or the main one
  Linear head;     // shared_head.head, or the main lm_head
  LayerWeights layer;
};

struct ModelWeights {
  Linear embed;  // [vocab, H]
  std::vector<LayerWeights> layers;
  std::vector<float> norm;
  Linear lm_head;  // [vocab, H] (embed when tie_word_embeddings)
  std::vector<MtpWeights> mtp;  // empty when the checkpoint has no MTP layer
};

// A loaded model: the config, the mapped checkpoint and the weight views into it.
struct Model {
  ModelConfig config;
  std::shared_ptr<Checkpoint> checkpoint;
  ModelWeights weights;

  // DIR holds config.json and the safetensors. MTP layers load when their tensors are present
  // (load_mtp false skips them). Throws dsv3::InputError naming the tensor and the file.
  static std::shared_ptr<Model> load(const std::string& dir, bool load_mtp = true);
};

// Parameter counts and bytes of the checkpoint's tensors by component and stored dtype
// (for `dsv3 model info`; FP8 block scales are their own component).
struct ParamCount {
  std::string component;
  std::string dtype;
  int64_t params = 0;
  int64_t bytes = 0;
};
std::vector<ParamCount> count_parameters(const Model& m);

}  // namespace dsv3::model
