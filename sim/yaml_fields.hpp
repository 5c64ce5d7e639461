#pragma once
// Strict reading of the simulator's YAML files (scenarios, hardware profiles, calibration
// tables): every key read is remembered, and finish() rejects the keys nobody read, naming
// the file and the full key. Values given as {value: x, source: "..."} carry their source.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

namespace dsv3::sim {

// A number with the place it comes from (a paper table, a measurement, a derivation).
struct Sourced {
  double value = 0;
  std::string source;
};

// Loads a YAML file; a parse error becomes dsv3::InputError with the file and line.
YAML::Node load_yaml_file(const std::filesystem::path& path);

class YamlMap {
 public:
  // `prefix` is the dotted path of this map inside the file ("" at the top, "parallel.").
  YamlMap(YAML::Node node, std::string file, std::string prefix);

  bool has(const std::string& key) const;
  double number(const std::string& key, double def);
  double number(const std::string& key);  // required
  int64_t integer(const std::string& key, int64_t def);
  int64_t integer(const std::string& key);  // required
  bool boolean(const std::string& key, bool def);
  std::string string(const std::string& key, const std::string& def);
  std::string string(const std::string& key);  // required
  // {value: x, source: "..."}; the source is required.
  Sourced sourced(const std::string& key);
  YamlMap map(const std::string& key);  // required sub-map
  YAML::Node raw(const std::string& key);  // marks the key as read; Null when absent
  // Throws InputError for the first key that was never read.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  const std::string& file() const { return file_; }
  std::string key_path(const std::string& key) const { return prefix_ + key; }

 private:
  YAML::Node get(const std::string& key, bool required);
  YAML::Node node_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> seen_;
};

// Parses a scalar as a number; "14.8e12", "469e9" and "2_048" style values are accepted.
double parse_number(const std::string& text, const std::string& file, const std::string& key);

}  // namespace dsv3::sim
