#include "model/cpu_backend.hpp"

#include <fmt/core.h>

#include "model/cpu_matmul.hpp"
#include "model/errors.hpp"
#include "model/layers.hpp"
#include "model/sampling.hpp"

namespace dsv3::model {

CpuBackend::CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& opt)
    : model_(std::move(model)), pool_(opt.threads), rope_(Rope::from_config(model_->config)) {
  reset(1, std::min<int64_t>(model_->config.max_position_embeddings, 4096));
}

void CpuBackend::reset(int max_seqs, int64_t max_len) {
  const ModelConfig& c = model_->config;
  if (max_seqs <= 0 || max_len <= 0) throw InputError("KV cache: need at least one slot and one position");
  cache_ = LatentKvCache(c.num_hidden_layers, max_seqs, max_len, c.kv_cache_dim());
  mtp_cache_ = has_mtp() ? LatentKvCache(1, max_seqs, max_len, c.kv_cache_dim()) : LatentKvCache();
  len_.assign(static_cast<size_t>(max_seqs), 0);
  mtp_len_.assign(static_cast<size_t>(max_seqs), 0);
}

void CpuBackend::check_slot(int slot) const {
  if (slot < 0 || slot >= static_cast<int>(len_.size()))
    throw InputError(fmt::format("KV cache slot {} out of range (0..{})", slot, len_.size() - 1));
}

int64_t CpuBackend::length(int slot) const {
  check_slot(slot);
  return len_[slot];
}

void CpuBackend::truncate(int slot, int64_t len) {
  check_slot(slot);
  len_[slot] = std::clamp<int64_t>(len, 0, len_[slot]);
}

int64_t CpuBackend::mtp_length(int slot) const {
  check_slot(slot);
  return mtp_len_[slot];
}

void CpuBackend::mtp_truncate(int slot, int64_t len) {
  check_slot(slot);
  mtp_len_[slot] = std::clamp<int64_t>(len, 0, mtp_len_[slot]);
}

namespace {

BatchLayout layout(const std::vector<int>& slots, const std::vector<int64_t>& counts, const std::vector<int64_t>& lens,
                   int64_t max_len) {
  BatchLayout b;
  std::vector<char> seen(lens.size(), 0);
  for (size_t i = 0; i < slots.size(); ++i) {
    const int slot = slots[i];
    if (seen[slot]) throw InputError(fmt::format("forward: slot {} appears twice in one batch", slot));
    seen[slot] = 1;
    if (counts[i] <= 0) throw InputError(fmt::format("forward: no tokens for slot {}", slot));
    if (lens[slot] + counts[i] > max_len)
      throw InputError(fmt::format("forward: sequence in slot {} would reach {} tokens, over the cache's {}", slot,
                                   lens[slot] + counts[i], max_len));
    b.seqs.push_back({slot, b.rows, counts[i], lens[slot]});
    b.rows += counts[i];
  }
  return b;
}

void embed(const Linear& e, const std::vector<int32_t>& ids, float* dst) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= e.out)
      throw InputError(fmt::format("token id {} out of range (vocabulary of {})", ids[i], e.out));
    e.rows_to_float(ids[i], ids[i] + 1, dst + static_cast<int64_t>(i) * e.in);
  }
}

}  // namespace

