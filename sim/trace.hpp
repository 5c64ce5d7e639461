#pragma once
// One simulated training step as a Chrome trace (the JSON that Perfetto and chrome://tracing open;
// the same event shape as DeepSeek's profile-data traces): the slowest pipeline rank of the first
// simulated phase, at its full batch.
//
// Tracks of process 1:
// - "compute": the rank's chunks in schedule order (StepResult::schedule: forward, backward,
//   weight-gradient chunks and DualPipe's overlapped forward&backward pairs), each holding its
//   ops (ChunkCost::ops, summed over the stage's layers) back to back; then the pipeline bubble
//   as one idle span (in a real step it is spread over warm-up and cool-down);
// - "communication": the chunks' all-to-all (dispatch + combine) and tensor-parallel all-reduces,
//   under the compute they overlap (pairs) or after it (exposed, alone chunks);
// - "data parallel + optimizer": the exposed DP gradient/parameter traffic and the AdamW step.
// The chunks, bubble, DP and optimizer spans add up to the step time the simulator reports.
#include <nlohmann/json.hpp>

#include "sim/simulate.hpp"

namespace dsv3::sim {

nlohmann::json chrome_trace(const SimResult& r);

}  // namespace dsv3::sim
