#pragma once
// Reading the reference fixtures of tests/data/models (made by scripts/make_model_fixtures.py
// with HF transformers' DeepseekV3ForCausalLM): golden.json and golden.safetensors.
#include <algorithm>
#include <filesystem>
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

// HF's BF16-compute forward on the same fixture (scripts/hf_bf16_reference.py):
// golden_bf16.json (greedy, greedy_margin, rel_vs_fp32) and golden_bf16.safetensors (seq<k>.logits).
inline Golden load_golden_bf16(const std::string& name) {
  Golden g;
  g.meta = nlohmann::json::parse(read_file(test_data_dir() / "models" / name / "golden_bf16.json"));
  g.file = std::make_unique<model::SafetensorsFile>(test_data_dir() / "models" / name / "golden_bf16.safetensors");
  return g;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return a.size() == b.size() ? m : 1e30f;
}

}  // namespace dsv3::test

namespace dsv3::test {

struct RawTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes a safetensors file (header padded with spaces to a multiple of 8, as the reference writer).
inline void write_safetensors(const std::filesystem::path& path, const std::vector<RawTensor>& ts) {
  nlohmann::json h = nlohmann::json::object();
  int64_t off = 0;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + static_cast<int64_t>(t.bytes.size())}}};
    off += static_cast<int64_t>(t.bytes.size());
  }
  h["__metadata__"] = {{"format", "pt"}};
  std::string hs = h.dump();
  while (hs.size() % 8) hs += ' ';
  std::string out(8, '\0');
  uint64_t n = hs.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += hs;
  for (const auto& t : ts) out += t.bytes;
  write_file(path, out);
}

// Every tensor of a mapped file, in file order.
inline std::vector<RawTensor> read_all(const model::SafetensorsFile& f) {
  std::vector<const model::TensorInfo*> v;
  for (const auto& [n, t] : f.tensors()) v.push_back(&t);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->data < b->data; });
  std::vector<RawTensor> out;
  for (auto* t : v)
    out.push_back({t->name, t->dtype_name, t->shape, std::string(reinterpret_cast<const char*>(t->data), t->nbytes)});
  return out;
}

}  // namespace dsv3::test
