// dsv3 generate: text or token ids in, new tokens out (greedy or sampled, MTP speculation).
//
//   dsv3 generate --model DIR --ids 1,2,3 --max-new-tokens N --temperature 0 --format json
//       -> {"ids": [...], ...}; tokens/s on stderr
//   dsv3 generate --model DIR --prompt TEXT [--raw] [--tokenizer FILE]
//       the prompt goes through DeepSeek-V3's chat template (one user message, generation
//       prompt added) unless --raw (then BOS + text); the answer is printed as text.
#include <fmt/core.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/model_args.hpp"
#include "model/backend.hpp"
#include "model/chat_template.hpp"
#include "model/data_dir.hpp"
#include "model/engine.hpp"
#include "model/tokenizer.hpp"

namespace dsv3::cli {
namespace {

using namespace dsv3::model;

struct GenerateCli {
  std::string model, ids, prompt, tokenizer, format = "text", backend = "cpu";
  bool raw = false, mtp = false, ignore_eos = false;
  int64_t max_new_tokens = 64;
  double temperature = 0.0, top_p = 1.0;
  int top_k = 0, threads = 0;
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;
  std::vector<std::string> stop;
};

void run(const GenerateCli& o) {
  if (o.ids.empty() == o.prompt.empty()) throw InputError("generate: give exactly one of --ids and --prompt");
  std::optional<Tokenizer> tok;
  if (!o.prompt.empty() || !o.stop.empty() || !o.tokenizer.empty())
    tok = Tokenizer::load(o.tokenizer.empty() ? default_tokenizer_path() : std::filesystem::path(o.tokenizer));
  std::vector<int32_t> prompt;
  if (!o.ids.empty()) {
    prompt = parse_token_ids(o.ids, "--ids");
  } else if (o.raw) {
    prompt = tok->encode(o.prompt, true);
  } else {
    prompt = tok->encode(render_chat({{"user", o.prompt, {}}}, true, tok->bos_token()));
  }
  auto m = Model::load(o.model, o.mtp);
  auto be = make_backend(o.backend, m, {.threads = o.threads});
  Engine engine(*be);
  GenerateOptions g;
  g.max_new_tokens = o.max_new_tokens;
  g.sampling = {o.temperature, o.top_p, o.top_k, o.seed};
  g.stop_tokens = o.stop_tokens;
  if (!o.ignore_eos) g.stop_tokens.push_back(static_cast<int32_t>(m->config.eos_token_id));
  g.stop_strings = o.stop;
  g.mtp_speculative = o.mtp;
  if (tok) g.decode = [t = *tok](const std::vector<int32_t>& ids) { return t.decode(ids, true); };
  std::optional<Detokenizer> stream;
  const bool stream_text = tok && o.format == "text";
  if (stream_text && o.stop.empty()) {
    stream.emplace(*tok, true);
    g.on_token = [&](int32_t id) {
      fmt::print("{}", stream->push(id));
      std::fflush(stdout);
    };
  }
  GenerateResult r = engine.generate(prompt, g);
  const double tps = r.decode_tokens_per_second();
  const double prefill_tps = r.prefill_seconds > 0 ? r.prompt_tokens / r.prefill_seconds : 0.0;
  if (o.format == "json") {
    nlohmann::json j;
    j["ids"] = r.ids;
    if (tok) j["text"] = r.text;
    j["stop_reason"] = r.stop_reason;
    j["prompt_tokens"] = r.prompt_tokens;
    j["prefill_tokens_per_second"] = prefill_tps;
    j["decode_tokens_per_second"] = tps;
    if (o.mtp) j["mtp"] = {{"drafted", r.drafted}, {"accepted", r.accepted}, {"acceptance_rate", r.acceptance_rate()}};
    fmt::print("{}\n", j.dump());
  } else if (stream) {
    fmt::print("{}\n", stream->finish());
  } else if (tok) {
    fmt::print("{}\n", r.text);
  } else {
    for (size_t i = 0; i < r.ids.size(); ++i) fmt::print("{}{}", i ? "," : "", r.ids[i]);
    fmt::print("\n");
  }
  fmt::print(stderr, "generate: {} prompt tokens at {:.1f} tokens/s, {} new tokens at {:.1f} tokens/s ({}, backend {})",
             r.prompt_tokens, prefill_tps, r.ids.size(), tps, r.stop_reason, be->name());
  if (o.mtp)
    fmt::print(stderr, ", MTP acceptance {}/{} = {:.3f}", r.accepted, r.drafted, r.acceptance_rate());
  fmt::print(stderr, "\n");
}

const Registrar reg(41, [](CLI::App& root) {
  auto o = std::make_shared<GenerateCli>();
  auto* cmd = root.add_subcommand("generate", "Generate tokens with a DeepSeek-V3 checkpoint (CPU backend)");
  cmd->add_option("--model", o->model, "checkpoint folder (config.json + safetensors)")->required();
  cmd->add_option("--ids", o->ids, "prompt token ids, comma separated");
  cmd->add_option("--prompt", o->prompt, "prompt text (chat template applied unless --raw)");
  cmd->add_flag("--raw", o->raw, "tokenize --prompt as plain text with BOS, no chat template");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json (default: the one scripts/setup.sh installs)");
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate at most")->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->temperature, "0: greedy");
  cmd->add_option("--top-p", o->top_p, "nucleus sampling mass");
  cmd->add_option("--top-k", o->top_k, "sample among the k most likely (0: all)");
  cmd->add_option("--seed", o->seed, "random seed for sampling");
  cmd->add_option("--stop-token", o->stop_tokens, "stop after this token id (repeatable; EOS is always one)");
  cmd->add_option("--stop", o->stop, "stop string (repeatable; needs the tokenizer)");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "do not stop at the config's eos_token_id");
  cmd->add_flag("--mtp", o->mtp, "MTP self-speculative decoding (draft one token, verify it)");
  cmd->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--backend", o->backend, "cpu or cuda");
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)");
  cmd->callback([o] { run(*o); });
});

}  // namespace
}  // namespace dsv3::cli
