#pragma once
// Model cost per op, derived from the config.json shapes only: parameters, forward FLOPs,
// backward FLOPs split into input-gradient (B) and weight-gradient (W), HBM bytes of the
// memory-bound ops and activation bytes cached for backward. All per token, for a training
// sequence of length seq_len. Causal attention is counted as causal (query i attends to
// i+1 keys); the non-causal count is kept beside it. The MTP module is listed separately
// and is never part of the main-model totals.
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.hpp"

namespace dsv3::sim {

enum class OpKind {
  Gemm,         // a linear layer: timed by shape and precision (FP8 eligible)
  ExpertGemm,   // routed-expert linear layer: grouped GEMM over the local experts
  BaseGemm,     // kept in BF16/FP32 in FP8 training (router, head, MTP eh_proj)
  Attention,    // the attention core (softmax(QK^T)V), BF16, timed by FLOPs and bytes
  Memory,       // memory-bound op (norms, activations, residual, permute, loss, lookup)
};

const char* to_string(OpKind k);

struct OpCost {
  std::string name;   // e.g. "attn.q_b_proj"
  OpKind kind = OpKind::Memory;
  // Parameters owned by the op, and parameters used by one token.
  double params = 0, active_params = 0;
  // FLOPs per token: forward, backward input-gradient (B) and weight-gradient (W).
  double fwd_flops = 0, bwd_b_flops = 0, bwd_w_flops = 0;
  double fwd_flops_noncausal = 0;  // attention core only: every query sees every key
  // GEMM shape per token row: output features N, input features K; rows per token
  // (top-k for routed experts). Weight params = n*k.
  int64_t n = 0, k = 0;
  double rows_per_token = 1;
  bool recompute = false;  // forward recomputed in backward (MLA up-projections, norms)
  // Memory-bound ops: HBM bytes per token, forward and backward (BF16 activations).
  double fwd_bytes = 0, bwd_bytes = 0;
  // Activation bytes per token cached for backward, in BF16 training and in FP8 training.
  double act_bytes_bf16 = 0, act_bytes_fp8 = 0;
};

// One pipeline slot: the embedding, a decoder layer, the MTP module or the output head.
struct SlotCost {
  std::string name;  // "embedding", "layer.0", "mtp.0", "head"
  std::string kind;  // "embedding", "dense", "moe", "mtp", "head"
  bool moe = false;  // has routed experts (needs all-to-all)
  std::vector<OpCost> ops;
  double params() const;
  double active_params() const;
  double fwd_flops() const;
  double bwd_flops() const;
};

struct ModelTotals {
  double total_params = 0;                 // main model (embedding + layers + norm + head), no MTP
  double mtp_params = 0;                   // MTP module, excluding the shared embedding and head
  double activated_params = 0;             // per token, main model, embedding and head included
  double activated_params_no_embedding = 0;  // minus the embedding table (a lookup)
  double kv_cache_bytes_per_token = 0;     // BF16 MLA latent + rope key, all layers
  double train_flops_per_token = 0;        // main model, causal attention, fwd + bwd
  double train_flops_per_token_noncausal = 0;
  double train_flops_per_token_mtp = 0;    // the MTP module's share (not in the figures above)
  double fwd_flops_per_token = 0;
};

struct ModelCost {
  int64_t seq_len = 0;
  std::vector<SlotCost> slots;  // embedding, layer.0 .. layer.L-1, mtp.* (if included), head
  ModelTotals totals;
};

// Builds the per-op cost of the model at this sequence length. include_mtp adds the MTP
// module(s) (num_nextn_predict_layers) as slots before the head.
ModelCost model_cost(const model::ModelConfig& cfg, int64_t seq_len, bool include_mtp);

// Attention-core FLOPs per token, forward (2 GEMMs: QK^T and PV), causal or not.
double attention_fwd_flops_per_token(const model::ModelConfig& cfg, int64_t seq_len, bool causal);

}  // namespace dsv3::sim
