#pragma once
// HumanEval (Chen et al. 2021): HumanEval.jsonl[.gz], one problem per line with task_id,
// prompt, canonical_solution, test, entry_point.
#include <filesystem>
#include <string>
#include <vector>

namespace dsv3::datasets {

struct HumanEvalProblem {
  std::string task_id;
  std::string prompt;
  std::string canonical_solution;
  std::string test;
  std::string entry_point;
};

// <data_dir>/humaneval/HumanEval.jsonl.gz (or .jsonl); data_dir may also be the file itself.
std::filesystem::path humaneval_path(const std::filesystem::path& data_dir);
std::vector<HumanEvalProblem> load_humaneval(const std::filesystem::path& data_dir_or_file);

}  // namespace dsv3::datasets
