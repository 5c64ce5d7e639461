// dsv3 eval --tasks mmlu,gsm8k,… --model DIR|URL|replay:FILE --out RUN.h5: the evaluation
// runner's options on the "eval" subcommand (its sub-subcommands, e.g. check-answer, live in
// cmd_eval.cpp). Running the same command again on an unfinished RUN.h5 resumes it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/command.hpp"
#include "dsv3_version.hpp"
#include "eval/runner.hpp"
#include "eval/task.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::cli {
namespace {

struct EvalRunCli {
  eval::RunOptions run;
  std::string tasks;
  std::string format = "text";
  int concurrency = 0;
  bool quiet = false;
  std::vector<std::string> argv;
};

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;!#~") == std::string::npos) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

void print_text(const nlohmann::json& s) {
  fmt::print("{:<16} {:>7} {:>8} {:>8} {:>8}  {:>17}  {}\n", "task", "n", "metric", "score", "stderr", "95% CI", "errors");
  for (auto& [name, t] : s["tasks"].items()) {
    fmt::print("{:<16} {:>7} {:>8} {:>8.4f} {:>8.4f}  [{:.4f}, {:.4f}]  {}\n", name, t["n"].get<int64_t>(),
               t["metric"].get<std::string>(), t["score"].get<double>(), t["stderr"].get<double>(),
               t["ci95"][0].get<double>(), t["ci95"][1].get<double>(), t["n_errors"].get<int64_t>());
    if (t.contains("micro")) fmt::print("{:<16} micro {:.4f}  macro {:.4f} over {} subjects\n", "", t["micro"].get<double>(),
                                        t["macro"].get<double>(), t.contains("subjects") ? t["subjects"].size() : 0);
    for (auto& [k, v] : t.items())
      if (k.rfind("pass@", 0) == 0 && k != "pass@1" && k.find('_') == std::string::npos) fmt::print("{:<16} {} {:.4f}\n", "", k, v.get<double>());
  }
}

void run(EvalRunCli& c) {
  auto& o = c.run;
  if (c.tasks.empty()) throw InputError("eval: --tasks is required (e.g. --tasks mmlu,gsm8k), or a subcommand");
  if (o.model_spec.empty()) throw InputError("eval: --model is required (a checkpoint folder, http://host:port/v1 or replay:FILE)");
  if (o.out.empty()) throw InputError("eval: --out RUN.h5 is required");
  o.tasks.clear();
  size_t pos = 0;
  while (pos <= c.tasks.size()) {
    auto e = c.tasks.find(',', pos);
    std::string t = c.tasks.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
    if (!t.empty()) o.tasks.push_back(t);
    if (e == std::string::npos) break;
    pos = e + 1;
  }
  for (auto& t : o.tasks) eval::find_task(t);  // unknown names fail before anything runs
  if (o.data_dir.empty()) o.data_dir = (model::default_data_dir() / "benchmarks").string();
  if (c.concurrency > 0) {
    o.backend.concurrency = c.concurrency;
  } else {
    bool replay = o.model_spec.rfind("replay:", 0) == 0;
    o.backend.concurrency = replay ? static_cast<int>(std::max(2u, std::thread::hardware_concurrency())) : 8;
  }
  o.progress = stderr_is_tty() && !c.quiet;
  o.dsv3_version = DSV3_VERSION;
  o.dsv3_git_hash = DSV3_GIT_HASH;
  std::string cl;
  for (auto& a : c.argv) cl += (cl.empty() ? "" : " ") + shell_quote(a);
  o.command_line = cl;
  auto outcome = eval::run_evaluation(o);
  if (c.format == "json")
    fmt::print("{}\n", outcome.summary.dump(2));
  else
    print_text(outcome.summary);
  std::fflush(stdout);
  if (!outcome.complete) {
    fmt::print(stderr, "dsv3: interrupted: {} samples saved in {}; run the same command to resume\n", outcome.samples_total,
               o.out);
    std::exit(130);
  }
}

Registrar reg(51, [](CLI::App& root) {
  auto found = root.get_subcommands([](CLI::App* a) { return a->get_name() == "eval"; });
  CLI::App* ev = found.empty() ? root.add_subcommand("eval", "benchmark evaluation") : found[0];
  ev->require_subcommand(0, 1);
  ev->description("benchmark evaluation: run tasks against a model (--tasks ... --model ... --out RUN.h5), "
                  "or a subcommand");
  auto c = std::make_shared<EvalRunCli>();
  auto& o = c->run;
  ev->add_option("--tasks", c->tasks, "comma-separated tasks: mmlu, mmlu_gen, mmlu_chat, gsm8k, gsm8k_chat, math, "
                                      "math_chat, math500, humaneval, humaneval_chat");
  ev->add_option("--model", o.model_spec, "checkpoint folder (native engine), http(s)://host:port/v1 "
                                          "(OpenAI-compatible server) or replay:FILE.jsonl (recorded responses)");
  ev->add_option("--out", o.out, "the run file (HDF5); an unfinished one is resumed");
  ev->add_option("--data-dir", o.data_dir, "benchmark data folder (default: $DSV3_DATA_DIR/benchmarks)");
  ev->add_option("--limit", o.limit, "first N items of each task")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  ev->add_option("--shots", o.shots, "few-shot examples (default: each task's)")->check(CLI::Range(0, 64));
  ev->add_option("--num-samples", o.num_samples, "samples per item for pass@k (needs --temperature > 0)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  ev->add_option("--temperature", o.temperature, "sampling temperature (default 0: greedy)")->check(CLI::Range(0.0, 10.0));
  ev->add_option("--top-p", o.top_p, "nucleus sampling (default 1)")->check(CLI::Range(0.0, 1.0));
  ev->add_option("--max-tokens", o.max_tokens, "generation limit (default: each task's)")->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  ev->add_option("--seed", o.seed, "base seed (sample i of an item uses seed + i)");
  ev->add_option("--concurrency", c->concurrency, "requests in flight (http; default 8) or scoring workers (replay)")
      ->check(CLI::Range(1, 1024));
  ev->add_option("--batch", o.backend.max_batch, "native: sequences decoded together (default 16)")->check(CLI::Range(1, 4096));
  ev->add_option("--threads", o.backend.threads, "native: CPU threads (0: all)")->check(CLI::Range(0, 1024));
  ev->add_option("--tokenizer", o.backend.tokenizer, "native: tokenizer.json (default: DIR/tokenizer.json, else the bundled one)");
  ev->add_option("--backend", o.backend.device, "native: cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  ev->add_option("--api-key-env", o.backend.api_key_env, "http: environment variable holding the API key (default OPENAI_API_KEY)");
  ev->add_option("--served-model-name", o.backend.model_name, "http: the 'model' field (default: the server's first model)");
  ev->add_option("--timeout", o.backend.timeout_s, "http: seconds per request (default 600)")->check(CLI::Range(0.1, 86400.0));
  ev->add_option("--retries", o.backend.retries, "http: retries on connection errors, 429 and 5xx (default 5)")->check(CLI::Range(0, 100));
  ev->add_option("--backoff", o.backend.backoff_s, "http: first back-off in seconds, doubled per retry (default 1)")
      ->check(CLI::Range(0.0, 600.0));
  ev->add_option("--code-workers", o.code_workers, "HumanEval programs run at once (default: the concurrency)")->check(CLI::Range(1, 256));
  ev->add_option("--code-timeout", o.code_timeout_s, "HumanEval wall-clock seconds per program (default 10)")->check(CLI::Range(0.1, 3600.0));
  ev->add_flag("--unsafe-no-sandbox", o.unsafe_no_sandbox, "run generated code WITHOUT isolation (only rlimits and timeouts)");
  ev->add_flag("--overwrite", o.overwrite, "start again when --out exists");
  ev->add_flag("--quiet", c->quiet, "no progress bars");
  ev->add_option("--format", c->format, "text or json (the run summary)")->check(CLI::IsMember({"text", "json"}));
  ev->callback([c, ev] {
    if (!ev->get_subcommands().empty()) return;  // a subcommand (check-answer, …) did the work
    c->argv = {"dsv3", "eval"};
    for (auto* opt : ev->get_options()) {
      if (opt->count() == 0 || opt->get_name().empty() || opt->get_name() == "--help") continue;
      std::string name = opt->get_name();
      if (name.rfind("--", 0) != 0) name = "--" + name;
      if (name == "--unsafe-no-sandbox" || name == "--overwrite" || name == "--quiet") {
        c->argv.push_back(name);
      } else {
        for (auto& r : opt->results()) {
          c->argv.push_back(name);
          c->argv.push_back(r);
        }
      }
    }
    run(*c);
  });
});

}  // namespace
}  // namespace dsv3::cli
