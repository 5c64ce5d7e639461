#include "datasets/humaneval.hpp"

#include <fmt/core.h>

#include <set>

#include "datasets/text_file.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;

fs::path humaneval_path(const fs::path& data_dir) {
  if (fs::is_regular_file(data_dir)) return data_dir;
  for (const char* name : {"HumanEval.jsonl.gz", "HumanEval.jsonl"}) {
    if (fs::is_regular_file(data_dir / "humaneval" / name)) return data_dir / "humaneval" / name;
    if (fs::is_regular_file(data_dir / name)) return data_dir / name;
  }
  throw InputError(fmt::format("{}: no humaneval/HumanEval.jsonl.gz or HumanEval.jsonl", data_dir.string()));
}

std::vector<HumanEvalProblem> load_humaneval(const fs::path& data_dir_or_file) {
  fs::path file = humaneval_path(data_dir_or_file);
  std::vector<HumanEvalProblem> out;
  std::set<std::string> seen;
  for_each_jsonl(file, [&](const nlohmann::json& j, int line) {
    HumanEvalProblem p;
    p.task_id = json_string(j, "task_id", file, line);
    p.prompt = json_string(j, "prompt", file, line);
    p.canonical_solution = json_string(j, "canonical_solution", file, line);
    p.test = json_string(j, "test", file, line);
    p.entry_point = json_string(j, "entry_point", file, line);
    if (!seen.insert(p.task_id).second)
      throw InputError(fmt::format("{}:{}: duplicate task_id '{}'", file.string(), line, p.task_id));
    out.push_back(std::move(p));
  });
  return out;
}

}  // namespace dsv3::datasets
