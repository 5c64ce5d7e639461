#include "sim/yaml_fields.hpp"

#include <fmt/core.h>

#include <cmath>
#include <cstdlib>

#include "model/errors.hpp"

namespace dsv3::sim {

YAML::Node load_yaml_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw InputError(fmt::format("{}: file not found", path.string()));
  try {
    return YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: YAML error: {}", path.string(), e.mark.line + 1, e.msg));
  }
}

double parse_number(const std::string& text, const std::string& file, const std::string& key) {
  std::string t;
  for (char ch : text)
    if (ch != '_') t += ch;
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end == t.c_str() || *end != '\0' || !std::isfinite(v))
    throw InputError(fmt::format("{}: key '{}': expected a number, got '{}'", file, key, text));
  return v;
}

YamlMap::YamlMap(YAML::Node node, std::string file, std::string prefix)
    : node_(std::move(node)), file_(std::move(file)), prefix_(std::move(prefix)) {
  if (node_ && !node_.IsNull() && !node_.IsMap())
    throw InputError(fmt::format("{}: key '{}': expected a map of keys", file_,
                                 prefix_.empty() ? std::string("(top level)") : prefix_.substr(0, prefix_.size() - 1)));
}

void YamlMap::fail(const std::string& key, const std::string& what) const {
  throw InputError(fmt::format("{}: key '{}': {}", file_, prefix_ + key, what));
}

bool YamlMap::has(const std::string& key) const { return node_ && node_.IsMap() && node_[key] && !node_[key].IsNull(); }

YAML::Node YamlMap::get(const std::string& key, bool required) {
  seen_.insert(key);
  if (!has(key)) {
    if (required) fail(key, "missing");
    return YAML::Node();
  }
  return node_[key];
}

YAML::Node YamlMap::raw(const std::string& key) { return get(key, false); }

double YamlMap::number(const std::string& key, double def) {
  YAML::Node n = get(key, false);
  if (!n) return def;
  if (!n.IsScalar()) fail(key, "expected a number");
  return parse_number(n.Scalar(), file_, prefix_ + key);
}

double YamlMap::number(const std::string& key) {
  get(key, true);
  return number(key, 0.0);
}

int64_t YamlMap::integer(const std::string& key, int64_t def) {
  YAML::Node n = get(key, false);
  if (!n) return def;
  if (!n.IsScalar()) fail(key, "expected an integer");
  double v = parse_number(n.Scalar(), file_, prefix_ + key);
  if (std::floor(v) != v || std::fabs(v) > 9e15) fail(key, fmt::format("expected an integer, got '{}'", n.Scalar()));
  return static_cast<int64_t>(v);
}

int64_t YamlMap::integer(const std::string& key) {
  get(key, true);
  return integer(key, 0);
}

bool YamlMap::boolean(const std::string& key, bool def) {
  YAML::Node n = get(key, false);
  if (!n) return def;
  const std::string& s = n.Scalar();
  if (s == "true" || s == "True" || s == "yes" || s == "on" || s == "1") return true;
  if (s == "false" || s == "False" || s == "no" || s == "off" || s == "0") return false;
  fail(key, fmt::format("expected true or false, got '{}'", s));
}

std::string YamlMap::string(const std::string& key, const std::string& def) {
  YAML::Node n = get(key, false);
  if (!n) return def;
  if (!n.IsScalar()) fail(key, "expected a string");
  return n.Scalar();
}

std::string YamlMap::string(const std::string& key) {
  get(key, true);
  return string(key, "");
}

Sourced YamlMap::sourced(const std::string& key) {
  YAML::Node n = get(key, true);
  if (!n.IsMap()) fail(key, "expected {value: ..., source: \"...\"}");
  YamlMap m(n, file_, prefix_ + key + ".");
  Sourced s;
  s.value = m.number("value");
  s.source = m.string("source");
  if (s.source.empty()) m.fail("source", "must name where the value comes from");
  m.finish();
  return s;
}

YamlMap YamlMap::map(const std::string& key) {
  YAML::Node n = get(key, true);
  return YamlMap(n, file_, prefix_ + key + ".");
}

void YamlMap::finish() const {
  if (!node_ || !node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string k = it->first.Scalar();
    if (!seen_.count(k)) fail(k, "unknown key");
  }
}

}  // namespace dsv3::sim
