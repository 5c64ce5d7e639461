#pragma once
#include <string>
#include <vector>

namespace dsv3::model {

struct GpuInfo {
  int index = 0;
  std::string name;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;
  double memory_gib = 0;
};

// True when this binary was built with the CUDA backend.
bool cuda_compiled();
// The CUDA GPUs visible to this process; empty without the CUDA backend or without a GPU.
std::vector<GpuInfo> cuda_devices();

}  // namespace dsv3::model
