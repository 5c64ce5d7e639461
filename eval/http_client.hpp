#pragma once
// JSON over HTTP with libcurl, for OpenAI-compatible servers: POST/GET with a bearer key, a
// per-request timeout, and retries with exponential back-off on connection errors, timeouts,
// 429 and 5xx (a Retry-After header wins when it asks for longer), and on 200 answers that
// are not JSON. Thread-safe: each thread keeps its own connection.
#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

namespace dsv3::eval {

struct HttpOptions {
  std::string api_key;      // sent as "Authorization: Bearer KEY" when not empty
  double timeout_s = 600;   // whole request
  double connect_timeout_s = 10;
  int retries = 5;          // extra attempts after the first
  double backoff_s = 1.0;   // first wait; doubled each retry, capped at 60 s
  double max_retry_after_s = 120;
};

struct HttpReply {
  long status = 0;           // HTTP status, 0 when no answer came
  nlohmann::json body;       // parsed answer (2xx)
  std::string error;         // "" on success; else what went wrong on the last attempt
  bool fatal = false;        // retries used up on a retryable problem (server down, 5xx, bad JSON)
  int attempts = 0;
};

class HttpClient {
 public:
  HttpClient(std::string base_url, HttpOptions opt);
  // POST base_url + path with a JSON body; GET when body is null.
  HttpReply request(const std::string& path, const nlohmann::json& body) const;
  const std::string& base_url() const { return base_; }
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  std::string base_;
  HttpOptions opt_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace dsv3::eval
