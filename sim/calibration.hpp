#pragma once
// Calibration tables (sim/calibration/*.yaml): the measured kernel speeds that turn FLOPs and
// bytes into seconds, each with its source. Efficiencies are derived from the raw published
// measurements when the table is loaded (never typed in by hand), and printed with results.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/yaml_fields.hpp"

namespace dsv3::sim {

// One published GEMM measurement: `groups` GEMMs of m x n x k (grouped contiguous layout when
// groups > 1) at `tflops`. `efficiency` is derived: tflops / (peak x wave-quantization efficiency).
struct GemmPoint {
  int64_t groups = 1, m = 0, n = 0, k = 0;
  double tflops = 0;
  double wave_efficiency = 0;  // derived
  double efficiency = 0;       // derived
};

// A constant as printed with the results.
struct CalibConstant {
  std::string name;
  double value = 0;
  std::string unit;
  std::string source;
};

struct Calibration {
  std::string id, file, name;

  // GEMM tiling used for wave quantization.
  Sourced tile_m, tile_n;
  // FP8 (1x128 / 128x128 block-scaled) GEMM measurements and the hardware they ran on.
  std::string fp8_source;
  Sourced fp8_points_peak_tflops;
  Sourced fp8_points_sms;
  std::vector<GemmPoint> fp8_points;
  // BF16 relative to FP8 at one shape: a BF16 measurement (with its peak) and the FP8 point of the
  // table at the same shape. bf16 efficiency(K) = fp8 efficiency(K) x bf16_over_fp8.
  Sourced bf16_ref_m, bf16_ref_n, bf16_ref_k, bf16_ref_tflops, bf16_ref_peak_tflops;
  std::string bf16_ref_hardware;
  double bf16_over_fp8 = 0;  // derived
  // Attention core (FlashAttention-style, BF16), measured in training: forward and backward time
  // for `attn_tokens` query tokens of one causal sequence, on `attn_sms` SMs.
  Sourced attn_fwd_ms, attn_bwd_ms, attn_seq_len, attn_heads, attn_qk_dim, attn_v_dim, attn_sms, attn_peak_tflops;
  double attn_fwd_efficiency = 0, attn_bwd_efficiency = 0;  // derived, fraction of the BF16 per-SM peak
  // Memory-bound kernels: achieved fraction of the HBM bandwidth.
  Sourced hbm_efficiency;
  // Per-message network latency added to each all-to-all and collective step.
  Sourced net_latency_us;
  // In-situ compute: compute-stream busy time of one overlapped forward+backward MoE-layer pair
  // measured in training, with the workload it ran. The slowdown factor against the isolated
  // kernel model is derived by the step model (sim/step_time.cpp).
  bool in_situ = false;
  Sourced in_situ_busy_ms_per_layer_pair, in_situ_tokens, in_situ_ep, in_situ_comm_sms;
  std::string in_situ_hardware;
  // Bytes per GPU reserved outside the model (CUDA context, communication buffers, allocator).
  Sourced runtime_reserve_gib;

  // FP8 GEMM efficiency (fraction of peak after wave quantization) for inner dimension k:
  // piecewise linear in log2(k) over the measured points, flat outside them.
  double fp8_efficiency(int64_t k) const;
  double bf16_efficiency(int64_t k) const;
  std::vector<CalibConstant> constants() const;
};

// Loads a table by id ("h800": sim/calibration/h800.yaml) or path.
Calibration load_calibration(const std::string& id_or_path);
Calibration parse_calibration(const YAML::Node& node, const std::string& file, const std::string& id);

// Fraction of the SMs doing useful work when `tiles` equal tiles run in waves over `sms` SMs.
double wave_efficiency(double tiles, double sms);
// Tiles of a (grouped) GEMM with m rows per group and n output columns.
double gemm_tiles(int64_t groups, double m, int64_t n, double tile_m, double tile_n);

}  // namespace dsv3::sim
