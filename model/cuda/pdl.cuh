#pragma once
// Programmatic dependent launch (Hopper): a kernel launched with launch_pdl may start while the
// kernel before it in the stream is still running, so that its launch and its independent
// prologue (a GEMV's first weight loads) overlap that kernel's tail. It must call pdl_wait() before
// it reads what the previous kernel wrote or writes what that kernel reads; pdl_wait() returns once
// the previous kernel has completed and its writes are visible. Kernels call pdl_trigger() first
// thing, letting the next kernel launch as soon as all their blocks are running, except where the
// next kernel's early CTAs would crowd out other work (moe.cu's routing kernel triggers at its
// end; exiting counts as triggering). Without the
// launch attribute (or before sm_90) both are no-ops. Stream capture keeps these programmatic
// edges in CUDA graphs. DSV3_CUDA_PDL=0 launches every kernel normally (a diagnostic).
#include <cuda_runtime.h>

#include <utility>

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/launch_env.hpp"

namespace dsv3::model::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}

inline bool pdl_enabled() {
  static const bool on = env_on("DSV3_CUDA_PDL");
  return on;
}

template <class... KArgs, class... Args>
void launch_pdl(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream, Args&&... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = pdl_enabled() ? 1 : 0;
  DSV3_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...));
}

}  // namespace dsv3::model::cuda
