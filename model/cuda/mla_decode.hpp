#pragma once
// MLA decode attention over the compressed latent cache, with W_UK absorbed into the query and
// W_UV applied after (DeepSeek-V3 "absorb" path, FlashMLA's MQA form): every query head attends
// to one shared 576-wide KV head per token, [c_n (512) | RoPE(k_pe) (64)], and the value is the
// latent c_n itself (512).
//
// Cache: paged, blocks of 64 tokens, kv_cache[block][64][576] bf16; block_table[b][i] is the
// physical block of sequence b's tokens [64 i, 64 i + 64). seq_lens[b] tokens are valid; each
// sequence has its own length. Long contexts are split over the KV (n_splits partial softmaxes
// per sequence, merged by a second kernel).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace dsv3::model::cuda {

constexpr int kMlaKvDim = 576, kMlaLatent = 512, kMlaBlock = 64;

struct MlaDecodeArgs {
  const __nv_bfloat16* q = nullptr;  // [batch, heads, 576]: absorbed q_nope (512) | RoPE(q_pe) (64)
  const __nv_bfloat16* kv_cache = nullptr;
  const int32_t* block_table = nullptr;  // [batch, block_table_stride]
  int block_table_stride = 0;
  const int32_t* seq_lens = nullptr;  // [batch] (device)
  __nv_bfloat16* out = nullptr;       // [batch, heads, 512]
  int batch = 0, heads = 0;           // heads: a multiple of 16
  float softmax_scale = 0.f;
  int max_seq_len = 0;  // longest sequence (host), to size the split
  int n_splits = 0;     // 0: choose from the GPU size; fixed values keep CUDA graphs valid
};

// The split the kernel would use, and the fp32 scratch (bytes) it needs.
int mla_decode_splits(const MlaDecodeArgs& a);
size_t mla_decode_scratch_bytes(const MlaDecodeArgs& a);

void mla_decode(const MlaDecodeArgs& a, void* scratch, cudaStream_t stream);

}  // namespace dsv3::model::cuda
