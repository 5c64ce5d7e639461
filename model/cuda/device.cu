#include <cuda_runtime.h>

#include "model/device.hpp"

namespace dsv3::model {

bool cuda_compiled() { return true; }

std::vector<GpuInfo> cuda_devices() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the sticky error
    return {};
  }
  std::vector<GpuInfo> out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    out.push_back({i, p.name, p.multiProcessorCount, p.major, p.minor,
                   static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0)});
  }
  return out;
}

}  // namespace dsv3::model
