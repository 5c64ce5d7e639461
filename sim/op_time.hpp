#pragma once
// Op time model: GEMMs by shape and precision (roofline + wave quantization over the SMs left
// to compute + the calibrated efficiency table), memory-bound ops by their bytes, the
// attention core by its FLOPs at the calibrated attention efficiency.
#include <cstdint>

#include "sim/calibration.hpp"
#include "sim/hardware.hpp"

namespace dsv3::sim {

enum class Precision { BF16, FP8 };
const char* to_string(Precision p);

// The compute side of one GPU as the op model sees it.
struct ComputeModel {
  const HardwareProfile* hw = nullptr;
  const Calibration* cal = nullptr;
  double sms = 132;             // SMs left to compute (total minus communication SMs)
  double in_situ_factor = 1.0;  // >= 1: isolated kernel time x factor = time in training
};

struct GemmTime {
  double seconds = 0;
  double compute_s = 0;      // at the calibrated efficiency
  double memory_s = 0;       // operand and result bytes at the achieved HBM bandwidth
  double wave_efficiency = 1;
  double efficiency = 1;     // calibrated kernel efficiency used
};

// `groups` GEMMs of m x n x k (m rows per group; grouped contiguous layout when groups > 1).
// FP8: 1-byte operands; BF16: 2-byte; output BF16.
GemmTime gemm_time(const ComputeModel& cm, int64_t groups, double m, int64_t n, int64_t k, Precision p);

// A memory-bound kernel moving `bytes` through HBM.
double memory_time(const ComputeModel& cm, double bytes);

// The attention core: forward or backward FLOPs (backward counted as 2x forward).
double attention_time(const ComputeModel& cm, double flops, bool backward);

}  // namespace dsv3::sim
