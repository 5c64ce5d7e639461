// dsv3 eval: evaluation commands. `dsv3 eval check-answer` re-grades responses with this
// project's extraction and equivalence rules (gsm8k, math, mmlu), one JSON object per line.
// `dsv3 eval run-code` executes HumanEval samples in the sandbox and reports pass@k.
#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/text_file.hpp"
#include "eval/gsm8k_answer.hpp"
#include "eval/humaneval_exec.hpp"
#include "eval/stats.hpp"
#include "eval/math_answer.hpp"
#include "eval/mmlu_answer.hpp"
#include "model/errors.hpp"

namespace dsv3::cli {
namespace {

struct CheckAnswerOptions {
  std::string task;
  bool jsonl = false;
  int timeout_ms = 2000;
};

std::string field_text(const nlohmann::json& j, const char* key, int line) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(fmt::format("stdin:{}: missing field '{}'", line, key));
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw InputError(fmt::format("stdin:{}: field '{}' must be a string or a number", line, key));
}

nlohmann::json opt_json(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); }

nlohmann::json check_one(const CheckAnswerOptions& o, const std::string& gold, const std::string& response) {
  nlohmann::json out;
  if (o.task == "gsm8k") {
    // gold: a reference solution with "#### N", or the bare number
    auto g = eval::gsm8k_gold(gold);
    if (!g) g = eval::canonical_number(gold);
    auto p = eval::gsm8k_extract(response);
    out["extracted"] = opt_json(p.flexible);
    out["correct"] = g && p.flexible && *g == *p.flexible;
    out["strict_extracted"] = opt_json(p.strict);
    out["strict_correct"] = g && p.strict && *g == *p.strict;
    out["gold"] = opt_json(g);
  } else if (o.task == "math") {
    // gold: a reference solution with \boxed{}, or the bare answer
    auto g = eval::last_boxed(gold);
    std::string gold_answer = g ? *g : gold;
    auto p = eval::extract_math_answer(response);
    out["extracted"] = opt_json(p);
    bool correct = false;
    if (p) {
      auto j = eval::math_equivalent(gold_answer, *p, std::chrono::milliseconds(o.timeout_ms));
      correct = j.equivalent;
      out["method"] = j.method;
      out["timed_out"] = j.timed_out;
    }
    out["correct"] = correct;
    out["gold"] = gold_answer;
  } else {  // mmlu
    auto p = eval::mmlu_extract_letter(response);
    auto g = eval::mmlu_extract_letter(gold);
    out["extracted"] = p ? nlohmann::json(std::string(1, *p)) : nlohmann::json(nullptr);
    out["correct"] = p && g && *p == *g;
    out["gold"] = g ? nlohmann::json(std::string(1, *g)) : nlohmann::json(nullptr);
  }
  return out;
}

void run_check_answer(const CheckAnswerOptions& o) {
  if (!o.jsonl) throw InputError("check-answer reads JSON Lines from stdin: pass --jsonl");
  std::string line;
  int n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(fmt::format("stdin:{}: not valid JSON ({})", n, e.what()));
    }
    if (!j.is_object()) throw InputError(fmt::format("stdin:{}: expected an object {{\"gold\": ..., \"response\": ...}}", n));
    auto out = check_one(o, field_text(j, "gold", n), field_text(j, "response", n));
    fmt::print("{}\n", out.dump());
    std::fflush(stdout);
  }
}

void add_check_answer(CLI::App* ev) {
  auto o = std::make_shared<CheckAnswerOptions>();
  auto* c = ev->add_subcommand("check-answer",
                               "grade responses: stdin lines {\"gold\": ..., \"response\": ...} -> "
                               "stdout {\"extracted\": ..., \"correct\": true|false}");
  c->add_option("--task", o->task, "gsm8k, math or mmlu")->required()->check(CLI::IsMember({"gsm8k", "math", "mmlu"}));
  c->add_flag("--jsonl", o->jsonl, "read JSON Lines from stdin, write JSON Lines to stdout")->required();
  c->add_option("--timeout-ms", o->timeout_ms, "time limit per math answer (default 2000)")->check(CLI::Range(1, 600000));
  c->callback([o] { run_check_answer(*o); });
}

struct RunCodeOptions {
  std::string data_dir;
  std::string samples;
  bool canonical = false;
  int workers = 2;
  double wall_seconds = 10;
  bool unsafe = false;
  std::string bwrap = "/usr/bin/bwrap";
  std::string out;
  std::string format = "text";
  std::vector<int> ks = {1};
};

