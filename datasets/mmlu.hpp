#pragma once
// MMLU (Hendrycks et al.): headerless CSVs data/{dev,val,test}/<subject>_<split>.csv with the
// columns question, A, B, C, D, answer letter.
#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace dsv3::datasets {

struct MmluItem {
  std::string subject;  // file stem without the split suffix, e.g. "abstract_algebra"
  std::string question;
  std::array<std::string, 4> choices;
  int answer = 0;  // 0..3 for A..D
  std::string source;  // "<file>:<line>"
};

// The folder holding dev/, val/, test/: <data_dir>/mmlu/data, or data_dir itself when it
// already is such a folder (or <data_dir>/data). Throws InputError when none is found.
std::filesystem::path mmlu_root(const std::filesystem::path& data_dir);

// Items of one split ("dev", "val" or "test"), subjects in alphabetical order, rows in file order.
std::vector<MmluItem> load_mmlu(const std::filesystem::path& data_dir, const std::string& split);

// Rows of one CSV file (subject given); InputError names file and line for malformed rows.
std::vector<MmluItem> load_mmlu_csv(const std::filesystem::path& file, const std::string& subject);

// "abstract_algebra" -> "abstract algebra".
std::string mmlu_subject_words(const std::string& subject);

}  // namespace dsv3::datasets
