// dsv3 datasets verify|fetch: benchmark files against datasets/manifest.yaml.
#include <fmt/core.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "datasets/fetch.hpp"
#include "datasets/manifest.hpp"
#include "datasets/verify.hpp"
#include "model/errors.hpp"

namespace dsv3::cli {
namespace {

struct DatasetsOptions {
  std::string data_dir;
  std::string manifest;
  std::vector<std::string> only;
  std::string format = "text";
  bool strict = false;
};

datasets::Manifest manifest_of(const DatasetsOptions& o) {
  return datasets::load_manifest(o.manifest.empty() ? datasets::default_manifest_path() : std::filesystem::path(o.manifest));
}

void run_verify(const DatasetsOptions& o) {
  if (!std::filesystem::is_directory(o.data_dir))
    throw InputError(fmt::format("--data-dir {}: no such folder", o.data_dir));
  auto m = manifest_of(o);
  auto checks = datasets::verify_data_dir(o.data_dir, m, o.only);
  int ok = 0, missing = 0, bad = 0;
  for (auto& c : checks) {
    if (c.status == "ok") ++ok;
    else if (c.status == "missing") ++missing;
    else ++bad;
  }
  if (o.format == "json") {
    nlohmann::json j;
    j["data_dir"] = o.data_dir;
    j["manifest"] = m.file.string();
    j["ok"] = ok;
    j["missing"] = missing;
    j["bad"] = bad;
    j["files"] = nlohmann::json::array();
    for (auto& c : checks)
      j["files"].push_back({{"dataset", c.dataset}, {"path", c.path}, {"status", c.status}, {"detail", c.detail}});
    fmt::print("{}\n", j.dump(2));
  } else {
    // One line per dataset, then every file that is not ok (missing files listed when few).
    std::map<std::string, std::array<int, 3>> per;
    std::vector<std::string> order;
    for (auto& c : checks) {
      if (!per.count(c.dataset)) order.push_back(c.dataset);
      per[c.dataset][c.status == "ok" ? 0 : c.status == "missing" ? 1 : 2]++;
    }
    for (auto& d : order)
      fmt::print("{:<10} {} ok, {} missing, {} not matching\n", d, per[d][0], per[d][1], per[d][2]);
    for (auto& c : checks) {
      if (c.status == "ok" || (c.status == "missing" && per[c.dataset][1] > 6)) continue;
      fmt::print("  {:<10} {}{}\n", c.status, c.path, c.detail.empty() ? "" : "  " + c.detail);
    }
    fmt::print("{} ok, {} missing, {} not matching the manifest ({})\n", ok, missing, bad, m.file.string());
  }
  if (bad > 0) throw InputError(fmt::format("{}: {} files do not match the manifest", o.data_dir, bad));
  if (o.strict && missing > 0) throw InputError(fmt::format("{}: {} files missing (--strict)", o.data_dir, missing));
  if (ok == 0) throw InputError(fmt::format("{}: none of the manifest's files is present", o.data_dir));
}

void run_fetch(const DatasetsOptions& o) {
  std::filesystem::create_directories(o.data_dir);
  auto m = manifest_of(o);
  auto res = datasets::fetch_datasets(o.data_dir, m, o.only, [](const std::string& s) { fmt::print(stderr, "{}\n", s); });
  int manual = 0;
  for (auto& r : res) {
    if (r.action == "manual") ++manual;
    if (r.action != "present" || res.size() <= 20) fmt::print("{:<10} {}\n", r.action, r.path);
  }
  fmt::print("{} files in place{}\n", res.size() - std::size_t(manual),
             manual ? fmt::format(", {} need to be placed by hand (no official download)", manual) : "");
}

void add_common(CLI::App* s, DatasetsOptions& o) {
  s->add_option("--data-dir", o.data_dir, "data folder (layout: humaneval/, gsm8k/, math/, mmlu/data/)")->required();
  s->add_option("--manifest", o.manifest, "manifest file (default: datasets/manifest.yaml of the source tree)");
  s->add_option("--datasets", o.only, "only these datasets (humaneval, gsm8k, math, mmlu)")->delimiter(',');
}

Registrar reg(60, [](CLI::App& root) {
  auto* ds = root.add_subcommand("datasets", "benchmark files: verify against the manifest, fetch from official sources");
  ds->require_subcommand(1);
  auto o = std::make_shared<DatasetsOptions>();
  auto* v = ds->add_subcommand("verify", "check size, sha256 and item count of every file in --data-dir");
  add_common(v, *o);
  v->add_option("--format", o->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  v->add_flag("--strict", o->strict, "missing files are an error too");
  v->callback([o] { run_verify(*o); });
  auto* f = ds->add_subcommand("fetch", "download missing files from the official sources, checking sha256");
  add_common(f, *o);
  f->callback([o] { run_fetch(*o); });
});

}  // namespace
}  // namespace dsv3::cli
