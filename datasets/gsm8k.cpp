#include "datasets/gsm8k.hpp"

#include <fmt/core.h>

#include "datasets/text_file.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;

fs::path gsm8k_path(const fs::path& data_dir, const std::string& split) {
  if (fs::is_regular_file(data_dir)) return data_dir;
  for (const fs::path& cand : {data_dir / "gsm8k" / (split + ".jsonl"), data_dir / (split + ".jsonl")})
    if (fs::is_regular_file(cand)) return cand;
  throw InputError(fmt::format("{}: no gsm8k/{}.jsonl", data_dir.string(), split));
}

std::vector<Gsm8kItem> load_gsm8k(const fs::path& data_dir_or_file, const std::string& split) {
  fs::path file = gsm8k_path(data_dir_or_file, split);
  std::vector<Gsm8kItem> out;
  for_each_jsonl(file, [&](const nlohmann::json& j, int line) {
    Gsm8kItem it;
    it.question = json_string(j, "question", file, line);
    it.answer = json_string(j, "answer", file, line);
    if (it.answer.find("#### ") == std::string::npos)
      throw InputError(fmt::format("{}:{}: field 'answer' has no '#### ' final answer", file.string(), line));
    it.source = fmt::format("{}:{}", file.string(), line);
    out.push_back(std::move(it));
  });
  return out;
}

}  // namespace dsv3::datasets
