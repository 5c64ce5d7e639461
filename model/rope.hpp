#pragma once
// Decoupled RoPE of MLA: the qk_rope_head_dim part of each query head and the one shared
// RoPE key. DeepSeek's checkpoints keep rotation pairs interleaved: (x[2i], x[2i+1]) turns by
// pos * inv_freq[i]. YaRN (HF transformers' _compute_yarn_parameters): frequencies blend
// between base/factor and base over the correction range [low, high] found from beta_fast and
// beta_slow; cos and sin carry attention_factor = mscale(f, mscale) / mscale(f, mscale_all_dim)
// (1 for DeepSeek-V3); the softmax scale's mscale^2 lives in ModelConfig::softmax_scale().
#include <cstdint>
#include <vector>

#include "model/config.hpp"

namespace dsv3::model {

struct Rope {
  int64_t dim = 0;
  std::vector<float> inv_freq;  // dim / 2, FP32 as HF computes them
  float attention_factor = 1.0f;

  static Rope from_config(const ModelConfig& c);
  // Rotates the interleaved pairs of v[0..dim) for position pos, in place.
  void apply(float* v, int64_t pos) const;
};

}  // namespace dsv3::model
