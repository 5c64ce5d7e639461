#pragma once
// Hardware profiles (sim/hardware/*.yaml): one GPU type and its node. Every value carries
// its source, printed with the results.
#include <filesystem>
#include <string>
#include <vector>

#include "sim/yaml_fields.hpp"

namespace dsv3::sim {

struct HardwareProfile {
  std::string id;    // file stem, e.g. "h800"
  std::string name;  // "NVIDIA H800 SXM5 80GB"
  std::string file;
  Sourced sms;                     // streaming multiprocessors
  Sourced bf16_dense_tflops;       // dense Tensor Core peak
  Sourced fp8_dense_tflops;        // dense (no sparsity)
  Sourced hbm_bytes;               // capacity
  Sourced hbm_tbps;                // bandwidth, TB/s
  Sourced nvlink_gbps_nominal;     // per GPU, one direction, GB/s
  Sourced nvlink_gbps_achievable;
  Sourced nic_gbps_nominal;        // scale-out NIC per GPU, one direction, GB/s
  Sourced nic_gbps_achievable;
  Sourced gpus_per_node;
  Sourced usd_per_gpu_hour;

  // (name, value, source) of every field, for printing.
  std::vector<std::pair<std::string, const Sourced*>> fields() const;
};

// Loads a profile by id ("h800": sim/hardware/h800.yaml of the source tree) or by path.
HardwareProfile load_hardware(const std::string& id_or_path);
HardwareProfile parse_hardware(const YAML::Node& node, const std::string& file, const std::string& id);

// The ids of the bundled profiles.
std::vector<std::string> bundled_hardware();

}  // namespace dsv3::sim