void run_code(const RunCodeOptions& o) {
  if (o.samples.empty() == !o.canonical) throw InputError("run-code needs exactly one of --samples FILE and --canonical");
  auto problems = datasets::load_humaneval(o.data_dir);
  std::map<std::string, const datasets::HumanEvalProblem*> by_id;
  for (auto& p : problems) by_id[p.task_id] = &p;
  std::vector<eval::CodeJob> jobs;
  std::vector<std::string> completions;
  if (o.canonical) {
    for (auto& p : problems) {
      jobs.push_back({&p, eval::humaneval_program(p, p.canonical_solution)});
      completions.push_back(p.canonical_solution);
    }
  } else {
    // human-eval samples {"task_id", "completion"} or replay lines {"id", "response"}
    datasets::for_each_jsonl(o.samples, [&](const nlohmann::json& j, int line) {
      bool he = j.contains("task_id");
      std::string id = datasets::json_string(j, he ? "task_id" : "id", o.samples, line);
      std::string completion = datasets::json_string(j, he ? "completion" : "response", o.samples, line);
      auto it = by_id.find(id);
      if (it == by_id.end())
        throw InputError(fmt::format("{}:{}: task '{}' is not in {}", o.samples, line, id, o.data_dir));
      jobs.push_back({it->second, eval::humaneval_program(*it->second, completion)});
      completions.push_back(completion);
    });
    if (jobs.empty()) throw InputError(fmt::format("{}: no samples", o.samples));
  }
  eval::SandboxConfig cfg;
  cfg.unsafe_no_sandbox = o.unsafe;
  cfg.bwrap = o.bwrap;
  cfg.limits.wall_seconds = o.wall_seconds;
  if (o.unsafe) fmt::print(stderr, "dsv3: warning: --unsafe-no-sandbox: generated code runs without isolation\n");
  eval::Sandbox sb(cfg);
  bool tty = stderr_is_tty();
  auto t0 = std::chrono::steady_clock::now();
  auto results = eval::run_humaneval_jobs(sb, jobs, o.workers, [&](std::size_t done, std::size_t total) {
    if (!tty) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double rate = double(done) / std::max(s, 1e-9);
    fmt::print(stderr, "\r{}/{} programs, {:.1f}/s, ETA {:.0f} s   ", done, total, rate, double(total - done) / rate);
    if (done == total) fmt::print(stderr, "\n");
  });
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    if (!f) throw InputError(fmt::format("--out {}: cannot write", o.out));
    for (std::size_t i = 0; i < jobs.size(); ++i)
      f << nlohmann::json{{"task_id", jobs[i].problem->task_id}, {"completion", completions[i]},
                          {"status", results[i].status}, {"passed", results[i].status == "passed"},
                          {"detail", results[i].detail}, {"wall_s", results[i].wall_seconds}}
               .dump()
        << "\n";
  }
  // per task: n samples, c correct; pass@k averaged over tasks
  std::map<std::string, std::pair<int, int>> nc;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto& e = nc[jobs[i].problem->task_id];
    e.first++;
    e.second += results[i].status == "passed";
  }
  nlohmann::json summary{{"n", jobs.size()}, {"tasks", nc.size()}, {"wall_s", wall}, {"workers", o.workers},
                         {"sandbox", sb.isolated() ? (sb.cgroups_available() ? "bwrap+cgroups" : "bwrap") : "none"}};
  int passed = 0, timeouts = 0;
  for (auto& r : results) { passed += r.status == "passed"; timeouts += r.status == "timeout"; }
  summary["passed"] = passed;
  summary["timeouts"] = timeouts;
  for (int k : o.ks) {
    bool all = true;
    for (auto& [id, v] : nc) all = all && v.first >= k;
    if (!all) continue;
    std::vector<double> per;
    for (auto& [id, v] : nc) per.push_back(eval::pass_at_k(v.first, v.second, k));
    summary[fmt::format("pass@{}", k)] = eval::mean(per);
    summary[fmt::format("pass@{}_stderr", k)] = eval::stderr_of_mean(per);
  }
  if (summary.contains("pass@1")) summary["score"] = summary["pass@1"];
  if (o.format == "json") {
    fmt::print("{}\n", nlohmann::json{{"tasks", {{"humaneval", summary}}}}.dump(2));
  } else {
    fmt::print("{} programs, {} passed, {} timed out, {:.1f} s wall with {} workers (sandbox: {})\n", jobs.size(), passed,
               timeouts, wall, o.workers, summary["sandbox"].get<std::string>());
    for (int k : o.ks)
      if (summary.contains(fmt::format("pass@{}", k)))
        fmt::print("pass@{} = {:.4f} +- {:.4f}\n", k, summary[fmt::format("pass@{}", k)].get<double>(),
                   summary[fmt::format("pass@{}_stderr", k)].get<double>());
  }
}

void add_run_code(CLI::App* ev) {
  auto o = std::make_shared<RunCodeOptions>();
  auto* c = ev->add_subcommand("run-code", "run HumanEval samples in the sandbox and report pass@k");
  c->add_option("--data-dir", o->data_dir, "folder with humaneval/HumanEval.jsonl.gz (or the file)")->required();
  c->add_option("--samples", o->samples, "JSONL of {\"task_id\", \"completion\"} or {\"id\", \"response\"}");
  c->add_flag("--canonical", o->canonical, "run every problem's canonical solution (checks data and sandbox)");
  c->add_option("--workers", o->workers, "parallel sandboxes (default 2)")->check(CLI::Range(1, 256));
  c->add_option("--wall-seconds", o->wall_seconds, "wall-clock limit per program (default 10)")->check(CLI::Range(0.1, 3600.0));
  c->add_option("--k", o->ks, "pass@k values to report (default 1)")->delimiter(',')->check(CLI::Range(1, 100000));
  c->add_option("--out", o->out, "write one JSON line per program (status, detail)");
  c->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  c->add_option("--bwrap", o->bwrap, "bubblewrap binary (default /usr/bin/bwrap)");
  c->add_flag("--unsafe-no-sandbox", o->unsafe, "run generated code WITHOUT isolation (only rlimits and timeouts)");
  c->callback([o] { run_code(*o); });
}

Registrar reg(50, [](CLI::App& root) {
  auto* ev = root.add_subcommand("eval", "benchmark evaluation: answer checking, sandboxed code execution");
  ev->require_subcommand(1);
  add_check_answer(ev);
  add_run_code(ev);
});

}  // namespace
}  // namespace dsv3::cli
