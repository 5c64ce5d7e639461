#pragma once
// GSM8K (Cobbe et al. 2021): JSON Lines with question and answer; the answer is a worked
// solution whose last line is "#### <number>".
#include <filesystem>
#include <string>
#include <vector>

namespace dsv3::datasets {

struct Gsm8kItem {
  std::string question;
  std::string answer;  // full worked solution, "#### N" at the end
  std::string source;  // "<file>:<line>"
};

// <data_dir>/gsm8k/<split>.jsonl; data_dir may also be the file itself.
std::filesystem::path gsm8k_path(const std::filesystem::path& data_dir, const std::string& split);
std::vector<Gsm8kItem> load_gsm8k(const std::filesystem::path& data_dir_or_file, const std::string& split = "test");

}  // namespace dsv3::datasets
