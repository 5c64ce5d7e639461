#pragma once
// MATH (Hendrycks et al. 2021) and MATH-500 (the PRM800K test split).
// Accepted layouts: merged JSON Lines (problem, level, type or subject, solution, optional
// answer and unique_id), or the official unpacked tree <split>/<subject>/<n>.json.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsv3::datasets {

struct MathProblem {
  std::string unique_id;  // "test/algebra/1.json" style (built from the path for the tree layout)
  std::string problem;
  std::string solution;
  std::string subject;  // "Algebra", "Counting & Probability", ... (MATH's `type`)
  int level = 0;        // 1..5; 0 when the file says "Level ?"
  std::optional<std::string> answer;  // MATH-500 carries OpenAI's extracted answer
  std::string source;                 // "<file>:<line>" or the per-problem file
};

// Merged JSON Lines file.
std::vector<MathProblem> load_math_jsonl(const std::filesystem::path& file);
// Official tree: root/<subject_dir>/<n>.json, sorted by subject folder, then numeric id.
// `split` names the id prefix ("test" -> "test/algebra/1.json").
std::vector<MathProblem> load_math_tree(const std::filesystem::path& root, const std::string& split);

// Resolves a data dir: "test"/"train" -> math/<split>.jsonl, else math/MATH/<split>/ or
// math/<split>/ trees; "math500" -> math/math500_test.jsonl. A file path is read directly.
std::vector<MathProblem> load_math(const std::filesystem::path& data_dir_or_file, const std::string& split);

}  // namespace dsv3::datasets
