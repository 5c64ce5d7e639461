// dsv3 eval: evaluation commands. `dsv3 eval check-answer` re-grades responses with this
// project's extraction and equivalence rules (gsm8k, math, mmlu), one JSON object per line.
#include <fmt/core.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "eval/gsm8k_answer.hpp"
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

Registrar reg(50, [](CLI::App& root) {
  auto* ev = root.add_subcommand("eval", "benchmark evaluation: answer checking, sandboxed code execution");
  ev->require_subcommand(1);
  add_check_answer(ev);
});

}  // namespace
}  // namespace dsv3::cli
