#include "model/rope.hpp"

#include <algorithm>
#include <cmath>

namespace dsv3::model {

Rope Rope::from_config(const ModelConfig& c) {
  Rope r;
  r.dim = c.qk_rope_head_dim;
  const int64_t half = r.dim / 2;
  const double base = c.rope_theta;
  r.inv_freq.resize(half);
  // base^(2i/dim) in FP32, as torch computes pos_freqs.
  std::vector<float> pos_freq(half);
  for (int64_t i = 0; i < half; ++i)
    pos_freq[i] = static_cast<float>(std::pow(base, static_cast<double>(static_cast<float>(2 * i) / static_cast<float>(r.dim))));
  const RopeScaling& s = c.rope_scaling;
  if (!s.is_yarn()) {
    for (int64_t i = 0; i < half; ++i) r.inv_freq[i] = 1.0f / pos_freq[i];
    return r;
  }
  // HF: with original_max_position_embeddings the factor is max_position / original.
  double factor = s.factor;
  double orig = static_cast<double>(c.max_position_embeddings);
  if (s.original_max_position_embeddings > 0) {
    orig = static_cast<double>(s.original_max_position_embeddings);
    factor = static_cast<double>(c.max_position_embeddings) / orig;
  }
  if (s.attention_factor != 0.0) r.attention_factor = static_cast<float>(s.attention_factor);
  else if (s.mscale_set && s.mscale_all_dim != 0.0)
    r.attention_factor = static_cast<float>(yarn_mscale(factor, s.mscale) / yarn_mscale(factor, s.mscale_all_dim));
  else r.attention_factor = static_cast<float>(yarn_mscale(factor, 1.0));
  auto corr = [&](double rot) { return (r.dim * std::log(orig / (rot * 2 * M_PI))) / (2 * std::log(base)); };
  double low = corr(s.beta_fast), high = corr(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(r.dim - 1));
  if (low == high) high += 0.001;
  for (int64_t i = 0; i < half; ++i) {
    const float ramp = std::clamp(static_cast<float>((static_cast<double>(i) - low) / (high - low)), 0.0f, 1.0f);
    const float extrap = 1.0f - ramp;  // weight of the unscaled frequency
    const float f_extra = 1.0f / pos_freq[i];
    const float f_inter = 1.0f / (static_cast<float>(factor) * pos_freq[i]);
    r.inv_freq[i] = f_inter * (1.0f - extrap) + f_extra * extrap;
  }
  return r;
}

void Rope::apply(float* v, int64_t pos) const {
  const int64_t half = dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];  // FP32 angle, as HF
    const float cs = std::cos(angle) * attention_factor, sn = std::sin(angle) * attention_factor;
    const float a = v[2 * i], b = v[2 * i + 1];
    v[2 * i] = a * cs - b * sn;
    v[2 * i + 1] = a * sn + b * cs;
  }
}

}  // namespace dsv3::model
