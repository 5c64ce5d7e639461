// Op time model and calibration: wave quantization, roofline, derived efficiencies, by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/calibration.hpp"
#include "sim/hardware.hpp"
#include "sim/op_time.hpp"

using namespace dsv3::sim;

TEST(OpTime, WaveQuantization) {
  // 4096 x 2112 with 128 x 128 tiles: 32 x 17 = 544 tiles; on 132 SMs 5 waves = 660 slots.
  EXPECT_DOUBLE_EQ(gemm_tiles(1, 4096, 2112, 128, 128), 544);
  EXPECT_DOUBLE_EQ(wave_efficiency(544, 132), 544.0 / 660.0);
  EXPECT_DOUBLE_EQ(wave_efficiency(132, 132), 1.0);
  EXPECT_DOUBLE_EQ(wave_efficiency(133, 132), 133.0 / 264.0);
  EXPECT_DOUBLE_EQ(gemm_tiles(4, 8192, 4096, 128, 128), 4.0 * 64 * 32);
}

TEST(OpTime, CalibrationDerivesEfficiencyFromPublishedPoints) {
  Calibration c = load_calibration("h800");
  ASSERT_FALSE(c.fp8_points.empty());
  const GemmPoint& p = c.fp8_points[0];  // 4096 x 2112 x 7168 at 1127 TFLOPS
  EXPECT_EQ(p.n, 2112);
  EXPECT_NEAR(p.efficiency, 1127.0 / (1978.9 * 544.0 / 660.0), 1e-9);
  // Interpolation in log2(k): between the averaged points at k=2048 and k=7168.
  double e2048 = c.fp8_efficiency(2048), e7168 = c.fp8_efficiency(7168);
  double mid = c.fp8_efficiency(static_cast<int64_t>(std::sqrt(2048.0 * 7168.0)));
  EXPECT_NEAR(mid, 0.5 * (e2048 + e7168), 1e-3);
  EXPECT_EQ(c.fp8_efficiency(100), c.fp8_efficiency(512));  // flat below the table
  // BF16 reproduces the H200 cuBLASLt measurement at its shape (825 TFLOPS of 989.4).
  double wave = wave_efficiency(gemm_tiles(1, 4096, 7168, 128, 128), 132);
  EXPECT_NEAR(c.bf16_efficiency(16384) * 989.4 * wave, 825.0, 1e-6);
  // Attention: causal FLOPs of one 4096-token sequence / 1.24 ms on 112 SMs.
  double flops = 2.0 * 128 * 320 * 4096.0 * 4097 / 2;
  EXPECT_NEAR(c.attn_fwd_efficiency, flops / 1.24e-3 / (989.4e12 * 112 / 132), 1e-9);
  EXPECT_NEAR(c.attn_bwd_efficiency, 2 * flops / 4.25e-3 / (989.4e12 * 112 / 132), 1e-9);
}

TEST(OpTime, GemmIsMaxOfComputeAndMemory) {
  HardwareProfile hw = load_hardware("h800");
  Calibration cal = load_calibration("h800");
  ComputeModel cm{&hw, &cal, 112, 1.0};
  GemmTime t = gemm_time(cm, 1, 4096, 7168, 16384, Precision::FP8);
  double tiles = 32.0 * 56;
  double wave = wave_efficiency(tiles, 112);
  double compute = 2.0 * 4096 * 7168 * 16384 / (1978.9e12 / 132 * 112 * wave * cal.fp8_efficiency(16384));
  EXPECT_NEAR(t.compute_s, compute, 1e-12);
  EXPECT_NEAR(t.memory_s, (4096.0 * 16384 + 16384.0 * 7168 + 2.0 * 4096 * 7168) / (3.35e12 * 0.896), 1e-12);
  EXPECT_DOUBLE_EQ(t.seconds, std::max(t.compute_s, t.memory_s));
  // A skinny GEMM is memory-bound.
  GemmTime s = gemm_time(cm, 1, 8, 7168, 16384, Precision::FP8);
  EXPECT_DOUBLE_EQ(s.seconds, s.memory_s);
  // BF16 at the same shape takes longer than FP8.
  EXPECT_GT(gemm_time(cm, 1, 4096, 7168, 16384, Precision::BF16).seconds, 1.5 * t.seconds);
  // The in-situ factor scales the time.
  ComputeModel slow{&hw, &cal, 112, 1.5};
  EXPECT_NEAR(gemm_time(slow, 1, 4096, 7168, 16384, Precision::FP8).seconds, 1.5 * t.seconds, 1e-12);
  EXPECT_NEAR(memory_time(cm, 3.35e9), 1e-3 / 0.896, 1e-12);
}

TEST(OpTime, EveryBundledHardwareProfileLoadsWithSources) {
  auto ids = bundled_hardware();
  for (const char* want : {"h800", "h100", "h200", "h20", "a100", "b200"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), want), ids.end()) << want;
  for (auto& id : ids) {
    HardwareProfile h = load_hardware(id);
    for (auto& [name, v] : h.fields()) EXPECT_FALSE(v->source.empty()) << id << " " << name;
  }
}
