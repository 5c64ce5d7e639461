// The HTTP backend: any OpenAI-compatible server. Plain prompts go to /completions, chat
// prompts to /chat/completions; log-likelihoods come from /completions with echo and
// logprobs (prompt = context + continuation, the continuation's tokens found by text_offset).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "eval/http_client.hpp"
#include "eval/model_backend.hpp"

namespace dsv3::eval {
namespace {

using nlohmann::json;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

HttpOptions http_options(const BackendOptions& o) {
  HttpOptions h;
  if (!o.api_key_env.empty())
    if (const char* k = std::getenv(o.api_key_env.c_str())) h.api_key = k;
  h.timeout_s = o.timeout_s;
  h.retries = o.retries;
  h.backoff_s = o.backoff_s;
  return h;
}

class HttpBackend : public ModelBackend {
 public:
  HttpBackend(const std::string& url, const BackendOptions& o)
      : http_(url, http_options(o)), name_(o.model_name), parallel_(std::max(1, o.concurrency)) {
    if (name_.empty()) {
      auto r = http_.request("/models", nullptr);
      if (!r.error.empty()) fail("/models", r);
      try {
        name_ = r.body.at("data").at(0).at("id").get<std::string>();
      } catch (const json::exception&) {
        throw BackendError(fmt::format("{}/models: no model id in the answer (expected {{\"data\": [{{\"id\": ...}}]}}); "
                                       "pass --served-model-name",
                                       http_.base_url()));
      }
    }
  }
  std::string kind() const override { return "http"; }
  std::string endpoint() const override { return http_.base_url(); }
  std::string model_name() const override { return name_; }
  int max_parallel() const override { return parallel_; }
  void cancel() override { http_.cancel(); }

  std::vector<GenResult> generate(const std::vector<GenRequest>& reqs) override {
    std::vector<GenResult> out;
    for (auto& r : reqs) out.push_back(generate_one(r));
    return out;
  }

  std::vector<LoglikResult> loglikelihood(const std::vector<LoglikRequest>& reqs) override {
    std::vector<LoglikResult> out;
    for (auto& r : reqs) out.push_back(loglik_one(r));
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const HttpReply& r) const {
    throw BackendError(fmt::format("{}{}: {} (after {} attempt{})", http_.base_url(), path, r.error, r.attempts,
                                   r.attempts == 1 ? "" : "s"));
  }

  // Per-sample error, or the whole run stops (retries used up).
  bool check(const std::string& path, const HttpReply& r, std::string& error) const {
    if (r.error.empty()) return true;
    if (r.fatal) fail(path, r);
    error = fmt::format("{}{}: {}", http_.base_url(), path, r.error);
    return false;
  }

  [[noreturn]] void malformed(const std::string& path, const std::string& what) const {
    throw BackendError(fmt::format("{}{}: malformed answer: {}", http_.base_url(), path, what));
  }

  GenResult generate_one(const GenRequest& q) {
    auto t0 = std::chrono::steady_clock::now();
    GenResult g;
    json body{{"model", name_}, {"max_tokens", q.max_tokens}, {"temperature", q.temperature}, {"top_p", q.top_p},
              {"seed", q.seed}};
    if (!q.stop.empty()) body["stop"] = q.stop;
    std::string path = q.chat ? "/chat/completions" : "/completions";
    if (q.chat)
      body["messages"] = json::array({{{"role", "user"}, {"content", q.prompt}}});
    else
      body["prompt"] = q.prompt;
    auto r = http_.request(path, body);
    g.latency_s = seconds_since(t0);
    if (!check(path, r, g.error)) return g;
    try {
      auto& c = r.body.at("choices").at(0);
      const json& text = q.chat ? c.at("message").at("content") : c.at("text");
      g.text = text.is_null() ? "" : text.get<std::string>();
      if (r.body.contains("usage") && r.body["usage"].is_object()) {
        g.tokens_in = r.body["usage"].value("prompt_tokens", int64_t{0});
        g.tokens_out = r.body["usage"].value("completion_tokens", int64_t{0});
      }
    } catch (const json::exception& e) {
      malformed(path, fmt::format("expected choices[0].{} ({})", q.chat ? "message.content" : "text", e.what()));
    }
    g.text = cut_at_stop(g.text, q.stop);
    return g;
  }

  LoglikResult loglik_one(const LoglikRequest& q) {
    auto t0 = std::chrono::steady_clock::now();
    LoglikResult res;
    json prompts = json::array();
    for (auto& c : q.continuations) prompts.push_back(q.context + c);
    json body{{"model", name_}, {"prompt", prompts}, {"max_tokens", 1}, {"temperature", 0}, {"echo", true},
              {"logprobs", 1}};
    const std::string path = "/completions";
    auto r = http_.request(path, body);
    res.latency_s = seconds_since(t0);
    if (!check(path, r, res.error)) return res;
    try {
      auto& choices = r.body.at("choices");
      if (choices.size() != q.continuations.size())
        malformed(path, fmt::format("{} choices for {} prompts", choices.size(), q.continuations.size()));
      res.logprobs.assign(q.continuations.size(), 0.0);
      res.greedy.assign(q.continuations.size(), true);
      res.tokens.assign(q.continuations.size(), 0);
      for (auto& c : choices) {
        size_t k = c.contains("index") ? c.at("index").get<size_t>() : 0;
        if (k >= q.continuations.size()) malformed(path, fmt::format("choice index {} out of range", k));
        auto& lp = c.at("logprobs");
        if (lp.is_null()) malformed(path, "no logprobs (the server may not support echo with logprobs)");
        auto& offs = lp.at("text_offset");
        auto& tlp = lp.at("token_logprobs");
        auto& top = lp.at("top_logprobs");
        const auto ctx = static_cast<int64_t>(q.context.size());
        const auto end = ctx + static_cast<int64_t>(q.continuations[k].size());
        for (size_t t = 0; t < offs.size(); ++t) {
          int64_t off = offs[t].get<int64_t>();
          if (off < ctx) {
            if (k == 0) res.tokens_in = static_cast<int64_t>(t) + 1;  // context tokens
            continue;
          }
          if (off >= end) break;  // the generated token
          if (tlp[t].is_null()) malformed(path, fmt::format("token {} has no logprob", t));
          double v = tlp[t].get<double>();
          res.logprobs[k] += v;
          res.tokens[k] += 1;
          if (t < top.size() && top[t].is_object())
            for (auto& [tok, p] : top[t].items())
              if (p.is_number() && p.get<double>() > v + 1e-6) res.greedy[k] = false;
        }
        if (res.tokens[k] == 0) malformed(path, "no logprobs for the continuation's tokens");
      }
    } catch (const json::exception& e) {
      malformed(path, fmt::format("expected choices[].logprobs with text_offset, token_logprobs, top_logprobs ({})",
                                  e.what()));
    }
    return res;
  }

  HttpClient http_;
  std::string name_;
  int parallel_;
};

}  // namespace

std::unique_ptr<ModelBackend> make_http_backend(const std::string& url, const BackendOptions& opt) {
  return std::make_unique<HttpBackend>(url, opt);
}

}  // namespace dsv3::eval
