#include "model/device.hpp"

#ifndef DSV3_HAVE_CUDA
namespace dsv3::model {
bool cuda_compiled() { return false; }
std::vector<GpuInfo> cuda_devices() { return {}; }
}  // namespace dsv3::model
#endif
