#include "eval/native_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <tuple>

#include "model/data_dir.hpp"
#include "model/engine.hpp"
#include "model/errors.hpp"
#include "model/weights.hpp"

namespace dsv3::eval {

namespace fs = std::filesystem;

namespace {

fs::path pick_tokenizer(const NativeModelOptions& o) {
  if (!o.tokenizer.empty()) return o.tokenizer;
  fs::path own = fs::path(o.model_dir) / "tokenizer.json";
  if (fs::exists(own)) return own;
  return model::default_tokenizer_path();
}

std::string folder_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

}  // namespace

NativeModel::NativeModel(const NativeModelOptions& o)
    : name_(folder_name(o.model_dir)), tok_(model::Tokenizer::load(pick_tokenizer(o))) {
  if (!fs::is_directory(o.model_dir))
    throw InputError(fmt::format("--model {}: not a folder (a checkpoint folder, http://host:port/v1 or replay:FILE)",
                                 o.model_dir));
  model_ = model::Model::load(o.model_dir, /*load_mtp=*/false);
  if (tok_.vocab_size() > model_->config.vocab_size)
    throw InputError(fmt::format("{}: tokenizer has {} ids but the model {} has vocab_size {}; pass the matching --tokenizer",
                                 tok_.source(), tok_.vocab_size(), o.model_dir, model_->config.vocab_size));
  backend_ = model::make_backend(o.device, model_, {.threads = o.threads});
}

NativeModel::~NativeModel() = default;

int64_t NativeModel::context_length() const { return model_->config.max_position_embeddings; }

std::vector<int32_t> NativeModel::encode_prompt(const std::string& text) const { return tok_.encode(text, true); }

std::vector<int32_t> NativeModel::encode_chat(const std::vector<model::ChatMessage>& messages) const {
  // The template writes the BOS token as text; encoding turns it into its id.
  return tok_.encode(model::render_chat(messages, true, tok_.bos_token()), false);
}

size_t first_continuation_token(const std::vector<int64_t>& offsets, int64_t context_bytes) {
  return static_cast<size_t>(std::lower_bound(offsets.begin(), offsets.end(), context_bytes) - offsets.begin());
}

std::vector<Completion> NativeModel::complete_group(const std::vector<const CompletionRequest*>& reqs) {
  const int64_t ctx = context_length();
  const auto& first = *reqs[0];
  std::vector<Completion> out(reqs.size());
  std::vector<size_t> runnable;
  int64_t longest = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    out[i].prompt_tokens = static_cast<int64_t>(reqs[i]->prompt.size());
    // the engine needs prompt + new tokens + 2 positions
    if (out[i].prompt_tokens + 3 > ctx) {
      out[i].error = fmt::format("prompt has {} tokens; the model's context is {} positions", out[i].prompt_tokens, ctx);
      continue;
    }
    runnable.push_back(i);
    longest = std::max(longest, out[i].prompt_tokens);
  }
  if (runnable.empty()) return out;
  model::GenerateOptions g;
  g.max_new_tokens = std::min<int64_t>(first.max_tokens, ctx - longest - 2);
  g.sampling = first.sampling;
  g.stop_tokens = {tok_.eos_id()};
  g.stop_strings = first.stop;
  g.decode = [this](const std::vector<int32_t>& ids) { return tok_.decode(ids, true); };
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i : runnable) prompts.push_back(reqs[i]->prompt);
  model::Engine engine(*backend_);
  auto res = engine.generate_batch(prompts, g);
  for (size_t k = 0; k < runnable.size(); ++k) {
    auto& c = out[runnable[k]];
    c.text = res[k].text;
    c.ids = res[k].ids;
    c.finish_reason = res[k].stop_reason == "length" ? "length" : "stop";
  }
  return out;
}

std::vector<Completion> NativeModel::complete(const std::vector<CompletionRequest>& reqs, int64_t max_batch) {
  std::lock_guard lock(mu_);
  std::vector<Completion> out(reqs.size());
  // group requests that can share one batched decode
  using Key = std::tuple<std::vector<std::string>, int64_t, double, double, int, uint64_t>;
  std::map<Key, std::vector<size_t>> groups;
  for (size_t i = 0; i < reqs.size(); ++i) {
    auto& r = reqs[i];
    groups[{r.stop, r.max_tokens, r.sampling.temperature, r.sampling.top_p, r.sampling.top_k, r.sampling.seed}].push_back(i);
  }
  for (auto& [key, idx] : groups) {
    for (size_t b = 0; b < idx.size(); b += static_cast<size_t>(std::max<int64_t>(1, max_batch))) {
      std::vector<const CompletionRequest*> part;
      std::vector<size_t> where;
      for (size_t k = b; k < std::min(idx.size(), b + static_cast<size_t>(std::max<int64_t>(1, max_batch))); ++k) {
        part.push_back(&reqs[idx[k]]);
        where.push_back(idx[k]);
      }
      auto res = complete_group(part);
      for (size_t k = 0; k < where.size(); ++k) out[where[k]] = std::move(res[k]);
    }
  }
  return out;
}

