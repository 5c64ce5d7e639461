#include "datasets/math_problems.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "datasets/text_file.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;
namespace {

int parse_level(const nlohmann::json& j, const fs::path& file, int line) {
  auto it = j.find("level");
  if (it == j.end()) throw InputError(fmt::format("{}:{}: missing field 'level'", file.string(), line));
  if (it->is_number_integer()) {
    int v = it->get<int>();
    if (v < 1 || v > 5) throw InputError(fmt::format("{}:{}: field 'level' must be 1..5, found {}", file.string(), line, v));
    return v;
  }
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "Level ?") return 0;
    if (s.size() == 7 && s.rfind("Level ", 0) == 0 && s[6] >= '1' && s[6] <= '5') return s[6] - '0';
    throw InputError(fmt::format("{}:{}: field 'level' must look like \"Level 3\", found \"{}\"", file.string(), line, s));
  }
  throw InputError(fmt::format("{}:{}: field 'level' must be a string or an integer", file.string(), line));
}

MathProblem from_json(const nlohmann::json& j, const fs::path& file, int line) {
  MathProblem p;
  p.problem = json_string(j, "problem", file, line);
  p.solution = json_string(j, "solution", file, line);
  if (j.contains("type")) p.subject = json_string(j, "type", file, line);
  else if (j.contains("subject")) p.subject = json_string(j, "subject", file, line);
  else throw InputError(fmt::format("{}:{}: missing field 'type' (or 'subject')", file.string(), line));
  p.level = parse_level(j, file, line);
  if (j.contains("answer")) p.answer = json_string(j, "answer", file, line);
  if (j.contains("unique_id")) p.unique_id = json_string(j, "unique_id", file, line);
  return p;
}

}  // namespace

std::vector<MathProblem> load_math_jsonl(const fs::path& file) {
  std::vector<MathProblem> out;
  for_each_jsonl(file, [&](const nlohmann::json& j, int line) {
    MathProblem p = from_json(j, file, line);
    if (p.unique_id.empty()) p.unique_id = fmt::format("{}:{}", file.filename().string(), line);
    p.source = fmt::format("{}:{}", file.string(), line);
    out.push_back(std::move(p));
  });
  return out;
}

std::vector<MathProblem> load_math_tree(const fs::path& root, const std::string& split) {
  if (!fs::is_directory(root)) throw InputError(fmt::format("{}: no such folder", root.string()));
  std::vector<fs::path> subjects;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory()) subjects.push_back(e.path());
  std::sort(subjects.begin(), subjects.end());
  std::vector<MathProblem> out;
  for (auto& sd : subjects) {
    std::vector<std::pair<long, fs::path>> files;
    for (auto& e : fs::directory_iterator(sd)) {
      if (e.path().extension() != ".json") continue;
      std::string stem = e.path().stem().string();
      long id = -1;
      try { std::size_t pos; id = std::stol(stem, &pos); if (pos != stem.size()) id = -1; } catch (...) {}
      if (id < 0) throw InputError(fmt::format("{}: file name is not <number>.json", e.path().string()));
      files.emplace_back(id, e.path());
    }
    std::sort(files.begin(), files.end());
    for (auto& [id, f] : files) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_text(f));
      } catch (const nlohmann::json::parse_error& e) {
        throw InputError(fmt::format("{}:1: not valid JSON ({})", f.string(), e.what()));
      }
      if (!j.is_object()) throw InputError(fmt::format("{}:1: expected a JSON object", f.string()));
      MathProblem p = from_json(j, f, 1);
      p.unique_id = fmt::format("{}/{}/{}.json", split, sd.filename().string(), id);
      p.source = f.string();
      out.push_back(std::move(p));
    }
  }
  if (out.empty()) throw InputError(fmt::format("{}: no <subject>/<n>.json files", root.string()));
  return out;
}

std::vector<MathProblem> load_math(const fs::path& d, const std::string& split) {
  if (fs::is_regular_file(d)) return load_math_jsonl(d);
  if (split == "math500") {
    for (const fs::path& c : {d / "math" / "math500_test.jsonl", d / "math500_test.jsonl"})
      if (fs::is_regular_file(c)) return load_math_jsonl(c);
    throw InputError(fmt::format("{}: no math/math500_test.jsonl", d.string()));
  }
  if (split != "test" && split != "train")
    throw InputError(fmt::format("MATH split must be test, train or math500, not '{}'", split));
  for (const fs::path& c : {d / "math" / (split + ".jsonl"), d / (split + ".jsonl")})
    if (fs::is_regular_file(c)) return load_math_jsonl(c);
  for (const fs::path& c : {d / "math" / "MATH" / split, d / "MATH" / split, d / "math" / split, d / split})
    if (fs::is_directory(c)) return load_math_tree(c, split);
  throw InputError(fmt::format("{}: no math/{}.jsonl and no MATH/{}/<subject>/<n>.json tree", d.string(), split, split));
}

}  // namespace dsv3::datasets
