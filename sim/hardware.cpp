#include "sim/hardware.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::sim {

namespace {

// The profile's calibrated numbers by YAML key, in file order (const or mutable profile).
template <class H>
auto field_list(H& h) {
  using P = decltype(&h.sms);
  return std::vector<std::pair<std::string, P>>{{"sms", &h.sms},
                                                {"bf16_dense_tflops", &h.bf16_dense_tflops},
                                                {"fp8_dense_tflops", &h.fp8_dense_tflops},
                                                {"hbm_bytes", &h.hbm_bytes},
                                                {"hbm_tbps", &h.hbm_tbps},
                                                {"nvlink_gbps_nominal", &h.nvlink_gbps_nominal},
                                                {"nvlink_gbps_achievable", &h.nvlink_gbps_achievable},
                                                {"nic_gbps_nominal", &h.nic_gbps_nominal},
                                                {"nic_gbps_achievable", &h.nic_gbps_achievable},
                                                {"gpus_per_node", &h.gpus_per_node},
                                                {"usd_per_gpu_hour", &h.usd_per_gpu_hour}};
}

}  // namespace

std::vector<std::pair<std::string, const Sourced*>> HardwareProfile::fields() const { return field_list(*this); }

HardwareProfile parse_hardware(const YAML::Node& node, const std::string& file, const std::string& id) {
  YamlMap m(node, file, "");
  HardwareProfile h;
  h.id = id;
  h.file = file;
  h.name = m.string("name");
  for (auto& [key, field] : field_list(h)) *field = m.sourced(key);
  m.finish();
  for (auto& [k, v] : h.fields())
    if (!(v->value > 0)) m.fail(k + ".value", "must be positive");
  return h;
}

std::vector<std::string> bundled_hardware() {
  std::vector<std::string> ids;
  auto dir = model::source_path("sim/hardware");
  if (std::filesystem::is_directory(dir))
    for (auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".yaml") ids.push_back(e.path().stem().string());
  std::sort(ids.begin(), ids.end());
  return ids;
}

HardwareProfile load_hardware(const std::string& id_or_path) {
  std::filesystem::path p = id_or_path;
  if (p.extension() != ".yaml") {
    p = model::source_path("sim/hardware") / (id_or_path + ".yaml");
    if (!std::filesystem::exists(p)) {
      std::string known;
      for (auto& k : bundled_hardware()) known += (known.empty() ? "" : ", ") + k;
      throw InputError(fmt::format("hardware profile '{}' not found (bundled: {})", id_or_path, known));
    }
  }
  return parse_hardware(load_yaml_file(p), p.string(), p.stem().string());
}

}  // namespace dsv3::sim
