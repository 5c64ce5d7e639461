// The native backend: this project's engine over a checkpoint folder (eval/native_model.hpp).
#include <chrono>

#include "eval/model_backend.hpp"
#include "eval/native_model.hpp"

namespace dsv3::eval {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

class NativeBackend : public ModelBackend {
 public:
  NativeBackend(const std::string& dir, const BackendOptions& o)
      : m_({.model_dir = dir, .tokenizer = o.tokenizer, .device = o.device, .threads = o.threads}),
        max_batch_(static_cast<int>(std::max<int64_t>(1, o.max_batch))) {}
  std::string kind() const override { return "native"; }
  std::string model_name() const override { return m_.name(); }
  int max_batch() const override { return max_batch_; }
  int max_parallel() const override { return 1; }

  std::vector<GenResult> generate(const std::vector<GenRequest>& reqs) override {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<CompletionRequest> cr;
    for (auto& r : reqs) {
      CompletionRequest c;
      c.prompt = r.chat ? m_.encode_chat({{"user", r.prompt, {}}}) : m_.encode_prompt(r.prompt);
      c.stop = r.stop;
      c.max_tokens = r.max_tokens;
      c.sampling = {.temperature = r.temperature, .top_p = r.top_p, .top_k = 0, .seed = r.seed};
      cr.push_back(std::move(c));
    }
    auto res = m_.complete(cr, max_batch_);
    double dt = seconds_since(t0);
    std::vector<GenResult> out(reqs.size());
    for (size_t i = 0; i < reqs.size(); ++i) {
      out[i].text = res[i].text;
      out[i].tokens_in = res[i].prompt_tokens;
      out[i].tokens_out = static_cast<int64_t>(res[i].ids.size());
      out[i].error = res[i].error;
      out[i].latency_s = dt;
    }
    return out;
  }

  std::vector<LoglikResult> loglikelihood(const std::vector<LoglikRequest>& reqs) override {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> texts;
    for (auto& r : reqs)
      for (auto& c : r.continuations) texts.push_back(r.context + c);
    std::vector<LoglikResult> out(reqs.size());
    std::vector<TokenScores> sc;
    try {
      sc = m_.score(texts);
    } catch (const InputError& e) {
      for (auto& o : out) o.error = e.what();
      return out;
    }
    double dt = seconds_since(t0);
    size_t k = 0;
    for (size_t i = 0; i < reqs.size(); ++i) {
      auto& o = out[i];
      o.latency_s = dt;
      for (size_t c = 0; c < reqs[i].continuations.size(); ++c, ++k) {
        auto& s = sc[k];
        size_t first = first_continuation_token(s.offsets, static_cast<int64_t>(reqs[i].context.size()));
        double lp = 0;
        bool greedy = true;
        for (size_t t = first; t < s.ids.size(); ++t) {
          lp += s.logprobs[t];
          greedy = greedy && s.top_ids[t] == s.ids[t];
        }
        o.logprobs.push_back(lp);
        o.greedy.push_back(greedy);
        o.tokens.push_back(static_cast<int64_t>(s.ids.size() - first));
        if (c == 0) o.tokens_in = static_cast<int64_t>(first);  // context tokens (BOS not counted)
      }
    }
    return out;
  }

 private:
  NativeModel m_;
  int max_batch_;
};

}  // namespace

std::unique_ptr<ModelBackend> make_native_backend(const std::string& dir, const BackendOptions& opt) {
  return std::make_unique<NativeBackend>(dir, opt);
}

}  // namespace dsv3::eval
