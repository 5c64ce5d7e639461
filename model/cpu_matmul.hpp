#pragma once
// y = x W^T for a projection in its stored dtype, FP32 compute (the CPU backend's one GEMM).
// Few rows (decode): each weight row is converted in registers and dotted with the inputs
// (AVX2+F16C+FMA when the CPU has them, chosen at run time; a portable loop otherwise).
// Many rows (prefill): tiles of weight rows are converted to FP32 and multiplied with Eigen.
// FP8 weights are dequantized on the fly with their 128x128 block scales (W8A32).
#include <cstdint>

#include "model/thread_pool.hpp"
#include "model/weights.hpp"

namespace dsv3::model {

// x: [n, W.in] row-major; y: [n, W.out] row-major. pool may be null (serial).
void matmul(const Linear& W, const float* x, int64_t n, float* y, ThreadPool* pool);

// True when the vectorised AVX2 kernels are in use on this CPU.
bool cpu_has_avx2_kernels();

}  // namespace dsv3::model
