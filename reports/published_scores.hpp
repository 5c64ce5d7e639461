#pragma once
// Published reference scores (reports/published/*.yaml): one row per (model, benchmark),
// each carrying the document, table and setting it was read from.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsv3::reports {

struct PublishedScore {
  std::string model;
  std::string benchmark;     // mmlu, humaneval, humaneval_mul, gsm8k, math, math500, ...
  std::string metric;        // acc, em, pass@1
  std::optional<int> shots;  // absent where the source gives none
  double value = 0;          // percent, as printed in the source
  std::string document;      // the source document
  std::string table;         // which table of it
  std::string setting;       // evaluation setting the source states
  std::string kind;          // base | chat
  std::string note;          // row-specific remark (may be empty)
  std::string file;          // the YAML file it came from
};

// Loads one YAML file. Throws dsv3::InputError naming the file, the row and the field.
std::vector<PublishedScore> load_published_file(const std::filesystem::path& file);

// Loads every *.yaml in a folder, in file-name order.
std::vector<PublishedScore> load_published_dir(const std::filesystem::path& dir);

// The folder shipped with the program: <source tree>/reports/published.
std::filesystem::path default_published_dir();

// `--reference` argument: "published" (every shipped file), a shipped file's stem
// (e.g. "deepseek-v3-base"), or a path to a YAML file or folder.
std::vector<PublishedScore> load_reference(const std::string& spec);

// Display name of a benchmark key ("humaneval_mul" -> "HumanEval-Mul").
std::string benchmark_display_name(const std::string& key);

}  // namespace dsv3::reports
