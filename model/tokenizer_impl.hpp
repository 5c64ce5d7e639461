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

struct Tokenizer::Impl {
  std::string source;
  std::vector<AddedToken> added;
  AddedTokenMatcher raw_matcher;   // added tokens with normalized = false
  AddedTokenMatcher norm_matcher;  // normalized = true
  PreTokenizer pre;
  std::unique_ptr<BpeModel> bpe;
  bool ignore_merges = false;
  std::unordered_map<std::string, int32_t> vocab;        // token string -> id (model vocab)
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
