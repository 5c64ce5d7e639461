#pragma once
// What the evaluation runner asks of a model, whatever serves it: generate text for a prompt
// (plain completion or one chat user turn), or score continuations of a context by their
// log-likelihood. Three implementations (make_model_backend picks one from the --model spec):
//   DIR               native: this project's engine over the checkpoint (native_backend.hpp)
//   http(s)://…/v1    any OpenAI-compatible server (http_backend.hpp)
//   replay:FILE.jsonl recorded responses (replay_backend.hpp)
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/errors.hpp"

namespace dsv3::eval {

struct GenRequest {
  std::string id;            // item id (replay looks responses up by it)
  int64_t sample_index = 0;  // repeat index (pass@k)
  std::string prompt;        // completion prompt, or the user message when chat
  bool chat = false;
  std::vector<std::string> stop;
  int64_t max_tokens = 256;
  double temperature = 0;
  double top_p = 1;
  uint64_t seed = 0;
};

struct GenResult {
  std::string text;
  int64_t tokens_in = 0, tokens_out = 0;
  double latency_s = 0;
  std::string error;  // this sample failed (e.g. prompt longer than the context); others go on
};

struct LoglikRequest {
  std::string id;
  std::string context;
  std::vector<std::string> continuations;
};

struct LoglikResult {
  std::vector<double> logprobs;  // sum over the continuation's tokens, one per continuation
  std::vector<bool> greedy;      // every continuation token was the argmax
  std::vector<int64_t> tokens;   // continuation tokens
  int64_t tokens_in = 0;
  double latency_s = 0;
  std::string error;
};

// The backend cannot go on (endpoint down after every retry, malformed answers): the run
// stops, keeping what was done. The message names the endpoint and the problem.
class BackendError : public InputError {
 public:
  using InputError::InputError;
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual std::string kind() const = 0;      // native | http | replay
  virtual std::string endpoint() const { return ""; }
  virtual std::string model_name() const = 0;
  // Requests per call (native batches them) and calls the runner may make at once.
  virtual int max_batch() const { return 1; }
  virtual int max_parallel() const { return 1; }
  virtual bool supports_loglikelihood() const { return true; }
  // One result per request, in order. Per-sample problems go into GenResult::error;
  // throws BackendError when the backend cannot serve at all.
  virtual std::vector<GenResult> generate(const std::vector<GenRequest>& reqs) = 0;
  virtual std::vector<LoglikResult> loglikelihood(const std::vector<LoglikRequest>& reqs) = 0;
  // Asks in-flight and later calls to give up soon (Ctrl-C).
  virtual void cancel() {}
};

struct BackendOptions {
  std::string tokenizer;           // native: tokenizer.json (default: DIR/tokenizer.json, else the bundled one)
  int threads = 0;                 // native: CPU threads
  std::string device = "cpu";      // native: cpu | cuda
  int64_t max_batch = 16;          // native: sequences decoded together
  int concurrency = 8;             // http: requests in flight
  std::string api_key_env = "OPENAI_API_KEY";
  std::string model_name;          // http: the "model" field (default: the server's first /v1/models entry)
  double timeout_s = 600;          // http: per request
  int retries = 5;                 // http: on connection errors, 429 and 5xx
  double backoff_s = 1.0;          // http: first back-off, doubled each retry (Retry-After wins when larger)
};

// DIR, http(s)://host:port/v1 or replay:FILE.jsonl. Throws InputError for a bad spec.
std::unique_ptr<ModelBackend> make_model_backend(const std::string& spec, const BackendOptions& opt);
std::unique_ptr<ModelBackend> make_native_backend(const std::string& dir, const BackendOptions& opt);
std::unique_ptr<ModelBackend> make_http_backend(const std::string& base_url, const BackendOptions& opt);
std::unique_ptr<ModelBackend> make_replay_backend(const std::string& file, const BackendOptions& opt);

// Cuts text at the first occurrence of any stop string (servers may ignore some of them).
std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop);

}  // namespace dsv3::eval
