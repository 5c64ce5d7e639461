#include "datasets/verify.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "datasets/sha256.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;

FileCheck check_file(const fs::path& data_dir, const std::string& dataset, const ManifestFile& f) {
  FileCheck c{dataset, f.path, "ok", ""};
  fs::path p = data_dir / f.path;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) { c.status = "missing"; return c; }
  auto size = fs::file_size(p, ec);
  if (ec) { c.status = "unreadable"; c.detail = ec.message(); return c; }
  if (size != f.bytes) {
    c.status = "size";
    c.detail = fmt::format("{} bytes, expected {}", size, f.bytes);
    return c;
  }
  std::string h = sha256_file(p);
  if (h != f.sha256) {
    c.status = "sha256";
    c.detail = fmt::format("sha256 {}, expected {}", h, f.sha256);
    return c;
  }
  try {
    long n = count_items(p, f.format);
    if (n != f.items) {
      c.status = "items";
      c.detail = fmt::format("{} items, expected {}", n, f.items);
    }
  } catch (const InputError& e) {
    c.status = "unreadable";
    c.detail = e.what();
  }
  return c;
}

std::vector<FileCheck> verify_data_dir(const fs::path& data_dir, const Manifest& m,
                                       const std::vector<std::string>& only) {
  std::vector<FileCheck> out;
  for (auto& d : m.datasets) {
    if (!only.empty() && std::find(only.begin(), only.end(), d.name) == only.end()) continue;
    for (auto& f : d.files) out.push_back(check_file(data_dir, d.name, f));
  }
  return out;
}

}  // namespace dsv3::datasets
