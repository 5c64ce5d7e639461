#pragma once
// A checkpoint with its tokenizer behind one lock: batched completion, streaming completion
// and per-token scoring of a whole text (what /v1/completions with echo and logprobs returns).
// Used by the native eval backend and by `dsv3 serve`, so both give the same results.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/backend.hpp"
#include "model/chat_template.hpp"
#include "model/sampling.hpp"
#include "model/tokenizer.hpp"

namespace dsv3::eval {

struct NativeModelOptions {
  std::string model_dir;
  std::string tokenizer;  // "" -> DIR/tokenizer.json when present, else the bundled DeepSeek-V3 one
  std::string device = "cpu";
  int threads = 0;
};

struct CompletionRequest {
  std::vector<int32_t> prompt;  // token ids, BOS included
  std::vector<std::string> stop;
  int64_t max_tokens = 16;
  model::SamplingOptions sampling;
};

struct Completion {
  std::string text;
  std::vector<int32_t> ids;
  int64_t prompt_tokens = 0;
  std::string finish_reason;  // stop | length
  std::string error;          // the request could not run (prompt longer than the context)
};

// Per-token log-probabilities of a text under the model (BOS first, not scored).
struct TokenScores {
  std::vector<int32_t> ids;           // the text's tokens (BOS excluded)
  std::vector<std::string> tokens;    // their text (raw bytes)
  std::vector<int64_t> offsets;       // byte offset of each token in the text
  std::vector<double> logprobs;       // log p(token | BOS + everything before)
  std::vector<int32_t> top_ids;       // the argmax token at that position
  std::vector<double> top_logprobs;   // its log-probability
};

class NativeModel {
 public:
  explicit NativeModel(const NativeModelOptions& opt);
  ~NativeModel();

  const model::Tokenizer& tokenizer() const { return tok_; }
  std::string name() const { return name_; }
  int64_t context_length() const;

  std::vector<int32_t> encode_prompt(const std::string& text) const;  // BOS + text
  std::vector<int32_t> encode_chat(const std::vector<model::ChatMessage>& messages) const;

  // Requests with the same stop strings, max_tokens and sampling run as one batch.
  std::vector<Completion> complete(const std::vector<CompletionRequest>& reqs, int64_t max_batch = 16);
  // One request, on_text called with each new piece of text (stop strings held back until
  // they cannot match any more, and never sent).
  Completion complete_stream(const CompletionRequest& req, const std::function<void(const std::string&)>& on_text);
  // Scores each text (BOS + its tokens) in one batched forward pass per group.
  std::vector<TokenScores> score(const std::vector<std::string>& texts);

 private:
  std::vector<Completion> complete_group(const std::vector<const CompletionRequest*>& reqs);
  std::string name_;
  model::Tokenizer tok_;
  std::shared_ptr<const model::Model> model_;
  std::unique_ptr<model::Backend> backend_;
  std::mutex mu_;
};

// The token indexes of `s` that belong to the continuation starting at byte `context_bytes`
// (tokens whose offset is at or past it, as OpenAI-style clients read echo logprobs).
size_t first_continuation_token(const std::vector<int64_t>& offsets, int64_t context_bytes);

}  // namespace dsv3::eval