Completion NativeModel::complete_stream(const CompletionRequest& req,
                                        const std::function<void(const std::string&)>& on_text) {
  std::lock_guard lock(mu_);
  const int64_t ctx = context_length();
  Completion c;
  c.prompt_tokens = static_cast<int64_t>(req.prompt.size());
  if (c.prompt_tokens + 3 > ctx) {
    c.error = fmt::format("prompt has {} tokens; the model's context is {} positions", c.prompt_tokens, ctx);
    return c;
  }
  size_t hold = 0;  // longest stop string - 1: text that may still turn into a stop string
  for (auto& s : req.stop) hold = std::max(hold, s.empty() ? 0 : s.size() - 1);
  model::Detokenizer detok(tok_, true);
  std::string text;  // all text so far
  size_t sent = 0;
  bool stopped = false;
  auto flush = [&](bool final) {
    if (stopped) return;
    size_t cut = std::string::npos;
    for (auto& s : req.stop)
      if (!s.empty()) cut = std::min(cut, text.find(s));
    size_t upto = cut != std::string::npos ? cut : final ? text.size() : (text.size() > hold ? text.size() - hold : 0);
    if (upto > sent) {
      on_text(text.substr(sent, upto - sent));
      sent = upto;
    }
    if (cut != std::string::npos) stopped = true;
  };
  model::GenerateOptions g;
  g.max_new_tokens = std::min<int64_t>(req.max_tokens, ctx - c.prompt_tokens - 2);
  g.sampling = req.sampling;
  g.stop_tokens = {tok_.eos_id()};
  g.stop_strings = req.stop;
  g.decode = [this](const std::vector<int32_t>& ids) { return tok_.decode(ids, true); };
  g.on_token = [&](int32_t id) {
    text += detok.push(id);
    flush(false);
  };
  model::Engine engine(*backend_);
  auto r = engine.generate(req.prompt, g);
  text += detok.finish();
  flush(true);
  c.text = r.text;
  c.ids = r.ids;
  c.finish_reason = r.stop_reason == "length" ? "length" : "stop";
  return c;
}

std::vector<TokenScores> NativeModel::score(const std::vector<std::string>& texts) {
  std::lock_guard lock(mu_);
  const int64_t V = model_->config.vocab_size, ctx = context_length();
  std::vector<TokenScores> out(texts.size());
  std::vector<std::vector<int32_t>> ids(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    ids[i] = tok_.encode(texts[i], true);
    if (static_cast<int64_t>(ids[i].size()) > ctx)
      throw InputError(fmt::format("text of {} tokens is longer than the model's context of {} positions",
                                   ids[i].size(), ctx));
  }
  // one forward pass per batch of up to 16 texts
  for (size_t b = 0; b < texts.size(); b += 16) {
    size_t e = std::min(texts.size(), b + 16);
    int64_t longest = 0;
    std::vector<model::SeqInput> in;
    for (size_t i = b; i < e; ++i) {
      longest = std::max<int64_t>(longest, static_cast<int64_t>(ids[i].size()));
      in.push_back({static_cast<int>(i - b), ids[i]});
    }
    backend_->reset(static_cast<int>(e - b), longest);
    auto res = backend_->forward(in, {.all_logits = true, .path = model::AttentionPath::Naive});
    for (size_t i = b; i < e; ++i) {
      auto& s = out[i];
      auto& row = res[i - b].logits;
      int64_t off = 0;
      for (size_t t = 1; t < ids[i].size(); ++t) {
        const float* l = row.data() + static_cast<int64_t>(t - 1) * V;
        s.ids.push_back(ids[i][t]);
        s.tokens.push_back(tok_.token_bytes(ids[i][t]));
        s.offsets.push_back(off);
        off += static_cast<int64_t>(s.tokens.back().size());
        s.logprobs.push_back(model::log_prob(l, V, ids[i][t]));
        int32_t top = model::argmax(l, V);
        s.top_ids.push_back(top);
        s.top_logprobs.push_back(model::log_prob(l, V, top));
      }
    }
  }
  return out;
}

}  // namespace dsv3::eval
