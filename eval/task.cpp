#include "eval/task.hpp"

#include <fmt/core.h>

#include <map>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/math_problems.hpp"
#include "datasets/mmlu.hpp"
#include "datasets/sha256.hpp"
#include "eval/gsm8k_answer.hpp"
#include "eval/math_answer.hpp"
#include "eval/mmlu_answer.hpp"
#include "eval/prompts.hpp"
#include "model/errors.hpp"

namespace dsv3::eval {
namespace fs = std::filesystem;

const std::vector<Task>& all_tasks() {
  using O = OutputKind;
  static const std::vector<Task> t = {
      {"mmlu", "MMLU test, 5-shot from dev, log-likelihood of ' A'..' D' (acc, acc_norm)", "mmlu", O::Loglikelihood,
       false, 5, 5, {"acc", "acc_norm"}},
      {"mmlu_gen", "MMLU test, 5-shot from dev, generated letter", "mmlu", O::Generate, false, 5, 5, {"exact_match"}},
      {"mmlu_chat", "MMLU test, 0-shot chat, 'Answer: X' instruction", "mmlu", O::Generate, true, 0, 0, {"exact_match"}},
      {"gsm8k", "GSM8K test, 8-shot chain of thought (Wei et al. 2022 exemplars)", "gsm8k", O::Generate, false, 8, 8,
       {"exact_match_strict", "exact_match_flexible"}},
      {"gsm8k_chat", "GSM8K test, 0-shot chat, 'The answer is N' instruction", "gsm8k", O::Generate, true, 0, 0,
       {"exact_match_strict", "exact_match_flexible"}},
      {"math", "MATH test (5000), 4-shot Minerva prompt", "math", O::Generate, false, 4, 4, {"exact_match"}},
      {"math_chat", "MATH test (5000), 0-shot chat, boxed answer", "math", O::Generate, true, 0, 0, {"exact_match"}},
      {"math500", "MATH-500, 0-shot chat, boxed answer", "math500", O::Generate, true, 0, 0, {"exact_match"}},
      {"humaneval", "HumanEval, 0-shot completion, pass@k in the sandbox", "humaneval", O::Code, false, 0, 0, {"pass@1"}},
      {"humaneval_chat", "HumanEval, 0-shot chat, code block", "humaneval", O::Code, true, 0, 0, {"pass@1"}},
  };
  return t;
}

const Task& find_task(const std::string& name) {
  std::string names;
  for (auto& t : all_tasks()) {
    if (t.name == name) return t;
    names += (names.empty() ? "" : ", ") + t.name;
  }
  throw InputError(fmt::format("unknown task '{}' (known: {})", name, names));
}

namespace {

Doc make_doc(std::string id, std::string prompt) {
  Doc d;
  d.id = std::move(id);
  d.prompt = std::move(prompt);
  d.prompt_sha256 = datasets::sha256_hex(d.prompt);
  return d;
}

int shots_for(const Task& t, const TaskOptions& o) {
  int k = o.shots < 0 ? t.default_shots : o.shots;
  if (k > t.max_shots)
    throw InputError(fmt::format("--shots {}: task {} has at most {} exemplars", k, t.name, t.max_shots));
  return k;
}

}  // namespace

std::vector<Doc> build_docs(const Task& t, const fs::path& data_dir, const TaskOptions& o) {
  int shots = shots_for(t, o);
  std::vector<Doc> docs;
  if (t.dataset == "mmlu") {
    if (o.mmlu_header != "original" && o.mmlu_header != "single-space")
      throw InputError(fmt::format("mmlu header must be 'original' or 'single-space', not '{}'", o.mmlu_header));
    bool original = o.mmlu_header == "original";
    auto test = datasets::load_mmlu(data_dir, "test");
    std::map<std::string, std::vector<datasets::MmluItem>> dev;
    if (shots > 0)
      for (auto& it : datasets::load_mmlu(data_dir, "dev")) dev[it.subject].push_back(it);
    std::map<std::string, std::string> context;  // subject -> header + shots
    for (auto& it : test) {
      auto c = context.find(it.subject);
      if (c == context.end()) {
        std::string s = t.chat ? "" : mmlu_header(it.subject, original);
        if (shots > 0) {
          auto& d = dev[it.subject];
          if (int(d.size()) < shots)
            throw InputError(fmt::format("MMLU dev has {} items for {}, {} shots asked", d.size(), it.subject, shots));
          for (int k = 0; k < shots; ++k) s += mmlu_question_block(d[std::size_t(k)], true);
        }
        c = context.emplace(it.subject, s).first;
      }
      Doc d = make_doc(it.source, t.chat ? mmlu_chat_prompt(it) : c->second + mmlu_question_block(it, false));
      d.gold = std::string(1, char('A' + it.answer));
      d.gold_index = it.answer;
      if (t.output == OutputKind::Loglikelihood) d.choices.assign(kMmluContinuations.begin(), kMmluContinuations.end());
      else if (!t.chat) d.stop = {"\n"};
      docs.push_back(std::move(d));
    }
  } else if (t.dataset == "gsm8k") {
    for (auto& it : datasets::load_gsm8k(data_dir, "test")) {
      Doc d = make_doc(it.source, t.chat ? gsm8k_chat_prompt(it.question) : gsm8k_cot_prompt(it.question, shots));
      d.gold = it.answer;
      if (!t.chat) d.stop = {"Q:", "</s>", "<|im_end|>", "\n\n\n"};
      docs.push_back(std::move(d));
    }
  } else if (t.dataset == "math" || t.dataset == "math500") {
    for (auto& it : datasets::load_math(data_dir, t.dataset == "math" ? "test" : "math500")) {
      Doc d = make_doc(it.unique_id, t.chat ? math_chat_prompt(it.problem) : minerva_math_prompt(it.problem, shots));
      auto boxed = last_boxed(it.solution);
      d.gold = it.answer ? *it.answer : boxed ? *boxed : "";
      if (d.gold.empty()) throw InputError(fmt::format("{}: solution has no \\boxed{{}} answer", it.source));
      if (!t.chat) d.stop = {"Problem:"};
      docs.push_back(std::move(d));
    }
  } else if (t.dataset == "humaneval") {
    for (auto& p : datasets::load_humaneval(data_dir)) {
      Doc d = make_doc(p.task_id, t.chat ? humaneval_chat_prompt(p.prompt) : p.prompt);
      d.gold = p.canonical_solution;
      if (!t.chat) d.stop = {"\nclass", "\ndef", "\n#", "\nif", "\nprint"};
      docs.push_back(std::move(d));
    }
  }
  return docs;
}

ResponseScore score_response(const Task& t, const Doc& doc, const std::string& response) {
  ResponseScore r;
  if (t.dataset == "gsm8k") {
    auto g = gsm8k_gold(doc.gold);
    auto p = gsm8k_extract(response);
    r.metrics["exact_match_strict"] = (g && p.strict && *g == *p.strict) ? 1 : 0;
    r.metrics["exact_match_flexible"] = (g && p.flexible && *g == *p.flexible) ? 1 : 0;
    r.extracted = p.flexible.value_or("");
  } else if (t.dataset == "math" || t.dataset == "math500") {
    auto p = extract_math_answer(response);
    r.metrics["exact_match"] = (p && math_equivalent(doc.gold, *p).equivalent) ? 1 : 0;
    r.extracted = p.value_or("");
  } else if (t.dataset == "mmlu" && t.output == OutputKind::Generate) {
    auto p = mmlu_extract_letter(response);
    r.metrics["exact_match"] = (p && std::string(1, *p) == doc.gold) ? 1 : 0;
    r.extracted = p ? std::string(1, *p) : "";
  } else {
    throw InputError(fmt::format("task {} is not scored from a single response", t.name));
  }
  return r;
}

std::string task_prompt_hash(const std::vector<Doc>& docs) {
  datasets::Sha256 h;
  for (auto& d : docs) h.update(d.prompt_sha256);
  return h.hex();
}

}  // namespace dsv3::eval
