#pragma once
// What launch decisions read besides their operands: the GPU's size and the diagnostics switches
// of the environment (DSV3_CUDA_*, listed in model/MODEL.md).
#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

#include "model/cuda/cuda_check.hpp"

namespace dsv3::model::cuda {

// Multiprocessors of the current device.
inline int sm_count() {
  int dev = 0, n = 0;
  DSV3_CUDA_CHECK(cudaGetDevice(&dev));
  DSV3_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  return n;
}

// The variable's value, "" when unset.
inline std::string env_value(const char* name) {
  const char* e = std::getenv(name);
  return e ? e : "";
}

// A switch that is on unless set to "0".
inline bool env_on(const char* name) { return env_value(name) != "0"; }

}  // namespace dsv3::model::cuda
