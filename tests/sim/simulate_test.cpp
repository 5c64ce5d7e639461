// The whole simulation of the bundled scenario against the acceptance figures.
#include <gtest/gtest.h>

#include <cmath>

#include "model/errors.hpp"
#include "sim/simulate.hpp"

using namespace dsv3::sim;

namespace {
SimResult run(std::vector<std::string> sets = {}) {
  Scenario s = load_scenario(default_scenario_path());
  for (auto& a : sets) apply_set(s, a);
  return simulate(s);
}
const SimResult& base() {
  static SimResult r = run();
  return r;
}
}  // namespace

TEST(Simulate, PretrainGpuHoursWithin20PercentOfPublished) {
  // TR Table 1: 2664K H800 GPU-hours for pre-training.
  EXPECT_NEAR(base().pretrain_gpu_hours / 2.664e6, 1.0, 0.20) << base().pretrain_gpu_hours;
  EXPECT_GT(base().total_gpu_hours, base().pretrain_gpu_hours);
  EXPECT_NEAR(base().total_usd, base().total_gpu_hours * 2.0, 1.0);
}

TEST(Simulate, RollUpIsConsistent) {
  const SimResult& r = base();
  const PhaseResult& p = r.phases[0];
  EXPECT_DOUBLE_EQ(r.tokens_per_step, 15360.0 * 4096);
  EXPECT_NEAR(r.tokens_per_day, r.tokens_per_step / r.step_time_s * 86400, 1);
  EXPECT_NEAR(r.tflops_per_gpu, r.tokens_per_step / r.step_time_s * r.totals.train_flops_per_token / 2048 / 1e12, 1e-6);
  EXPECT_NEAR(r.mfu_bf16, r.tflops_per_gpu / 989.4, 1e-9);
  EXPECT_GT(r.mfu_bf16_noncausal, r.mfu_bf16);
  EXPECT_NEAR(p.gpu_hours, p.seconds * 2048 / 3600, 1e-3);
  // The ramp (3072 -> 15360 over 469B tokens) needs more steps than the same tokens at full batch.
  EXPECT_GT(p.ramp_steps, 469e9 / r.tokens_per_step);
  EXPECT_NEAR(p.steps, p.ramp_steps + (14.8e12 - 469e9) / r.tokens_per_step, 1e-3);
  // Context extension: 1000 steps each (TR §4.3); post-training given.
  EXPECT_DOUBLE_EQ(r.phases[1].steps, 1000);
  EXPECT_DOUBLE_EQ(r.phases[2].steps, 1000);
  EXPECT_FALSE(r.phases[3].simulated);
  EXPECT_DOUBLE_EQ(r.phases[3].gpu_hours, 5000);
  // Memory fits on the 80 GB H800.
  EXPECT_TRUE(p.memory.fits());
  // Every constant printed with a source.
  for (auto& c : r.constants()) EXPECT_FALSE(c.source.empty()) << c.name;
}

TEST(Simulate, Fp8IsFasterThanBf16AndTheBreakdownShowsWhy) {
  // Same plan; BF16 activations do not fit in 80 GB, so its memory check is off.
  SimResult bf16 = run({"precision=bf16", "memory.check=false"});
  EXPECT_LT(base().step_time_s, bf16.step_time_s);
  // GEMMs carry the difference: compare the linear layers' compute time of one micro-batch.
  auto gemm_time = [](const SimResult& r) {
    double t = 0;
    for (auto& c : r.phases[0].stages)
      for (auto& op : c.ops)
        if (op.kind == std::string("gemm") || op.kind == std::string("expert_gemm")) t += op.fwd_s + op.bwd_b_s + op.bwd_w_s;
    return t;
  };
  auto attn_time = [](const SimResult& r) {
    double t = 0;
    for (auto& c : r.phases[0].stages)
      for (auto& op : c.ops)
        if (op.kind == std::string("attention")) t += op.fwd_s + op.bwd_b_s;
    return t;
  };
  EXPECT_GT(gemm_time(bf16), 1.4 * gemm_time(base()));
  EXPECT_DOUBLE_EQ(attn_time(bf16), attn_time(base()));  // attention stays BF16 in both
  EXPECT_FALSE(bf16.phases[0].memory.fits());
  // Without the override, the BF16 plan is rejected with the numbers.
  try {
    run({"precision=bf16"});
    FAIL() << "expected a memory error";
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit in GPU memory"), std::string::npos) << e.what();
  }
}

TEST(Simulate, HalvingGpusRoughlyDoublesDays) {
  SimResult half = run({"hardware.gpus=1024"});
  double ratio = half.pretrain_days / base().pretrain_days;
  EXPECT_GT(ratio, 1.7);
  EXPECT_LT(ratio, 2.3);
  EXPECT_NEAR(half.pretrain_gpu_hours / base().pretrain_gpu_hours, 1.0, 0.15);
}

TEST(Simulate, DataParallelDegreeSetsTheClusterSize) {
  SimResult r = run({"parallel.dp=64"});
  EXPECT_EQ(r.scenario.gpus, 64 * 16);
  EXPECT_EQ(r.phases[0].plan.dp, 64);
  EXPECT_FALSE(r.notes.empty());
}

TEST(Simulate, ImpossiblePlansAreInputErrors) {
  for (const char* bad : {"parallel.ep=48", "parallel.pp=5", "parallel.pp=2", "parallel.tp=16", "hardware.gpus=1000"})
    EXPECT_THROW(run({bad}), dsv3::InputError) << bad;
}

TEST(Simulate, OtherHardwareAndSchedulesRun) {
  for (const char* hw : {"h100", "h200", "b200"}) {
    SimResult r = run({std::string("hardware.profile=") + hw});
    EXPECT_GT(r.step_time_s, 0) << hw;
  }
  SimResult h200 = run({"hardware.profile=h200"});
  EXPECT_LE(h200.step_time_s, base().step_time_s * 1.001);  // same compute, more HBM bandwidth
  SimResult f1b = run({"parallel.schedule=1f1b"});
  EXPECT_GT(f1b.step_time_s, base().step_time_s);  // no F&B overlap of the all-to-all
}
