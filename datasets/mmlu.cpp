#include "datasets/mmlu.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "datasets/text_file.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;

fs::path mmlu_root(const fs::path& data_dir) {
  for (const fs::path& cand : {data_dir / "mmlu" / "data", data_dir / "data", data_dir}) {
    if (fs::is_directory(cand / "test") || fs::is_directory(cand / "dev")) return cand;
  }
  throw InputError(fmt::format("{}: no MMLU data (expected mmlu/data/{{dev,val,test}}/)", data_dir.string()));
}

std::vector<MmluItem> load_mmlu_csv(const fs::path& file, const std::string& subject) {
  std::vector<MmluItem> out;
  for (auto& rec : parse_csv(read_text(file), file.string())) {
    if (rec.fields.size() != 6)
      throw InputError(fmt::format("{}:{}: expected 6 columns (question, A, B, C, D, answer), found {}",
                                   file.string(), rec.line, rec.fields.size()));
    const std::string& a = rec.fields[5];
    if (a.size() != 1 || a[0] < 'A' || a[0] > 'D')
      throw InputError(fmt::format("{}:{}: answer must be one of A, B, C, D, found '{}'", file.string(),
                                   rec.line, a));
    MmluItem it;
    it.subject = subject;
    it.question = rec.fields[0];
    for (int k = 0; k < 4; ++k) it.choices[k] = rec.fields[1 + k];
    it.answer = a[0] - 'A';
    it.source = fmt::format("{}:{}", file.string(), rec.line);
    out.push_back(std::move(it));
  }
  return out;
}

std::vector<MmluItem> load_mmlu(const fs::path& data_dir, const std::string& split) {
  if (split != "dev" && split != "val" && split != "test")
    throw InputError(fmt::format("MMLU split must be dev, val or test, not '{}'", split));
  fs::path dir = mmlu_root(data_dir) / split;
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: no such folder", dir.string()));
  std::string suffix = "_" + split + ".csv";
  std::vector<std::pair<std::string, fs::path>> files;
  for (auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.emplace_back(name.substr(0, name.size() - suffix.size()), e.path());
  }
  if (files.empty()) throw InputError(fmt::format("{}: no *{} files", dir.string(), suffix));
  std::sort(files.begin(), files.end());
  std::vector<MmluItem> out;
  for (auto& [subject, path] : files) {
    auto items = load_mmlu_csv(path, subject);
    out.insert(out.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
  }
  return out;
}

std::string mmlu_subject_words(const std::string& subject) {
  std::string s = subject;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

}  // namespace dsv3::datasets
