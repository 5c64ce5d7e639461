#pragma once
// Greedy choice on the device: the index of the largest logit of each row (ties to the lower
// index, as model/sampling.hpp's argmax), so that a greedy decode step copies token ids, not
// [rows, vocab] logits, to the host.
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

// out[r] = argmax_i logits[r * vocab + i], for r in [0, rows).
void argmax_rows(const float* logits, int64_t rows, int64_t vocab, int32_t* out, cudaStream_t stream);

}  // namespace dsv3::model::cuda
