#include "sim/memory_model.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace dsv3::sim {

MemoryBreakdown memory_per_gpu(const ResolvedPlan& plan, const std::vector<ChunkCost>& stages, const Calibration& cal,
                               const HardwareProfile& hw, bool fp8_weight_copies, int64_t C) {
  MemoryBreakdown worst;
  worst.total = -1;
  const int64_t R = plan.par.pp;
  for (int64_t r = 0; r < R; ++r) {
    const auto& held = plan.rank_stages[static_cast<size_t>(r)];
    MemoryBreakdown m;
    m.rank = static_cast<int>(r);
    double pd = 0, pe = 0, p8 = 0, act = 0;
    for (int st : held) {
      const ChunkCost& c = stages[static_cast<size_t>(st)];
      pd += c.params_dense;
      pe += c.params_expert;
      p8 += c.params_fp8;
      act += c.act_bytes;
    }
    double params = pd + pe;
    m.weights = 2.0 * params;
    m.grads = 4.0 * params;
    double dshard = plan.par.zero >= 1 ? static_cast<double>(plan.weight_replicas) : 1.0;
    double eshard = plan.par.zero >= 1 ? static_cast<double>(plan.edp) : 1.0;
    m.optimizer = 8.0 * (pd / dshard + pe / eshard);
    m.fp8_weights = fp8_weight_copies ? 2.0 * p8 : 0.0;
    if (plan.par.schedule == Schedule::DualPipe) {
      m.inflight_chunks = std::min<double>(static_cast<double>(R + 1), static_cast<double>(C));
      m.activations = m.inflight_chunks * act / static_cast<double>(held.size());
    } else {
      m.inflight_chunks = std::min<double>(static_cast<double>(R - r), static_cast<double>(C));
      m.activations = m.inflight_chunks * act;
    }
    m.reserve = cal.runtime_reserve_gib.value * 1073741824.0;
    m.total = m.weights + m.grads + m.optimizer + m.fp8_weights + m.activations + m.reserve;
    m.capacity = hw.hbm_bytes.value;
    if (m.total > worst.total) worst = m;
  }
  return worst;
}

std::string describe(const MemoryBreakdown& m, const HardwareProfile& hw) {
  constexpr double G = 1073741824.0;
  return fmt::format(
      "{:.1f} GiB per GPU on pipeline rank {} (weights {:.1f}, gradients {:.1f}, optimizer {:.1f}, FP8 weight copies {:.1f}, "
      "activations {:.1f} for {:.0f} micro-batch chunks in flight, reserve {:.1f}) vs {:.1f} GiB on the {}",
      m.total / G, m.rank, m.weights / G, m.grads / G, m.optimizer / G, m.fp8_weights / G, m.activations / G,
      m.inflight_chunks, m.reserve / G, m.capacity / G, hw.name);
}

}  // namespace dsv3::sim