std::vector<SeqOutput> CpuBackend::finish(const std::vector<float>& x, const BatchLayout& b, const ForwardOptions& opt,
                                          const std::vector<float>& norm, const Linear& head) {
  const ModelConfig& c = model_->config;
  const int64_t H = c.hidden_size, V = head.out;
  std::vector<int64_t> pick;
  for (const auto& s : b.seqs) {
    if (opt.all_logits)
      for (int64_t i = 0; i < s.count; ++i) pick.push_back(s.offset + i);
    else
      pick.push_back(s.offset + s.count - 1);
  }
  const int64_t m = static_cast<int64_t>(pick.size());
  std::vector<float> hn(static_cast<size_t>(m * H)), logits(static_cast<size_t>(m * V));
  for (int64_t i = 0; i < m; ++i) rms_norm(x.data() + pick[i] * H, 1, H, norm, c.rms_norm_eps, hn.data() + i * H);
  matmul(head, hn.data(), m, logits.data(), &pool_);
  std::vector<SeqOutput> out;
  int64_t at = 0;
  for (const auto& s : b.seqs) {
    SeqOutput o;
    o.rows = opt.all_logits ? s.count : 1;
    if (opt.greedy_only)
      for (int64_t r = at; r < at + o.rows; ++r) o.argmax.push_back(argmax(logits.data() + r * V, V));
    else
      o.logits.assign(logits.begin() + at * V, logits.begin() + (at + o.rows) * V);
    if (opt.want_hidden) o.hidden.assign(hn.begin() + at * H, hn.begin() + (at + o.rows) * H);
    at += o.rows;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<SeqOutput> CpuBackend::forward(const std::vector<SeqInput>& in, const ForwardOptions& opt) {
  const ModelConfig& c = model_->config;
  const ModelWeights& w = model_->weights;
  std::vector<int> slots;
  std::vector<int64_t> counts;
  for (const auto& s : in) {
    check_slot(s.slot);
    slots.push_back(s.slot);
    counts.push_back(static_cast<int64_t>(s.tokens.size()));
  }
  BatchLayout b = layout(slots, counts, len_, cache_.max_len());
  const int64_t H = c.hidden_size;
  std::vector<float> x(static_cast<size_t>(b.rows * H));
  for (size_t i = 0; i < in.size(); ++i) embed(w.embed, in[i].tokens, x.data() + b.seqs[i].offset * H);
  CpuContext ctx{&c, &rope_, &pool_};
  for (int64_t l = 0; l < c.num_hidden_layers; ++l)
    decoder_layer(ctx, w.layers[l], x.data(), b, cache_, l, opt.path);
  for (const auto& s : b.seqs) len_[s.slot] += s.count;
  return finish(x, b, opt, w.norm, w.lm_head);
}

std::vector<SeqOutput> CpuBackend::forward_mtp(const std::vector<MtpInput>& in, const ForwardOptions& opt) {
  if (!has_mtp()) throw InputError(fmt::format("{}: the checkpoint has no MTP layer", model_->checkpoint->description()));
  const ModelConfig& c = model_->config;
  const MtpWeights& m = model_->weights.mtp[0];
  const int64_t H = c.hidden_size;
  std::vector<int> slots;
  std::vector<int64_t> counts;
  for (const auto& s : in) {
    check_slot(s.slot);
    if (static_cast<int64_t>(s.hidden.size()) != static_cast<int64_t>(s.tokens.size()) * H)
      throw InputError("forward_mtp: hidden rows do not match the tokens");
    slots.push_back(s.slot);
    counts.push_back(static_cast<int64_t>(s.tokens.size()));
  }
  BatchLayout b = layout(slots, counts, mtp_len_, mtp_cache_.max_len());
  std::vector<float> e(static_cast<size_t>(b.rows * H)), cat(static_cast<size_t>(b.rows * 2 * H)),
      x(static_cast<size_t>(b.rows * H));
  for (size_t i = 0; i < in.size(); ++i) embed(m.embed, in[i].tokens, e.data() + b.seqs[i].offset * H);
  // eh_proj over [enorm(embedding); hnorm(hidden)], embedding half first.
  for (size_t i = 0; i < in.size(); ++i)
    for (int64_t j = 0; j < b.seqs[i].count; ++j) {
      const int64_t row = b.seqs[i].offset + j;
      rms_norm(e.data() + row * H, 1, H, m.enorm, c.rms_norm_eps, cat.data() + row * 2 * H);
      rms_norm(in[i].hidden.data() + j * H, 1, H, m.hnorm, c.rms_norm_eps, cat.data() + row * 2 * H + H);
    }
  matmul(m.eh_proj, cat.data(), b.rows, x.data(), &pool_);
  CpuContext ctx{&c, &rope_, &pool_};
  decoder_layer(ctx, m.layer, x.data(), b, mtp_cache_, 0, opt.path);
  for (const auto& s : b.seqs) mtp_len_[s.slot] += s.count;
  return finish(x, b, opt, m.head_norm, m.head);
}

}  // namespace dsv3::model
