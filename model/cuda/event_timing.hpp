#pragma once
// Event timing on a stream, for the GEMM autotuner (gemm.cu) and the CUDA benchmarks.
#include <cuda_runtime.h>

#include "model/cuda/cuda_check.hpp"

namespace dsv3::model::cuda {

// Times `reps` back-to-back calls of f(i) on `stream` between two events; ms per call.
template <class F>
double time_ms(F&& f, int reps, cudaStream_t stream = nullptr) {
  cudaEvent_t a, b;
  DSV3_CUDA_CHECK(cudaEventCreate(&a));
  DSV3_CUDA_CHECK(cudaEventCreate(&b));
  DSV3_CUDA_CHECK(cudaEventRecord(a, stream));
  for (int i = 0; i < reps; ++i) f(i);
  DSV3_CUDA_CHECK(cudaEventRecord(b, stream));
  DSV3_CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  DSV3_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / reps;
}

}  // namespace dsv3::model::cuda
