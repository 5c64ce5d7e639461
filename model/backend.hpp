#pragma once
// The compute backend interface: everything the engine (generation, log-likelihood, MTP
// speculation) needs from a device. A backend owns the weights' device copies (or views)
// and a KV cache that holds MLA's compressed latent: per token per layer kv_lora_rank
// normalised latent values + qk_rope_head_dim RoPE'd key values (576 for DeepSeek-V3).
//
// Implementations: "cpu" (model/cpu_backend.cpp: Eigen, FP32 compute, weights converted
// tile by tile from their stored dtype) and "cuda" (model/cuda/).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/weights.hpp"

namespace dsv3::model {

// How attention runs. Absorbed: W_UK folded into the query and W_UV applied after the
// weighted sum, attention is MQA over the cached latent (DeepSeek's "absorb" path).
// Naive: K and V of every head expanded from the latent with kv_b_proj (HF's path).
// Both read the same latent cache and agree up to rounding.
enum class AttentionPath { Absorbed, Naive };

struct SeqInput {
  int slot = 0;                 // KV cache slot of the sequence
  std::vector<int32_t> tokens;  // new tokens, appended at the slot's current length
};

// Input of the MTP module: tokens t_{i+1} and the main model's final hidden states h_i
// (post final norm, one row per token), placed at the positions i = the slot's MTP length.
struct MtpInput {
  int slot = 0;
  std::vector<int32_t> tokens;
  std::vector<float> hidden;  // [tokens.size(), hidden_size]
};

struct ForwardOptions {
  bool all_logits = false;   // logits for every new token, else for the last one of each sequence
  bool want_hidden = false;  // also return the final hidden states (post norm) of those rows
  // Greedy decoding: return the argmax token of each row (SeqOutput::argmax, ties to the lower
  // index) and leave the logits out (a GPU backend then copies ids, not [rows, vocab] floats).
  bool greedy_only = false;
  AttentionPath path = AttentionPath::Absorbed;
};

struct SeqOutput {
  int64_t rows = 0;           // rows returned (all new tokens, or 1)
  std::vector<float> logits;  // [rows, vocab_size], FP32
  std::vector<float> hidden;  // [rows, hidden_size] when want_hidden
  std::vector<int32_t> argmax;  // [rows] when greedy_only (logits then empty)
};

struct BackendOptions {
  int threads = 0;  // CPU worker threads; 0 = hardware concurrency
  int device = 0;   // GPU index
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual const Model& model() const = 0;

  // (Re)allocates the cache for max_seqs slots of max_len positions each; all slots empty.
  virtual void reset(int max_seqs, int64_t max_len) = 0;
  virtual int64_t length(int slot) const = 0;
  // Forgets positions >= len of a slot (rollback after a rejected speculative token).
  virtual void truncate(int slot, int64_t len) = 0;
  // The main model over the new tokens of one or more sequences (prefill and decode alike);
  // one output per input, in order. Throws InputError for a token id out of range or a
  // sequence that would outgrow max_len.
  virtual std::vector<SeqOutput> forward(const std::vector<SeqInput>& in, const ForwardOptions& opt) = 0;

  // The first MTP module (when the checkpoint has one), with its own cache per slot.
  virtual bool has_mtp() const { return false; }
  virtual int64_t mtp_length(int /*slot*/) const { return 0; }
  virtual void mtp_truncate(int /*slot*/, int64_t /*len*/) {}
  virtual std::vector<SeqOutput> forward_mtp(const std::vector<MtpInput>& in, const ForwardOptions& opt);
};

// "cpu" or "cuda". Throws InputError for an unknown or unavailable backend.
std::unique_ptr<Backend> make_backend(const std::string& kind, std::shared_ptr<const Model> model,
                                      const BackendOptions& opt = {});

}  // namespace dsv3::model
