#pragma once
// MLA's compressed KV cache on the host: per layer, per slot, per position one row of
// kv_lora_rank normalised latent values followed by qk_rope_head_dim RoPE'd key values
// (576 floats for DeepSeek-V3). Keys and values of every head are recovered from it with
// kv_b_proj (naive path) or never materialised (absorbed path).
#include <cstdint>
#include <vector>

namespace dsv3::model {

class LatentKvCache {
 public:
  LatentKvCache() = default;
  LatentKvCache(int64_t layers, int max_seqs, int64_t max_len, int64_t dim)
      : layers_(layers), seqs_(max_seqs), max_len_(max_len), dim_(dim),
        data_(static_cast<size_t>(layers * max_seqs * max_len * dim), 0.0f) {}

  int64_t dim() const { return dim_; }
  int64_t max_len() const { return max_len_; }
  int max_seqs() const { return seqs_; }
  // Row of (layer, slot, pos); rows of one slot are contiguous.
  float* row(int64_t layer, int slot, int64_t pos) {
    return data_.data() + ((layer * seqs_ + slot) * max_len_ + pos) * dim_;
  }
  const float* row(int64_t layer, int slot, int64_t pos) const {
    return data_.data() + ((layer * seqs_ + slot) * max_len_ + pos) * dim_;
  }
  int64_t bytes() const { return static_cast<int64_t>(data_.size() * sizeof(float)); }

 private:
  int64_t layers_ = 0;
  int seqs_ = 0;
  int64_t max_len_ = 0, dim_ = 0;
  std::vector<float> data_;
};

}  // namespace dsv3::model
