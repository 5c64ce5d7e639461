#pragma once
// A simulation scenario (sim/scenarios/*.yaml): model, hardware, precision, parallel plan and
// the training phases. Every key is documented in sim/scenarios/README.md; unknown keys are
// rejected with the file (or the --set flag) and the key. The same setter applies YAML keys and
// `--set key=value` overrides, so both accept exactly the same dotted keys.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/routing/routing_spec.hpp"

#include "sim/op_time.hpp"

namespace dsv3::sim {

enum class Schedule { DualPipe, OneFOneB, ZB1P };
const char* to_string(Schedule s);

struct ParallelPlan {
  int64_t pp = 1, ep = 1, tp = 1, cp = 1;
  int64_t zero = 1;             // ZeRO stage: 0 (none) or 1 (optimizer states sharded over DP)
  int64_t comm_sms = 0;         // SMs held by the all-to-all kernels
  Schedule schedule = Schedule::OneFOneB;
  int64_t micro_batch = 1;      // sequences per micro-batch
  int64_t dp = 0;               // 0: derived from hardware.gpus; else the cluster is PP x TP x CP x DP GPUs
};

// Per-phase overrides of the parallel plan.
struct PlanOverrides {
  std::optional<int64_t> pp, ep, tp, cp, micro_batch, comm_sms;
  std::optional<Schedule> schedule;
};

struct PhaseSpec {
  std::string name;
  int64_t seq_len = 0;
  int64_t global_batch = 0;       // sequences per step (after the ramp)
  double tokens = 0;              // token budget (or steps)
  int64_t steps = 0;
  int64_t ramp_from = 0;          // batch-size ramp: start batch (0 = no ramp)
  double ramp_tokens = 0;         // ... reaching global_batch after this many tokens
  PlanOverrides overrides;
  // A phase that is not simulated: its GPU-hours are given with their source.
  std::optional<double> given_gpu_hours;
  std::string source;
};

struct Scenario {
  std::string file;               // where it came from ("" for built-in)
  std::string name;
  std::string model_config;       // path of a config.json (or a folder holding one)
  bool mtp = true;                // simulate the MTP module(s) in the step
  std::string hardware = "h800";  // profile id or path
  int64_t gpus = 0;
  std::optional<double> usd_per_gpu_hour;  // overrides the profile's price
  std::string calibration = "h800";
  Precision precision = Precision::FP8;
  ParallelPlan parallel;
  bool dp_overlap_bubble = true;  // DP reduce-scatter/all-gather hidden in pipeline bubbles
  bool fp8_cache_weights = false; // keep FP8 copies of the weights (else re-cast per micro-batch)
  bool memory_check = true;       // a plan over the HBM capacity is an error
  bool recompute_full = false;    // activation checkpointing: keep layer inputs, recompute the forward
  std::vector<PhaseSpec> phases;
  // routing: token-level routing (sim/routing/routing_spec.hpp); absent = analytic balanced routing.
  bool routing_set = false;
  routing::RoutingSpec routing;
};

// Loads a scenario file. Relative paths inside it (model.config, hardware.profile,
// calibration) are resolved against the source tree.
Scenario load_scenario(const std::filesystem::path& path);
// The bundled DeepSeek-V3 pre-training scenario (sim/scenarios/deepseek-v3-h800.yaml).
std::filesystem::path default_scenario_path();

// Applies one dotted key (as in the YAML file) to the scenario. `origin` names the file or the
// --set flag in error messages. Throws dsv3::InputError for unknown keys and bad values.
void set_key(Scenario& s, const std::string& key, const std::string& value, const std::string& origin);
// Parses "key=value" (a --set argument) and applies it.
void apply_set(Scenario& s, const std::string& assignment);

// Every settable key with a one-line description (phases.<name>.<field> keys included as a pattern).
std::vector<std::pair<std::string, std::string>> scenario_keys();

}  // namespace dsv3::sim
