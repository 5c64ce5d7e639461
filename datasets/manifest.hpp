#pragma once
// datasets/manifest.yaml: every benchmark file's official source, size, item count and sha256.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsv3::datasets {

struct ManifestFile {
  std::string path;    // relative to the data dir, e.g. "gsm8k/test.jsonl"
  std::string url;     // direct download URL; empty when the file comes from an archive or by hand
  std::uint64_t bytes = 0;
  std::string sha256;
  long items = 0;
  std::string format;  // humaneval | gsm8k | math | mmlu
};

struct ManifestArchive {
  std::string url;
  std::string type;           // "tar"
  std::string member_prefix;  // archive member prefix replaced by dest
  std::string dest;           // data-dir-relative folder the members go to
};

struct ManifestDataset {
  std::string name;
  std::string source;
  std::string license;
  std::optional<ManifestArchive> archive;
  std::vector<ManifestFile> files;
};

struct Manifest {
  std::filesystem::path file;
  std::vector<ManifestDataset> datasets;
};

// Parses a manifest; unknown keys and missing fields are InputErrors naming the file and key.
Manifest load_manifest(const std::filesystem::path& file);
// The manifest shipped in the source tree (datasets/manifest.yaml).
std::filesystem::path default_manifest_path();

// Counts the items of a file in the given format with the real loaders.
long count_items(const std::filesystem::path& file, const std::string& format);

}  // namespace dsv3::datasets
