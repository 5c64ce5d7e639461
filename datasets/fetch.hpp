#pragma once
// Downloads benchmark files from the sources in the manifest (libcurl: https, http, file URLs),
// checks size and sha256 before a file is put in place, and unpacks tar archives (MMLU).
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "datasets/manifest.hpp"

namespace dsv3::datasets {

// Downloads url to dest (written as dest + ".part", renamed when complete). Throws InputError
// naming the URL on a network or HTTP error.
void download_url(const std::string& url, const std::filesystem::path& dest);

struct FetchResult {
  std::string path;
  std::string action;  // present | downloaded | extracted | manual
  std::string detail;
};

// Fetches every file of the named datasets (empty = all) that is missing or does not verify.
// Files already in place and verified are left alone. A file whose download does not match
// the manifest is deleted and reported as an InputError. Files with no URL and no archive are
// reported as "manual". `log` receives one progress line per action.
std::vector<FetchResult> fetch_datasets(const std::filesystem::path& data_dir, const Manifest& m,
                                        const std::vector<std::string>& only,
                                        const std::function<void(const std::string&)>& log);

}  // namespace dsv3::datasets
