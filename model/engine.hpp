#pragma once
// The engine: generation (greedy / sampled, batched, stop tokens and strings, MTP
// self-speculative decoding) and log-likelihood scoring, over any Backend.
//
// Prefill runs the prompt(s) through the backend in one batched call with the naive
// attention path (per-head K/V expanded from the latent, cheaper for many queries); decode
// steps use the absorbed path over the same latent cache.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/backend.hpp"
#include "model/sampling.hpp"

namespace dsv3::model {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  SamplingOptions sampling;
  std::vector<int32_t> stop_tokens;       // generation ends after emitting one of these
  std::vector<std::string> stop_strings;  // needs `decode`; the text is cut before the match
  std::function<std::string(const std::vector<int32_t>&)> decode;
  bool mtp_speculative = false;  // draft one token with the MTP module and verify it
  std::function<void(int32_t)> on_token;  // streaming (single-sequence generate only)
};

struct GenerateResult {
  std::vector<int32_t> ids;  // new tokens (a stop token is included, as emitted)
  std::string text;          // decode(ids), cut at a stop string; empty without decode
  std::string stop_reason;   // "length", "stop_token" or "stop_string"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
  int64_t drafted = 0, accepted = 0;  // MTP speculation
  double acceptance_rate() const { return drafted ? static_cast<double>(accepted) / drafted : 0.0; }
  double decode_tokens_per_second() const;
};

struct LogLikelihood {
  double logprob = 0;     // sum of log p(continuation token | everything before it)
  bool is_greedy = true;  // every continuation token is the argmax
  int64_t tokens = 0;
};

class Engine {
 public:
  explicit Engine(Backend& backend) : b_(backend) {}

  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& o);
  // Several prompts decoded together (one backend call per step for all live sequences).
  // Sequence i samples from its own stream (seed, i).
  std::vector<GenerateResult> generate_batch(const std::vector<std::vector<int32_t>>& prompts, const GenerateOptions& o);
  // log p(continuation | context); context must not be empty.
  LogLikelihood loglikelihood(const std::vector<int32_t>& context, const std::vector<int32_t>& continuation);

 private:
  GenerateResult generate_speculative(const std::vector<int32_t>& prompt, const GenerateOptions& o);
  Backend& b_;
};

}  // namespace dsv3::model
