#include "model/engine.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>

#include "model/errors.hpp"

namespace dsv3::model {

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void check_prompt(const std::vector<int32_t>& p) {
  if (p.empty()) throw InputError("generate: the prompt has no tokens");
}

// Appends a token and decides whether generation ends. Returns true to stop.
bool emit(GenerateResult& r, int32_t tok, const GenerateOptions& o) {
  r.ids.push_back(tok);
  if (o.on_token) o.on_token(tok);
  if (std::find(o.stop_tokens.begin(), o.stop_tokens.end(), tok) != o.stop_tokens.end()) {
    r.stop_reason = "stop_token";
    return true;
  }
  if (!o.stop_strings.empty() && o.decode) {
    const std::string text = o.decode(r.ids);
    size_t cut = std::string::npos;
    for (const auto& s : o.stop_strings)
      if (!s.empty()) cut = std::min(cut, text.find(s));
    if (cut != std::string::npos) {
      r.text = text.substr(0, cut);
      r.stop_reason = "stop_string";
      return true;
    }
  }
  if (static_cast<int64_t>(r.ids.size()) >= o.max_new_tokens) {
    r.stop_reason = "length";
    return true;
  }
  return false;
}

void finish_text(GenerateResult& r, const GenerateOptions& o) {
  if (o.decode && r.stop_reason != "stop_string") r.text = o.decode(r.ids);
}

}  // namespace

double GenerateResult::decode_tokens_per_second() const {
  const double n = static_cast<double>(ids.size() > 0 ? ids.size() - 1 : 0);  // the first comes from prefill
  return decode_seconds > 0 ? n / decode_seconds : 0.0;
}

std::vector<GenerateResult> Engine::generate_batch(const std::vector<std::vector<int32_t>>& prompts,
                                                   const GenerateOptions& o) {
  if (o.max_new_tokens <= 0) throw InputError("generate: max-new-tokens must be > 0");
  if (o.stop_strings.size() && !o.decode) throw InputError("generate: stop strings need a tokenizer");
  const int n = static_cast<int>(prompts.size());
  int64_t longest = 0;
  for (const auto& p : prompts) {
    check_prompt(p);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
  }
  const int64_t max_len = longest + o.max_new_tokens + 2;
  if (max_len > b_.model().config.max_position_embeddings)
    throw InputError(fmt::format("generate: prompt + max-new-tokens = {} exceeds max_position_embeddings {}",
                                 longest + o.max_new_tokens, b_.model().config.max_position_embeddings));
  b_.reset(n, max_len);
  std::vector<GenerateResult> res(static_cast<size_t>(n));
  std::vector<Sampler> samplers;
  for (int i = 0; i < n; ++i) samplers.emplace_back(o.sampling, static_cast<uint64_t>(i));
  const int64_t V = b_.model().config.vocab_size;

  double t0 = now();
  std::vector<SeqInput> in;
  for (int i = 0; i < n; ++i) {
    in.push_back({i, prompts[i]});
    res[i].prompt_tokens = static_cast<int64_t>(prompts[i].size());
  }
  // Greedy decoding needs only each row's argmax, which a GPU backend computes on the device.
  const bool greedy = o.sampling.temperature == 0.0;
  auto pick = [&](const SeqOutput& r, int i) { return greedy ? r.argmax.at(0) : samplers[i].sample(r.logits.data(), V); };
  auto out = b_.forward(in, {.all_logits = false, .greedy_only = greedy, .path = AttentionPath::Naive});
  std::vector<int32_t> next(n);
  std::vector<char> live(n, 1);
  for (int i = 0; i < n; ++i) {
    next[i] = pick(out[i], i);
    if (emit(res[i], next[i], o)) live[i] = 0;
  }
  double t1 = now();
  for (auto& r : res) r.prefill_seconds = t1 - t0;
  for (;;) {
    in.clear();
    std::vector<int> who;
    for (int i = 0; i < n; ++i)
      if (live[i]) {
        in.push_back({i, {next[i]}});
        who.push_back(i);
      }
    if (in.empty()) break;
    out = b_.forward(in, {.all_logits = false, .greedy_only = greedy, .path = AttentionPath::Absorbed});
    for (size_t k = 0; k < who.size(); ++k) {
      const int i = who[k];
      next[i] = pick(out[k], i);
      if (emit(res[i], next[i], o)) live[i] = 0;
    }
  }
  const double t2 = now();
  for (int i = 0; i < n; ++i) {
    res[i].decode_seconds = t2 - t1;
    finish_text(res[i], o);
  }
  return res;
}

