#pragma once
// Error checks for CUDA runtime and cuBLAS calls: throw std::runtime_error naming the call,
// the file and the line. Every launch is followed by DSV3_CUDA_CHECK(cudaGetLastError()).
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace dsv3::model::cuda {

[[noreturn]] inline void throw_cuda(cudaError_t e, const char* what, const char* file, int line) {
  throw std::runtime_error(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                           ") in " + what + " at " + file + ":" + std::to_string(line));
}

[[noreturn]] inline void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
  throw std::runtime_error(std::string("cuBLAS error ") + std::to_string(static_cast<int>(s)) + " in " + what +
                           " at " + file + ":" + std::to_string(line));
}

}  // namespace dsv3::model::cuda

#define DSV3_CUDA_CHECK(expr)                                                              \
  do {                                                                                     \
    cudaError_t dsv3_err_ = (expr);                                                        \
    if (dsv3_err_ != cudaSuccess) ::dsv3::model::cuda::throw_cuda(dsv3_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define DSV3_CUBLAS_CHECK(expr)                                                                 \
  do {                                                                                          \
    cublasStatus_t dsv3_st_ = (expr);                                                           \
    if (dsv3_st_ != CUBLAS_STATUS_SUCCESS) ::dsv3::model::cuda::throw_cublas(dsv3_st_, #expr, __FILE__, __LINE__); \
  } while (0)
