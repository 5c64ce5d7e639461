#pragma once
// The article's claims checked against what dsv3 computes and against the primary sources.
// The computed side is a plain struct: model values come from a ModelConfig here
// (model_values), simulator values are filled by the caller (the CLI, from `dsv3 simulate`
// output), eval values from run files. Claim texts and primary values are data
// (reports/claims/*.yaml, reports/published/*.yaml).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/config.hpp"
#include "reports/published_scores.hpp"
#include "reports/table.hpp"

namespace dsv3::reports {

// Values computed from a model config.
struct ModelValues {
  std::string config_source;
  double total_params = 0;            // main model, MTP module excluded
  double activated_params = 0;        // per token, embedding table and output head included
  double activated_params_no_embedding = 0;
  int64_t routed_experts = 0, shared_experts = 0, experts_per_token = 0, moe_layers = 0;
  int64_t kv_bytes_per_token = 0;     // MLA cache, BF16, all layers: (kv_lora_rank + rope dim) * layers * 2
  int64_t mha_kv_bytes_per_token = 0; // MHA of the same shape: heads * (qk_head_dim + v_head_dim) * layers * 2
  int64_t layers = 0;
  int64_t attention_heads = 0, k_head_dim = 0, v_head_dim = 0;
  std::string quantization;           // from quantization_config ("" when none)
};
ModelValues model_values(const model::ModelConfig& cfg);

// Values computed by the simulator (any may be absent when no simulation was given).
struct SimValues {
  std::string source;                    // where they came from (command or file)
  std::optional<double> total_gpu_hours, total_usd, pretrain_gpu_hours, usd_per_gpu_hour;
  std::string gpu;                       // hardware name of the scenario
  std::string precision;                 // GEMM precision of the scenario
};
// Reads the JSON printed by `dsv3 simulate --format json` (DESIGN.md contract: cost.*,
// plus optional scenario.hardware_name / scenario.precision). Throws InputError naming the file and field.
SimValues sim_values_from_json_file(const std::filesystem::path& file);

struct ClaimInputs {
  ModelValues model;
  SimValues sim;
  std::map<std::string, double> run_scores;  // benchmark -> percent, from eval runs (optional)
  std::string run_source;
};

struct ClaimRow {
  std::string claim;     // as written in the article
  std::string computed;  // what dsv3 computes
  std::string primary;   // the primary source's value, with the source
  std::string verdict;   // agrees / disagrees / ... with the reason
};

// Builds every row. `claims_dir` holds article.yaml and primary.yaml; `published` is the
// reference score set (for the benchmark table).
std::vector<ClaimRow> check_claims(const ClaimInputs& in, const std::filesystem::path& claims_dir,
                                   const std::vector<PublishedScore>& published);
std::filesystem::path default_claims_dir();  // <source tree>/reports/claims

Table claims_table(const std::vector<ClaimRow>& rows, const ClaimInputs& in);

}  // namespace dsv3::reports
