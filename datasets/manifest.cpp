#include "datasets/manifest.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/math_problems.hpp"
#include "datasets/mmlu.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;
namespace {

void check_keys(const YAML::Node& n, const std::set<std::string>& allowed, const std::string& where,
                const fs::path& file) {
  if (!n.IsMap()) throw InputError(fmt::format("{}: {} must be a mapping", file.string(), where));
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto k = it->first.as<std::string>();
    if (!allowed.count(k)) throw InputError(fmt::format("{}: {}: unknown key '{}'", file.string(), where, k));
  }
}

template <class T>
T req(const YAML::Node& n, const char* key, const std::string& where, const fs::path& file) {
  if (!n[key]) throw InputError(fmt::format("{}: {}: missing key '{}'", file.string(), where, key));
  try {
    return n[key].as<T>();
  } catch (const YAML::Exception&) {
    throw InputError(fmt::format("{}: {}: key '{}' has the wrong type", file.string(), where, key));
  }
}

}  // namespace

fs::path default_manifest_path() { return model::source_path("datasets/manifest.yaml"); }

Manifest load_manifest(const fs::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw InputError(fmt::format("{}: cannot open manifest", file.string()));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: invalid YAML ({})", file.string(), e.mark.line + 1, e.msg));
  }
  check_keys(root, {"version", "datasets"}, "top level", file);
  if (req<int>(root, "version", "top level", file) != 1)
    throw InputError(fmt::format("{}: version must be 1", file.string()));
  Manifest m;
  m.file = file;
  const YAML::Node ds = root["datasets"];
  if (!ds || !ds.IsSequence()) throw InputError(fmt::format("{}: 'datasets' must be a list", file.string()));
  for (std::size_t i = 0; i < ds.size(); ++i) {
    std::string where = fmt::format("datasets[{}]", i);
    const YAML::Node d = ds[i];
    check_keys(d, {"name", "source", "license", "archive", "files"}, where, file);
    ManifestDataset md;
    md.name = req<std::string>(d, "name", where, file);
    where = "dataset " + md.name;
    md.source = req<std::string>(d, "source", where, file);
    if (d["license"]) md.license = d["license"].as<std::string>();
    if (d["archive"]) {
      check_keys(d["archive"], {"url", "type", "member_prefix", "dest"}, where + " archive", file);
      ManifestArchive a;
      a.url = req<std::string>(d["archive"], "url", where + " archive", file);
      a.type = req<std::string>(d["archive"], "type", where + " archive", file);
      if (a.type != "tar") throw InputError(fmt::format("{}: {} archive: type must be 'tar'", file.string(), where));
      a.member_prefix = req<std::string>(d["archive"], "member_prefix", where + " archive", file);
      a.dest = req<std::string>(d["archive"], "dest", where + " archive", file);
      md.archive = a;
    }
    const YAML::Node fl = d["files"];
    if (!fl || !fl.IsSequence()) throw InputError(fmt::format("{}: {}: 'files' must be a list", file.string(), where));
    for (std::size_t k = 0; k < fl.size(); ++k) {
      std::string fw = fmt::format("{} files[{}]", where, k);
      check_keys(fl[k], {"path", "url", "bytes", "sha256", "items", "format"}, fw, file);
      ManifestFile f;
      f.path = req<std::string>(fl[k], "path", fw, file);
      if (fl[k]["url"]) f.url = fl[k]["url"].as<std::string>();
      f.bytes = req<std::uint64_t>(fl[k], "bytes", fw, file);
      f.sha256 = req<std::string>(fl[k], "sha256", fw, file);
      f.items = req<long>(fl[k], "items", fw, file);
      f.format = req<std::string>(fl[k], "format", fw, file);
      if (f.sha256.size() != 64) throw InputError(fmt::format("{}: {}: sha256 must have 64 hex digits", file.string(), fw));
      static const std::set<std::string> formats{"humaneval", "gsm8k", "math", "mmlu"};
      if (!formats.count(f.format))
        throw InputError(fmt::format("{}: {}: format must be humaneval, gsm8k, math or mmlu", file.string(), fw));
      if (f.path.find("..") != std::string::npos || (!f.path.empty() && f.path[0] == '/'))
        throw InputError(fmt::format("{}: {}: path must be relative and stay inside the data dir", file.string(), fw));
      md.files.push_back(std::move(f));
    }
    m.datasets.push_back(std::move(md));
  }
  return m;
}

long count_items(const fs::path& file, const std::string& format) {
  if (format == "humaneval") return long(load_humaneval(file).size());
  if (format == "gsm8k") return long(load_gsm8k(file).size());
  if (format == "math") return long(load_math_jsonl(file).size());
  if (format == "mmlu") return long(load_mmlu_csv(file, file.stem().string()).size());
  throw InputError(fmt::format("unknown dataset format '{}'", format));
}

}  // namespace dsv3::datasets
