#include "sim/op_time.hpp"

#include <algorithm>
#include <cmath>

namespace dsv3::sim {

const char* to_string(Precision p) { return p == Precision::FP8 ? "fp8" : "bf16"; }

GemmTime gemm_time(const ComputeModel& cm, int64_t groups, double m, int64_t n, int64_t k, Precision p) {
  GemmTime t;
  if (m <= 0 || n <= 0 || k <= 0 || groups <= 0) return t;
  const HardwareProfile& hw = *cm.hw;
  const Calibration& cal = *cm.cal;
  double peak = (p == Precision::FP8 ? hw.fp8_dense_tflops.value : hw.bf16_dense_tflops.value) * 1e12;
  double per_sm = peak / hw.sms.value;
  double tiles = gemm_tiles(groups, m, n, cal.tile_m.value, cal.tile_n.value);
  t.wave_efficiency = wave_efficiency(tiles, cm.sms);
  t.efficiency = p == Precision::FP8 ? cal.fp8_efficiency(k) : cal.bf16_efficiency(k);
  double flops = 2.0 * static_cast<double>(groups) * m * static_cast<double>(n) * static_cast<double>(k);
  t.compute_s = flops / (per_sm * cm.sms * t.wave_efficiency * t.efficiency);
  double ebytes = p == Precision::FP8 ? 1.0 : 2.0;
  double bytes = static_cast<double>(groups) *
                 (ebytes * (m * static_cast<double>(k) + static_cast<double>(k) * static_cast<double>(n)) +
                  2.0 * m * static_cast<double>(n));
  t.memory_s = bytes / (hw.hbm_tbps.value * 1e12 * cal.hbm_efficiency.value);
  t.seconds = std::max(t.compute_s, t.memory_s) * cm.in_situ_factor;
  return t;
}

double memory_time(const ComputeModel& cm, double bytes) {
  if (bytes <= 0) return 0;
  return bytes / (cm.hw->hbm_tbps.value * 1e12 * cm.cal->hbm_efficiency.value) * cm.in_situ_factor;
}

double attention_time(const ComputeModel& cm, double flops, bool backward) {
  if (flops <= 0) return 0;
  // The attention efficiency was measured in training (in situ): no extra factor.
  double per_sm = cm.hw->bf16_dense_tflops.value * 1e12 / cm.hw->sms.value;
  double eff = backward ? cm.cal->attn_bwd_efficiency : cm.cal->attn_fwd_efficiency;
  return flops / (per_sm * cm.sms * eff);
}

}  // namespace dsv3::sim
