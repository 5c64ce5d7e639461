#include "reports/published_scores.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::reports {

namespace fs = std::filesystem;

namespace {

std::string req_str(const YAML::Node& n, const char* key, const std::string& where) {
  if (!n[key] || !n[key].IsScalar() || n[key].as<std::string>().empty())
    throw InputError(fmt::format("{}: missing or empty field '{}'", where, key));
  return n[key].as<std::string>();
}

void check_keys(const YAML::Node& n, std::initializer_list<const char*> allowed, const std::string& where) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto k = it->first.as<std::string>();
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }) == allowed.end())
      throw InputError(fmt::format("{}: unknown field '{}'", where, k));
  }
}

}  // namespace

std::vector<PublishedScore> load_published_file(const fs::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw InputError(fmt::format("{}: cannot read file", file.string()));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: line {}: YAML error: {}", file.string(), e.mark.line + 1, e.msg));
  }
  const std::string f = file.string();
  if (!root.IsMap() || !root["tables"] || !root["tables"].IsSequence())
    throw InputError(fmt::format("{}: expected a map with a 'tables' list", f));
  check_keys(root, {"tables"}, f);
  std::vector<PublishedScore> out;
  int ti = 0;
  for (const auto& t : root["tables"]) {
    const std::string tw = fmt::format("{}: tables[{}] (line {})", f, ti, t.Mark().line + 1);
    check_keys(t, {"document", "table", "setting", "kind", "rows"}, tw);
    std::string document = req_str(t, "document", tw), table = req_str(t, "table", tw),
                setting = req_str(t, "setting", tw), kind = req_str(t, "kind", tw);
    if (kind != "base" && kind != "chat") throw InputError(fmt::format("{}: kind '{}' is not base or chat", tw, kind));
    if (!t["rows"] || !t["rows"].IsSequence()) throw InputError(fmt::format("{}: missing 'rows' list", tw));
    int ri = 0;
    for (const auto& r : t["rows"]) {
      const std::string rw = fmt::format("{}: tables[{}].rows[{}] (line {})", f, ti, ri, r.Mark().line + 1);
      check_keys(r, {"model", "benchmark", "metric", "shots", "value", "note"}, rw);
      PublishedScore s;
      s.model = req_str(r, "model", rw);
      s.benchmark = req_str(r, "benchmark", rw);
      s.metric = req_str(r, "metric", rw);
      if (!r["shots"]) throw InputError(fmt::format("{}: missing field 'shots' (write null when the source gives none)", rw));
      if (!r["shots"].IsNull()) {
        try {
          s.shots = r["shots"].as<int>();
        } catch (const YAML::Exception&) {
          throw InputError(fmt::format("{}: field 'shots' is not an integer or null", rw));
        }
      }
      try {
        s.value = r["value"].as<double>();
      } catch (const YAML::Exception&) {
        throw InputError(fmt::format("{}: field 'value' is missing or not a number", rw));
      }
      if (s.value < 0 || s.value > 100) throw InputError(fmt::format("{}: value {} is not a percentage", rw, s.value));
      if (r["note"]) s.note = r["note"].as<std::string>();
      s.document = document;
      s.table = table;
      s.setting = setting;
      s.kind = kind;
      s.file = f;
      for (const auto& o : out)
        if (o.model == s.model && o.benchmark == s.benchmark)
          throw InputError(fmt::format("{}: duplicate row for model '{}' benchmark '{}'", rw, s.model, s.benchmark));
      out.push_back(std::move(s));
      ++ri;
    }
    ++ti;
  }
  return out;
}

std::vector<PublishedScore> load_published_dir(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw InputError(fmt::format("{}: not a folder", dir.string()));
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<PublishedScore> out;
  for (auto& p : files) {
    auto v = load_published_file(p);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

fs::path default_published_dir() { return model::source_path("reports/published"); }

std::vector<PublishedScore> load_reference(const std::string& spec) {
  if (spec == "published") return load_published_dir(default_published_dir());
  fs::path p(spec);
  if (fs::is_directory(p)) return load_published_dir(p);
  if (fs::is_regular_file(p)) return load_published_file(p);
  fs::path shipped = default_published_dir() / (spec + ".yaml");
  if (fs::is_regular_file(shipped)) return load_published_file(shipped);
  throw InputError(fmt::format("--reference: '{}' is not 'published', a file in {} or a YAML path", spec,
                               default_published_dir().string()));
}

std::string benchmark_display_name(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"mmlu", "MMLU"},       {"humaneval", "HumanEval"}, {"humaneval_mul", "HumanEval-Mul"},
      {"gsm8k", "GSM8K"},     {"math", "MATH"},           {"math500", "MATH-500"},
      {"mmlu_pro", "MMLU-Pro"}};
  auto it = names.find(key);
  return it == names.end() ? key : it->second;
}

}  // namespace dsv3::reports
