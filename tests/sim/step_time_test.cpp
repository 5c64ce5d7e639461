// Pipeline schedules: own work and TR Table 2 bubbles with hand-made chunk times.
#include <gtest/gtest.h>

#include "sim/hardware.hpp"
#include "sim/step_time.hpp"

using namespace dsv3::sim;

namespace {

struct Fixture {
  HardwareProfile hw = load_hardware("h800");
  Calibration cal = load_calibration("h800");
  ComputeModel cm{&hw, &cal, 112, 1.0};
  ResolvedPlan plan;
  std::vector<ChunkCost> stages;
  StepInputs in;
  Fixture(Schedule s, int64_t pp, double F, double B, double W, double comm = 0) {
    plan.par.pp = pp;
    plan.par.schedule = s;
    plan.dp = 1;
    plan.edp = 1;
    plan.weight_replicas = 1;
    plan.rank_stages.resize(static_cast<size_t>(pp));
    for (int64_t r = 0; r < pp; ++r) {
      plan.rank_stages[static_cast<size_t>(r)].push_back(static_cast<int>(r));
      if (s == Schedule::DualPipe) plan.rank_stages[static_cast<size_t>(r)].push_back(static_cast<int>(pp - 1 - r));
    }
    ChunkCost c;
    c.F = F;
    c.B = B;
    c.W = W;
    c.comm_F = comm;
    c.comm_B = comm;
    stages.assign(static_cast<size_t>(pp), c);
    in.plan = &plan;
    in.stages = &stages;
    in.ib_bytes_per_s = 40e9;
    in.cm = &cm;
  }
};

}  // namespace

TEST(StepTime, OneFOneBBubbleIsPpMinusOneTimesFPlusB) {
  Fixture f(Schedule::OneFOneB, 4, 1.0, 2.0, 0.5);
  StepResult s = step_time(f.in, 8);
  EXPECT_DOUBLE_EQ(s.own_work_s, 8 * (1.0 + 2.5));
  EXPECT_DOUBLE_EQ(s.bubble_s, 3 * (1.0 + 2.5));  // B is the full backward (B + W)
  EXPECT_DOUBLE_EQ(s.compute_s, 8 * 3.5);
  EXPECT_DOUBLE_EQ(s.total_s, s.own_work_s + s.bubble_s);  // no params: no DP or optimizer time
}

TEST(StepTime, Zb1pBubbleSubtractsTwoW) {
  Fixture f(Schedule::ZB1P, 4, 1.0, 2.0, 0.5);
  StepResult s = step_time(f.in, 8);
  EXPECT_DOUBLE_EQ(s.bubble_s, 3 * (1.0 + 2.5 - 2 * 0.5));
}

TEST(StepTime, DualPipeOverlapsCommunicationAndUsesTableTwoBubble) {
  // No communication: every chunk costs its compute; own work is C x (F + B + W).
  Fixture f(Schedule::DualPipe, 8, 1.0, 2.0, 0.5);
  StepResult s = step_time(f.in, 20);
  EXPECT_NEAR(s.own_work_s, 20 * 3.5, 1e-9);
  double fb = 1.0 + 2.0 + 0.5;  // F&B of two overlapped chunks
  EXPECT_NEAR(s.bubble_s, (8 / 2 - 1) * (fb + 2.5 - 3 * 0.5), 1e-9);
  // Rank 0 (h = 0): 3R/2 - 1 forward chunks run alone, the rest in F&B pairs.
  EXPECT_EQ(s.overlapped_pairs, 20 - (3 * 8 / 2 - 1));

  // With communication smaller than compute, pairs hide it; alone chunks expose it.
  Fixture g(Schedule::DualPipe, 8, 1.0, 2.0, 0.5, 0.4);
  StepResult t = step_time(g.in, 20);
  double exposed = (3 * 8 / 2 - 1) * 0.4 /*alone F*/ + (3 * 8 / 2 - 1) * 0.4 /*alone B*/;
  EXPECT_NEAR(t.exposed_comm_s, exposed, 1e-9);
  EXPECT_NEAR(t.own_work_s, 20 * 3.5 + exposed, 1e-9);
}

TEST(StepTime, DualPipeBubbleIsSmallerThanOneFOneB) {
  Fixture d(Schedule::DualPipe, 16, 1.0, 2.0, 0.5);
  Fixture o(Schedule::OneFOneB, 16, 1.0, 2.0, 0.5);
  EXPECT_LT(step_time(d.in, 64).bubble_s, step_time(o.in, 64).bubble_s);
}
