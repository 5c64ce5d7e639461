#pragma once
// Evaluation tasks, lm-evaluation-harness style: a task is data + prompt + extraction +
// metric, registered by name. Building a task renders every prompt and records its sha256.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dsv3::eval {

struct Doc {
  std::string id;                    // stable item id (file:line, task_id or unique_id)
  std::string prompt;                // the exact text sent to the model (user turn for chat tasks)
  std::string prompt_sha256;         // sha256 of `prompt`
  std::vector<std::string> choices;  // loglikelihood tasks: the continuations scored
  int gold_index = -1;               // loglikelihood tasks: index of the right continuation
  std::string gold;                  // generative tasks: the reference (solution, number, letter)
  std::vector<std::string> stop;     // stop sequences for generation
};

enum class OutputKind { Loglikelihood, Generate, Code };

struct TaskOptions {
  int shots = -1;                 // -1: the task's default
  std::string mmlu_header = "original";  // "original" (hendrycks/test, two spaces) or "single-space" (lm-eval)
};

struct Task {
  std::string name;
  std::string description;
  std::string dataset;   // which loader: mmlu, gsm8k, math, math500, humaneval
  OutputKind output;
  bool chat = false;     // prompt is a user message for a chat template
  int default_shots = 0;
  int max_shots = 0;
  std::vector<std::string> metrics;  // names of the metrics score_response reports
};

const std::vector<Task>& all_tasks();
// Throws InputError listing the known names.
const Task& find_task(const std::string& name);

// Loads the data and renders every prompt. Throws InputError for bad shot counts or data.
std::vector<Doc> build_docs(const Task& task, const std::filesystem::path& data_dir, const TaskOptions& opt = {});

// Metrics of one generated response (Generate tasks): e.g. gsm8k {"exact_match_strict",
// "exact_match_flexible"}, math {"exact_match"}, mmlu_gen {"exact_match"}; plus the extracted
// answer as text in `extracted`.
struct ResponseScore {
  std::map<std::string, double> metrics;
  std::string extracted;
};
ResponseScore score_response(const Task& task, const Doc& doc, const std::string& response);

// The sha256 of the concatenated prompt hashes: one id for a whole rendered task.
std::string task_prompt_hash(const std::vector<Doc>& docs);

}  // namespace dsv3::eval
