#pragma once
// The state behind a Tokenizer (shared by tokenizer_load.cpp and tokenizer.cpp only).
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/tokenizer.hpp"
#include "model/tokenizer_added.hpp"
#include "model/tokenizer_bpe.hpp"
#include "model/tokenizer_pretokenizer.hpp"

namespace dsv3::model {

// The model vocabulary: token string -> id, an open-addressing table over the strings
// (faster to build and to query than std::unordered_map for 128K tokens).
class VocabMap {
 public:
  void reserve(size_t n) { entries_.reserve(n); }
  void add(std::string token, int32_t id) { entries_.push_back({std::move(token), id}); }
  void build();
  int32_t find(std::string_view token) const;  // -1 when absent
  size_t size() const { return entries_.size(); }
  struct Entry {
    std::string token;
    int32_t id;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
  std::vector<int32_t> slots_;  // index into entries_, -1 = empty
  size_t mask_ = 0;
};

struct Tokenizer::Impl {
  std::string source;
  std::vector<AddedToken> added;
  AddedTokenMatcher raw_matcher;   // added tokens with normalized = false
  AddedTokenMatcher norm_matcher;  // normalized = true
  PreTokenizer pre;
  std::unique_ptr<BpeModel> bpe;
  bool ignore_merges = false;
  VocabMap vocab;                                         // token string -> id (model vocab)
  std::unordered_map<std::string, int32_t> added_by_str;  // content -> id
  std::vector<std::string> token_str;                     // id -> token string ("" for gaps)
  std::vector<std::string> token_raw;                     // id -> bytes it decodes to
  std::vector<uint8_t> flags;                             // id -> kValid | kSpecial | kAdded
  static constexpr uint8_t kValid = 1, kSpecial = 2, kAdded = 4;
  int32_t bos_id = -1, eos_id = -1;
  std::string bos_token, eos_token;
  std::string chat_template;

  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;
};

}  // namespace dsv3::model
