#pragma once
// Reading the reference fixtures of tests/data/models (made by scripts/make_model_fixtures.py
// with HF transformers' DeepseekV3ForCausalLM): golden.json and golden.safetensors.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/safetensors.hpp"
#include "support/test_support.hpp"

namespace dsv3::test {

struct Golden {
  nlohmann::json meta;
  std::unique_ptr<model::SafetensorsFile> file;
  std::vector<std::vector<int32_t>> sequences() const {
    std::vector<std::vector<int32_t>> v;
    for (const auto& s : meta["sequences"]) v.push_back(s.get<std::vector<int32_t>>());
    return v;
  }
  // F32 tensor as a flat vector.
  std::vector<float> tensor(const std::string& name) const {
    const auto& t = file->tensors().at(name);
    const float* p = reinterpret_cast<const float*>(t.data);
    return std::vector<float>(p, p + t.numel());
  }
  bool has(const std::string& name) const { return file->tensors().count(name) != 0; }
};

inline std::string fixture_dir(const std::string& name) { return (test_data_dir() / "models" / name).string(); }

inline Golden load_golden(const std::string& name) {
  Golden g;
  g.meta = nlohmann::json::parse(read_file(test_data_dir() / "models" / name / "golden.json"));
  g.file = std::make_unique<model::SafetensorsFile>(test_data_dir() / "models" / name / "golden.safetensors");
  return g;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return a.size() == b.size() ? m : 1e30f;
}

}  // namespace dsv3::test