GenerateResult Engine::generate(const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  if (o.mtp_speculative) return generate_speculative(prompt, o);
  return generate_batch({prompt}, o)[0];
}

GenerateResult Engine::generate_speculative(const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  check_prompt(prompt);
  if (!b_.has_mtp()) throw InputError(fmt::format("{}: no MTP layer in this checkpoint; cannot speculate",
                                                  b_.model().checkpoint->description()));
  if (o.max_new_tokens <= 0) throw InputError("generate: max-new-tokens must be > 0");
  const ModelConfig& c = b_.model().config;
  const int64_t V = c.vocab_size, H = c.hidden_size, P = static_cast<int64_t>(prompt.size());
  const int64_t max_len = P + o.max_new_tokens + 2;
  if (max_len > c.max_position_embeddings)
    throw InputError(fmt::format("generate: prompt + max-new-tokens exceeds max_position_embeddings {}",
                                 c.max_position_embeddings));
  b_.reset(1, max_len);
  Sampler sampler(o.sampling, 0);
  GenerateResult r;
  r.prompt_tokens = P;
  const double t0 = now();
  // Prefill: logits and final hidden states h_0..h_{P-1}.
  auto out = b_.forward({{0, prompt}}, {.all_logits = true, .want_hidden = true, .path = AttentionPath::Naive});
  int32_t t = sampler.sample(out[0].logits.data() + (P - 1) * V, V);
  // MTP catch-up: pairs (t_{i+1}, h_i) for i = 0..P-1.
  MtpInput mi{0, {}, out[0].hidden};
  mi.tokens.assign(prompt.begin() + 1, prompt.end());
  mi.tokens.push_back(t);
  auto draft_out = b_.forward_mtp({mi}, {.path = AttentionPath::Naive});
  int32_t draft = argmax(draft_out[0].logits.data(), V);
  r.prefill_seconds = now() - t0;
  const double t1 = now();
  if (!emit(r, t, o)) {
    for (;;) {
      const int64_t n = b_.length(0);  // position of t
      out = b_.forward({{0, {t, draft}}}, {.all_logits = true, .want_hidden = true, .path = AttentionPath::Absorbed});
      ++r.drafted;
      const int32_t t1tok = sampler.sample(out[0].logits.data(), V);
      bool stop = emit(r, t1tok, o);
      if (t1tok == draft) {
        ++r.accepted;
        if (stop) break;
        const int32_t t2tok = sampler.sample(out[0].logits.data() + V, V);
        MtpInput m{0, {t1tok, t2tok}, out[0].hidden};
        draft_out = b_.forward_mtp({m}, {.path = AttentionPath::Absorbed});
        draft = argmax(draft_out[0].logits.data(), V);
        t = t2tok;
        if (emit(r, t2tok, o)) break;
      } else {
        b_.truncate(0, n + 1);  // drop the rejected draft's position
        if (stop) break;
        MtpInput m{0, {t1tok}, std::vector<float>(out[0].hidden.begin(), out[0].hidden.begin() + H)};
        draft_out = b_.forward_mtp({m}, {.path = AttentionPath::Absorbed});
        draft = argmax(draft_out[0].logits.data(), V);
        t = t1tok;
      }
    }
  }
  r.decode_seconds = now() - t1;
  finish_text(r, o);
  return r;
}

LogLikelihood Engine::loglikelihood(const std::vector<int32_t>& context, const std::vector<int32_t>& continuation) {
  if (context.empty()) throw InputError("loglikelihood: the context has no tokens");
  std::vector<int32_t> all = context;
  all.insert(all.end(), continuation.begin(), continuation.end());
  b_.reset(1, static_cast<int64_t>(all.size()));
  auto out = b_.forward({{0, all}}, {.all_logits = true, .path = AttentionPath::Naive});
  const int64_t V = b_.model().config.vocab_size, C = static_cast<int64_t>(context.size());
  LogLikelihood ll;
  for (size_t i = 0; i < continuation.size(); ++i) {
    const float* row = out[0].logits.data() + (C - 1 + static_cast<int64_t>(i)) * V;
    ll.logprob += log_prob(row, V, continuation[i]);
    ll.is_greedy = ll.is_greedy && argmax(row, V) == continuation[i];
  }
  ll.tokens = static_cast<int64_t>(continuation.size());
  return ll;
}

}  // namespace dsv3::model
