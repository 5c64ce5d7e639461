#pragma once
// Checks the files of a data dir against the manifest: presence, size, sha256, item count.
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/manifest.hpp"

namespace dsv3::datasets {

struct FileCheck {
  std::string dataset;
  std::string path;
  std::string status;  // ok | missing | size | sha256 | items | unreadable
  std::string detail;
};

// Checks one file (exists, size, sha256, then the item count with the real loader).
FileCheck check_file(const std::filesystem::path& data_dir, const std::string& dataset, const ManifestFile& f);
// Every file of the manifest, or only those of the named datasets (empty = all).
std::vector<FileCheck> verify_data_dir(const std::filesystem::path& data_dir, const Manifest& m,
                                       const std::vector<std::string>& only = {});

}  // namespace dsv3::datasets
