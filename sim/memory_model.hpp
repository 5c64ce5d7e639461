#pragma once
// Memory per GPU: BF16 weights, FP32 gradients, optimizer states (FP32 master + BF16 AdamW
// moments, TR §3.3.3) sharded over data parallelism with ZeRO-1, optional FP8 weight copies,
// activations of the micro-batches in flight (DualPipe: PP+1 chunks over its two stages; 1F1B
// and ZB1P: PP - rank), and a runtime reserve. Checked against the HBM capacity.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/calibration.hpp"
#include "sim/hardware.hpp"
#include "sim/plan.hpp"
#include "sim/step_time.hpp"

namespace dsv3::sim {

struct MemoryBreakdown {
  int rank = 0;
  double weights = 0, grads = 0, optimizer = 0, fp8_weights = 0, activations = 0, reserve = 0;
  double inflight_chunks = 0;   // micro-batch chunks whose activations are held at the peak
  double total = 0, capacity = 0;
  bool fits() const { return total <= capacity; }
};

MemoryBreakdown memory_per_gpu(const ResolvedPlan& plan, const std::vector<ChunkCost>& stages, const Calibration& cal,
                               const HardwareProfile& hw, bool fp8_weight_copies, int64_t micro_batches);

// One line naming the numbers, for the does-not-fit error.
std::string describe(const MemoryBreakdown& m, const HardwareProfile& hw);

}  // namespace dsv3::sim
