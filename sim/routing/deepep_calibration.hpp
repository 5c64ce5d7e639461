#pragma once
// Reproduces DeepEP's published H800 tables with the link model: the same workloads as
// DeepEP's tests (tokens per GPU, hidden, experts, top-k, node groups), routed, turned into
// port loads (traffic.hpp), timed (link_model.hpp) and measured the way DeepEP measures them.
//
// DeepEP's tests time one rank's kernel; the comparison uses the average GPU's time (the
// layer time elsewhere uses the slowest GPU).
//
// DeepEP's test scores are i.i.d. |N(0,1)| + 1 and its gate keeps the top groups by their max,
// then the top-8 experts: choices that depend only on the order of the scores, so i.i.d.
// uniform scores give the same distribution of choices.
#include <string>
#include <vector>

#include "sim/routing/link_model.hpp"

namespace dsv3::sim::routing {

struct CalibrationRow {
  std::string kernel;   // "normal" or "low_latency"
  std::string op;       // "dispatch" or "combine"
  int ep = 0;
  std::string unit;     // "GB/s" (normal) or "us" (low latency)
  double published = 0, predicted = 0;
  std::string bottleneck;  // of the slowest GPU in the model
  std::string fitted;      // "fitted" when a constant was fitted to this row, else ""
  double error() const { return predicted / published - 1.0; }
};

struct DeepepTables {
  struct Normal { int ep; double dispatch_GBps, combine_GBps; };
  struct LowLatency { int ep; double dispatch_us, combine_us; };
  std::vector<Normal> normal;
  std::vector<LowLatency> low_latency;
  int normal_tokens = 4096, normal_hidden = 7168, normal_top_k = 8, normal_experts = 256, normal_max_groups = 4,
      normal_sms = 24;
  int ll_tokens = 128, ll_hidden = 7168, ll_top_k = 8, ll_experts = 288;
  static DeepepTables load(const std::string& path = "");
};

// Every row of both tables, published against predicted.
std::vector<CalibrationRow> reproduce_deepep(const LinkModel& m, const DeepepTables& t, uint64_t seed = 1);

// A Markdown table of the rows with their errors.
std::string calibration_table(const std::vector<CalibrationRow>& rows);

}  // namespace dsv3::sim::routing
