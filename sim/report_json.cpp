#include <fmt/core.h>

#include <algorithm>

#include "sim/report.hpp"

namespace dsv3::sim {
namespace {

using nlohmann::json;

json plan_json(const ResolvedPlan& p) {
  return {{"pp", p.par.pp},           {"ep", p.par.ep},
          {"tp", p.par.tp},           {"cp", p.par.cp},
          {"dp", p.dp},               {"expert_dp", p.edp},
          {"zero", p.par.zero},       {"comm_sms", p.par.comm_sms},
          {"schedule", to_string(p.par.schedule)}, {"micro_batch", p.par.micro_batch},
          {"micro_batches", p.micro_batches}, {"tokens_per_microbatch_per_gpu", p.tokens_per_microbatch}};
}

}  // namespace

json to_json(const SimResult& r) {
  json j;
  const Scenario& s = r.scenario;
  const PhaseResult& pt = r.phases[static_cast<size_t>(r.pretrain)];
  j["scenario"] = {{"name", s.name},
                   {"file", s.file},
                   {"model_config", r.model_source},
                   {"hardware", r.hw.id},
                   {"hardware_name", r.hw.name},
                   {"gpus", s.gpus},
                   {"precision", to_string(s.precision)},
                   {"mtp_in_step", s.mtp},
                   {"parallel", plan_json(pt.plan)}};
  const ModelTotals& t = r.totals;
  j["model"] = {{"total_params", t.total_params},
                {"activated_params", t.activated_params},
                {"activated_params_no_embedding", t.activated_params_no_embedding},
                {"mtp_params", t.mtp_params},
                {"kv_cache_bytes_per_token", t.kv_cache_bytes_per_token},
                {"train_flops_per_token", t.train_flops_per_token},
                {"train_flops_per_token_noncausal", t.train_flops_per_token_noncausal},
                {"train_flops_per_token_mtp", t.train_flops_per_token_mtp},
                {"flops_seq_len", r.totals_seq_len},
                {"flops_note", "main model (MTP excluded), causal attention counted as causal, fwd + bwd"}};
  const StepResult& st = pt.step;
  j["step"] = {{"time_s", st.total_s},
               {"tokens", pt.tokens_per_step},
               {"micro_batches", st.micro_batches},
               {"bottleneck_rank", st.bottleneck_rank},
               {"compute_s", st.compute_s},
               {"exposed_comm_s", st.exposed_comm_s},
               {"hidden_comm_s", st.hidden_comm_s},
               {"bubble_s", st.bubble_s},
               {"dp_comm_s", st.dp_comm_s},
               {"dp_exposed_s", st.dp_exposed_s},
               {"optimizer_s", st.optimizer_s},
               {"schedule_phases",
                {{"warmup_forward_s", st.warmup_f_s},
                 {"overlapped_f_and_b_s", st.overlapped_s},
                 {"overlapped_pairs", st.overlapped_pairs},
                 {"alone_backward_s", st.alone_b_s},
                 {"alone_weight_s", st.alone_w_s}}},
               {"chunk", {{"F_s", st.F}, {"B_s", st.B}, {"W_s", st.W}, {"F_and_B_s", st.FB}}}};
  j["throughput"] = {{"tokens_per_day", r.tokens_per_day},
                     {"tflops_per_gpu", r.tflops_per_gpu},
                     {"tflops_per_gpu_noncausal", r.tflops_per_gpu_noncausal},
                     {"mfu_bf16", r.mfu_bf16},
                     {"mfu_bf16_noncausal", r.mfu_bf16_noncausal}};
  j["cost"] = {{"usd_per_gpu_hour", r.usd_per_gpu_hour},
               {"gpu_hours_per_trillion_tokens", r.gpu_hours_per_trillion_tokens},
               {"pretrain_gpu_hours", r.pretrain_gpu_hours},
               {"pretrain_days", r.pretrain_days},
               {"total_gpu_hours", r.total_gpu_hours},
               {"total_usd", r.total_usd},
               {"total_days", r.total_days}};
  const MemoryBreakdown& m = pt.memory;
  j["memory"] = {{"per_gpu_bytes", m.total},       {"capacity_bytes", m.capacity}, {"fits", m.fits()},
                 {"rank", m.rank},                 {"weights_bytes", m.weights},   {"grads_bytes", m.grads},
                 {"optimizer_bytes", m.optimizer}, {"fp8_weights_bytes", m.fp8_weights},
                 {"activations_bytes", m.activations}, {"inflight_chunks", m.inflight_chunks},
                 {"reserve_bytes", m.reserve}};
  json phases = json::array();
  for (auto& p : r.phases) {
    json pj = {{"name", p.name},   {"simulated", p.simulated}, {"days", p.days},
               {"gpu_hours", p.gpu_hours}, {"usd", p.usd}};
    if (p.simulated) {
      pj.update({{"seq_len", p.seq_len},
                 {"global_batch", p.global_batch},
                 {"tokens", p.tokens},
                 {"steps", p.steps},
                 {"ramp_steps", p.ramp_steps},
                 {"step_time_s", p.step.total_s},
                 {"tflops_per_gpu", p.tflops_per_gpu},
                 {"mfu_bf16", p.mfu},
                 {"memory_per_gpu_bytes", p.memory.total},
                 {"parallel", plan_json(p.plan)}});
    } else {
      pj["source"] = p.source;
    }
    phases.push_back(pj);
  }
  j["phases"] = phases;
  // Per-op time of one micro-batch on the slowest rank (its stages together).
  json ops = json::array();
  std::vector<OpStepTime> merged;
  for (int stg : pt.plan.rank_stages[static_cast<size_t>(st.bottleneck_rank)])
    for (auto& o : pt.stages[static_cast<size_t>(stg)].ops) {
      auto it = std::find_if(merged.begin(), merged.end(), [&](auto& x) { return x.name == o.name; });
      if (it == merged.end())
        merged.push_back(o);
      else {
        it->fwd_s += o.fwd_s;
        it->bwd_b_s += o.bwd_b_s;
        it->bwd_w_s += o.bwd_w_s;
        it->flops += o.flops;
      }
    }
  for (auto& o : merged)
    ops.push_back({{"name", o.name}, {"kind", o.kind}, {"fwd_s", o.fwd_s}, {"bwd_b_s", o.bwd_b_s}, {"bwd_w_s", o.bwd_w_s},
                   {"flops", o.flops}});
  j["ops"] = ops;
  double disp = 0, comb = 0;
  for (auto& c : pt.stages)
    if (c.moe_layers > 0) {
      disp = c.dispatch_s;
      comb = c.combine_s;
    }
  j["moe"] = {{"routing", pt.traffic.source},
              {"dispatch_s_per_layer", disp},
              {"combine_s_per_layer", comb},
              {"local_experts", pt.traffic.local_experts}};
  if (pt.routing) {
    // Token-level routing (sim/routing): the imbalance and what it costs against balanced routing.
    const auto& rr = *pt.routing;
    const auto& L = rr.layers[static_cast<size_t>(pt.routing_layer)];
    double extra_gpu_hours = 0;
    for (auto& p : r.phases)
      if (p.routing) extra_gpu_hours += p.gpu_hours - p.balanced_gpu_hours;
    json layers = json::array();
    for (auto& x : rr.layers)
      layers.push_back({{"layer", x.layer}, {"imbalance", x.imbalance}, {"expert_max_vio", x.max_vio_experts},
                        {"max_nodes_per_token", x.max_nodes_per_token}});
    j["routing"] = {{"model", rr.routing},
                    {"ep", rr.ep},
                    {"tokens_per_gpu_routed", rr.tokens_per_gpu},
                    {"slots_per_gpu", rr.slots_per_gpu},
                    {"imbalance", rr.mean_imbalance},
                    {"imbalance_of_timed_layer", L.imbalance},
                    {"timed_layer", L.layer},
                    {"layers", layers},
                    {"step_time_s", pt.step.total_s},
                    {"step_time_balanced_s", pt.balanced_step_s},
                    {"extra_step_s", pt.step.total_s - pt.balanced_step_s},
                    {"extra_step_fraction", pt.step.total_s / pt.balanced_step_s - 1},
                    {"pretrain_gpu_hours_balanced", pt.balanced_gpu_hours},
                    {"extra_pretrain_gpu_hours", pt.gpu_hours - pt.balanced_gpu_hours},
                    {"extra_total_gpu_hours", extra_gpu_hours}};
  }
  json cal = json::array();
  for (auto& c : r.constants()) cal.push_back({{"name", c.name}, {"value", c.value}, {"unit", c.unit}, {"source", c.source}});
  j["calibration"] = cal;
  j["notes"] = r.notes;
  return j;
}

namespace {

std::vector<std::pair<std::string, double>> summary_metrics(const SimResult& r) {
  const PhaseResult& pt = r.phases[static_cast<size_t>(r.pretrain)];
  return {{"step_time_s", r.step_time_s},
          {"tokens_per_day", r.tokens_per_day},
          {"tflops_per_gpu", r.tflops_per_gpu},
          {"mfu_bf16", r.mfu_bf16},
          {"gpu_hours_per_trillion_tokens", r.gpu_hours_per_trillion_tokens},
          {"pretrain_gpu_hours", r.pretrain_gpu_hours},
          {"pretrain_days", r.pretrain_days},
          {"total_gpu_hours", r.total_gpu_hours},
          {"total_usd", r.total_usd},
          {"memory_per_gpu_gib", pt.memory.total / 1073741824.0}};
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

std::string to_csv(const SimResult& r) {
  std::vector<SweepPoint> one(1);
  one[0].result = r;
  return sweep_csv(one);
}

json sweep_json(const std::vector<SweepPoint>& points) {
  json arr = json::array();
  for (auto& p : points) {
    json pj;
    json set = json::object();
    for (auto& [k, v] : p.set) set[k] = v;
    pj["set"] = set;
    if (p.result) {
      pj["result"] = to_json(*p.result);
    } else {
      pj["error"] = p.error;
    }
    arr.push_back(pj);
  }
  return {{"points", arr}};
}

std::string sweep_csv(const std::vector<SweepPoint>& points) {
  std::string out;
  std::vector<std::string> keys;
  if (!points.empty())
    for (auto& [k, v] : points[0].set) keys.push_back(k);
  static const std::vector<std::string> names = {"step_time_s",      "tokens_per_day", "tflops_per_gpu", "mfu_bf16",
                                                 "gpu_hours_per_trillion_tokens", "pretrain_gpu_hours", "pretrain_days",
                                                 "total_gpu_hours",  "total_usd",      "memory_per_gpu_gib"};
  for (auto& k : keys) out += csv_escape(k) + ",";
  for (auto& n : names) out += n + ",";
  out += "error\n";
  for (auto& p : points) {
    for (auto& [k, v] : p.set) out += csv_escape(v) + ",";
    if (p.result) {
      for (auto& [k, v] : summary_metrics(*p.result)) out += fmt::format("{:.6g},", v);
      out += "\n";
    } else {
      for (size_t i = 0; i < names.size(); ++i) out += ",";
      out += csv_escape(p.error) + "\n";
    }
  }
  return out;
}

}  // namespace dsv3::sim
