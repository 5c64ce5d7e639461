#include "model/tokenizer.hpp"

#include <fmt/core.h>

#include <atomic>
#include <thread>

#include "model/errors.hpp"
#include "model/tokenizer_bytes.hpp"
#include "model/tokenizer_impl.hpp"

namespace dsv3::model {

void VocabMap::build() {
  size_t cap = 16;
  while (cap < entries_.size() * 2) cap <<= 1;
  slots_.assign(cap, -1);
  mask_ = cap - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t h = std::hash<std::string_view>{}(entries_[i].token) & mask_;
    while (slots_[h] >= 0) h = (h + 1) & mask_;
    slots_[h] = static_cast<int32_t>(i);
  }
}

int32_t VocabMap::find(std::string_view token) const {
  if (slots_.empty()) return -1;
  size_t h = std::hash<std::string_view>{}(token) & mask_;
  while (true) {
    int32_t e = slots_[h];
    if (e < 0) return -1;
    if (entries_[static_cast<size_t>(e)].token == token) return entries_[static_cast<size_t>(e)].id;
    h = (h + 1) & mask_;
  }
}

void Tokenizer::Impl::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  pre.split(text, [&](std::string_view piece) {
    if (ignore_merges) {
      if (int32_t id = vocab.find(bytes::map_byte_level(piece)); id >= 0) {
        out.push_back(id);
        return;
      }
    }
    bpe->tokenize(piece, out);
  });
}

void Tokenizer::encode_into(std::string_view text, std::vector<int32_t>& out) const {
  if (auto bad = bytes::find_invalid_utf8(text))
    throw InputError(fmt::format("text to tokenize is not valid UTF-8 (byte offset {})", *bad));
  const Impl& im = *impl_;
  im.raw_matcher.split(text, [&](std::string_view seg, int32_t id) {
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    im.norm_matcher.split(seg, [&](std::string_view seg2, int32_t id2) {
      if (id2 >= 0)
        out.push_back(id2);
      else
        im.encode_plain(seg2, out);
    });
  });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_bos) {
    if (impl_->bos_id < 0) throw InputError(fmt::format("{}: no BOS token is known", impl_->source));
    out.push_back(impl_->bos_id);
  }
  encode_into(text, out);
  return out;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(std::span<const std::string_view> texts, bool add_bos,
                                                          unsigned threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, texts.size()));
  if (threads <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_bos);
    return out;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      (void)t;
      try {
        for (size_t i; !failed && (i = next.fetch_add(1)) < texts.size();) out[i] = encode(texts[i], add_bos);
      } catch (...) {
        if (!failed.exchange(true)) error = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  return out;
}

namespace {
[[noreturn]] void bad_id(const std::string& src, int32_t id) {
  throw InputError(fmt::format("token id {} is not in the vocabulary of {}", id, src));
}
}  // namespace

const std::string& Tokenizer::token_bytes(int32_t id) const {
  const Impl& im = *impl_;
  if (id < 0 || static_cast<size_t>(id) >= im.flags.size() || !(im.flags[id] & Impl::kValid)) bad_id(im.source, id);
  return im.token_raw[id];
}

const std::string& Tokenizer::id_to_token(int32_t id) const {
  const Impl& im = *impl_;
  if (id < 0 || static_cast<size_t>(id) >= im.flags.size() || !(im.flags[id] & Impl::kValid)) bad_id(im.source, id);
  return im.token_str[id];
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const Impl& im = *impl_;
  std::string key(token);
  if (auto it = im.added_by_str.find(key); it != im.added_by_str.end()) return it->second;
  if (int32_t id = im.vocab.find(key); id >= 0) return id;
  return std::nullopt;
}

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[id] & Impl::kSpecial);
}
bool Tokenizer::is_added(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->flags.size() && (impl_->flags[id] & Impl::kAdded);
}
int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->flags.size()); }
int32_t Tokenizer::bos_id() const { return impl_->bos_id; }
int32_t Tokenizer::eos_id() const { return impl_->eos_id; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }
const std::string& Tokenizer::chat_template() const { return impl_->chat_template; }
const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added; }
const std::string& Tokenizer::source() const { return impl_->source; }

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string raw;
  raw.reserve(ids.size() * 4);
  for (int32_t id : ids) {
    const std::string& b = token_bytes(id);
    if (skip_special && is_special(id)) continue;
    raw += b;
  }
  std::string out;
  out.reserve(raw.size());
  bytes::append_utf8_lossy(out, raw);
  return out;
}

std::string Detokenizer::push(int32_t id) {
  const std::string& b = tok_.token_bytes(id);
  if (skip_special_ && tok_.is_special(id)) return {};
  pending_ += b;
  std::string out;
  size_t held = bytes::append_utf8_lossy(out, pending_, /*hold_incomplete=*/true);
  pending_.erase(0, pending_.size() - held);
  return out;
}

std::string Detokenizer::finish() {
  std::string out;
  bytes::append_utf8_lossy(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace dsv3::model
