#include "model/cuda/argmax.hpp"

#include "model/cuda/cuda_check.hpp"
#include "model/cuda/pdl.cuh"

namespace dsv3::model::cuda {
namespace {

constexpr int kThreads = 1024;

// (value, index) with the larger value winning and, on equal values, the lower index.
__device__ inline void better(float& v, int32_t& i, float ov, int32_t oi) {
  if (ov > v || (ov == v && oi < i)) {
    v = ov;
    i = oi;
  }
}

__global__ void __launch_bounds__(kThreads) argmax_kernel(const float* __restrict__ logits, int64_t vocab,
                                                          int32_t* __restrict__ out) {
  pdl_trigger();
  pdl_wait();
  const float* row = logits + static_cast<int64_t>(blockIdx.x) * vocab;
  float v = -__int_as_float(0x7f800000);  // -inf
  int32_t idx = 0x7fffffff;
  for (int64_t i = threadIdx.x; i < vocab; i += kThreads) better(v, idx, row[i], static_cast<int32_t>(i));
  for (int off = 16; off > 0; off /= 2)
    better(v, idx, __shfl_xor_sync(0xffffffffu, v, off), __shfl_xor_sync(0xffffffffu, idx, off));
  __shared__ float sv[kThreads / 32];
  __shared__ int32_t si[kThreads / 32];
  if (threadIdx.x % 32 == 0) {
    sv[threadIdx.x / 32] = v;
    si[threadIdx.x / 32] = idx;
  }
  __syncthreads();
  if (threadIdx.x < 32) {
    v = sv[threadIdx.x];
    idx = si[threadIdx.x];
    for (int off = 16; off > 0; off /= 2)
      better(v, idx, __shfl_xor_sync(0xffffffffu, v, off), __shfl_xor_sync(0xffffffffu, idx, off));
    if (threadIdx.x == 0) out[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;
  }
}

}  // namespace

void argmax_rows(const float* logits, int64_t rows, int64_t vocab, int32_t* out, cudaStream_t stream) {
  if (rows == 0) return;
  launch_pdl(argmax_kernel, dim3(static_cast<unsigned>(rows)), dim3(kThreads), 0, stream, logits, vocab, out);
  DSV3_CUDA_CHECK(cudaGetLastError());
}

}  // namespace dsv3::model::cuda
