#pragma once
// DeepSeek-V3's tokenizer (and other byte-level BPE tokenizers in HF's tokenizer.json
// format): encode text to ids and decode ids to text, id-for-id as HF tokenizers does.
//
//   auto tok = dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path());
//   std::vector<int32_t> ids = tok.encode("Hello, world!");          // [19923, 14, 2058, 3]
//   std::string text = tok.decode(ids);                                 // "Hello, world!"
//   dsv3::model::Detokenizer stream(tok);  // streaming: stream.push(id) -> new text
//
// Pipeline (what tokenizer.json describes): added tokens are cut out of the raw text
// first (tokenizer_added.hpp); the rest is split by the pre-tokenizer's regexes
// (tokenizer_pretokenizer.hpp); each piece's bytes go through BPE (tokenizer_bpe.hpp).
// Decoding maps ids to bytes (ByteLevel alphabet, tokenizer_bytes.hpp) and then to UTF-8,
// replacing invalid sequences with U+FFFD as HF does.
//
// A Tokenizer is cheap to copy (shared, immutable state) and safe to use from any number
// of threads at once.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer_added.hpp"

namespace dsv3::model {

class Tokenizer {
 public:
  // Reads tokenizer.json; also reads tokenizer_config.json from the same folder when it
  // exists (BOS/EOS token names, chat template). Throws InputError naming the file and
  // field for anything malformed or unsupported.
  static Tokenizer load(const std::filesystem::path& tokenizer_json);
  // The same from text already in memory (name is used in error messages);
  // config_json may be empty.
  static Tokenizer from_json(std::string_view tokenizer_json, std::string_view config_json,
                             const std::string& name);

  // Token ids of text (valid UTF-8, else InputError). Added and special tokens written in
  // the text become their ids. add_bos puts the BOS id first.
  std::vector<int32_t> encode(std::string_view text, bool add_bos = false) const;
  // Appends to out instead.
  void encode_into(std::string_view text, std::vector<int32_t>& out) const;
  // Encodes many texts on `threads` threads (0: all hardware threads).
  std::vector<std::vector<int32_t>> encode_batch(std::span<const std::string_view> texts, bool add_bos = false,
                                                 unsigned threads = 0) const;

  // Text of ids; skip_special leaves out tokens flagged special. An id outside the
  // vocabulary is an InputError.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The raw bytes id stands for (may be part of a UTF-8 sequence).
  const std::string& token_bytes(int32_t id) const;
  // The token as written in tokenizer.json ("Ġworld", "<｜User｜>").
  const std::string& id_to_token(int32_t id) const;
  // The id of a token written as in tokenizer.json, if there is one.
  std::optional<int32_t> token_to_id(std::string_view token) const;

  bool is_special(int32_t id) const;
  bool is_added(int32_t id) const;
  // One past the largest id (DeepSeek-V3: 128815; the model's embedding has 129280 rows).
  int32_t vocab_size() const;
  // BOS / EOS ids (from tokenizer_config.json, else DeepSeek's token names); -1 if none.
  int32_t bos_id() const;
  int32_t eos_id() const;
  const std::string& bos_token() const;
  const std::string& eos_token() const;
  // tokenizer_config.json's chat_template text ("" when absent).
  const std::string& chat_template() const;
  const std::vector<AddedToken>& added_tokens() const;
  const std::string& source() const;  // the file it was loaded from

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Incremental detokenizer for streaming: push ids one at a time and get the text that is
// now complete. Bytes of a UTF-8 sequence split across tokens are held until the sequence
// completes (or turns out invalid, then U+FFFD). The concatenation of every push() and
// finish() equals tokenizer.decode(all ids, skip_special).
class Detokenizer {
 public:
  explicit Detokenizer(const Tokenizer& tok, bool skip_special = false) : tok_(tok), skip_special_(skip_special) {}
  std::string push(int32_t id);
  // Flushes held bytes (an incomplete sequence becomes U+FFFD) and resets.
  std::string finish();

 private:
  Tokenizer tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace dsv3::model
