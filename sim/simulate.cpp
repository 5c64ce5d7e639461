#include "sim/simulate.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "sim/routing/sim_traffic.hpp"

namespace dsv3::sim {
namespace {

// Loaded files and the in-situ derivation are reused across the points of a sweep.
struct Caches {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<model::ModelConfig>> configs;
  std::map<std::string, std::shared_ptr<HardwareProfile>> hardware;
  std::map<std::string, std::pair<std::shared_ptr<Calibration>, InSituDerivation>> calibrations;
};
Caches& caches() {
  static Caches c;
  return c;
}

std::shared_ptr<model::ModelConfig> config_for(const std::string& spec) {
  std::lock_guard<std::mutex> lock(caches().mu);
  auto& m = caches().configs;
  auto it = m.find(spec);
  if (it != m.end()) return it->second;
  std::filesystem::path p = spec;
  if (p.is_relative() && !std::filesystem::exists(p)) p = model::source_path(spec);
  auto cfg = std::make_shared<model::ModelConfig>(model::ModelConfig::load(p));
  m[spec] = cfg;
  return cfg;
}

std::shared_ptr<HardwareProfile> hardware_for(const std::string& id) {
  std::lock_guard<std::mutex> lock(caches().mu);
  auto& m = caches().hardware;
  auto it = m.find(id);
  if (it != m.end()) return it->second;
  auto h = std::make_shared<HardwareProfile>(load_hardware(id));
  m[id] = h;
  return h;
}

std::pair<std::shared_ptr<Calibration>, InSituDerivation> calibration_for(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(caches().mu);
    auto it = caches().calibrations.find(id);
    if (it != caches().calibrations.end()) return it->second;
  }
  auto c = std::make_shared<Calibration>(load_calibration(id));
  InSituDerivation d;
  if (c->in_situ) d = derive_in_situ(*c);
  std::lock_guard<std::mutex> lock(caches().mu);
  caches().calibrations[id] = {c, d};
  return {c, d};
}

// Step time as a function of the micro-batch count (the batch ramp changes it).
struct StepCache {
  StepInputs in;
  std::map<int64_t, StepResult> memo;
  const StepResult& at(int64_t C) {
    auto it = memo.find(C);
    if (it != memo.end()) return it->second;
    return memo.emplace(C, step_time(in, C)).first->second;
  }
};

}  // namespace

std::vector<CalibConstant> SimResult::constants() const {
  std::vector<CalibConstant> out;
  for (auto& [name, v] : hw.fields()) out.push_back({"hardware." + hw.id + "." + name, v->value, "", v->source});
  for (auto& c : cal.constants()) out.push_back(c);
  out.push_back({"in_situ.factor", in_situ.factor, "x isolated time",
                 cal.in_situ
                     ? fmt::format("derived: measured {:.2f} ms / predicted isolated {:.2f} ms for one DeepSeek-V3 MoE-layer "
                                   "F+B+W on the {} (attention {:.2f} ms excluded from both); applied to GEMM and memory-bound kernels",
                                   in_situ.measured_s * 1e3, in_situ.predicted_isolated_s * 1e3, cal.in_situ_hardware,
                                   in_situ.attention_s * 1e3)
                     : std::string("in_situ.use is false in the calibration table: isolated kernel speeds")});
  return out;
}

SimResult simulate(const Scenario& scenario_in) {
  SimResult res;
  Scenario s = scenario_in;
  if (s.parallel.dp > 0) {
    int64_t g = s.parallel.dp * s.parallel.pp * s.parallel.tp * s.parallel.cp;
    if (g != s.gpus)
      res.notes.push_back(fmt::format("parallel.dp={} sets the cluster to PP {} x TP {} x CP {} x DP {} = {} GPUs (hardware.gpus "
                                      "was {})",
                                      s.parallel.dp, s.parallel.pp, s.parallel.tp, s.parallel.cp, s.parallel.dp, g, s.gpus));
    s.gpus = g;
  }
  res.scenario = s;
  auto cfg = config_for(s.model_config);
  res.model_source = cfg->source;
  auto hw = hardware_for(s.hardware);
  res.hw = *hw;
  auto [cal, insitu] = calibration_for(s.calibration);
  res.cal = *cal;
  res.in_situ = insitu;
  res.usd_per_gpu_hour = s.usd_per_gpu_hour ? *s.usd_per_gpu_hour : hw->usd_per_gpu_hour.value;
  const std::string origin = s.file.empty() ? std::string("scenario") : s.file;
  if (s.phases.empty()) throw InputError(fmt::format("{}: key 'phases': the scenario lists no phase", origin));
  if (s.gpus < 1) throw InputError(fmt::format("{}: key 'hardware.gpus': missing", origin));

  std::map<int64_t, std::shared_ptr<ModelCost>> costs;
  for (size_t pi = 0; pi < s.phases.size(); ++pi) {
    const PhaseSpec& ph = s.phases[pi];
    PhaseResult pr;
    pr.name = ph.name;
    const std::string pk = fmt::format("phases.{}.", ph.name);
    if (ph.given_gpu_hours) {
      if (ph.source.empty())
        throw InputError(fmt::format("{}: key '{}source': a phase with given gpu_hours must name its source", origin, pk));
      pr.simulated = false;
      pr.source = ph.source;
      pr.gpu_hours = *ph.given_gpu_hours;
      pr.seconds = pr.gpu_hours * 3600.0 / static_cast<double>(s.gpus);
      pr.days = pr.seconds / 86400.0;
      pr.usd = pr.gpu_hours * res.usd_per_gpu_hour;
      res.phases.push_back(std::move(pr));
      continue;
    }
    if ((ph.tokens > 0) == (ph.steps > 0))
      throw InputError(fmt::format("{}: key '{}tokens': give exactly one of tokens or steps", origin, pk));
    auto& cost = costs[ph.seq_len];
    if (ph.seq_len < 1) throw InputError(fmt::format("{}: key '{}seq_len': missing", origin, pk));
    if (!cost) cost = std::make_shared<ModelCost>(model_cost(*cfg, ph.seq_len, s.mtp));
    pr.seq_len = ph.seq_len;
    pr.global_batch = ph.global_batch;
    pr.plan = resolve_plan(s, ph, *cfg, *cost, *hw);
    pr.traffic = plan_traffic(*cfg, pr.plan, *hw);
    MoeLayerTraffic balanced_traffic;
    if (s.routing_set && cfg->num_moe_layers() > 0) {
      // Token-level routing (sim/routing): the step model times the sampled layer of median time.
      const std::string base = s.file.empty() ? std::string() : std::filesystem::path(s.file).parent_path().string();
      auto rr = std::make_shared<routing::MoeRoutingResult>(routing::route_plan(
          *cfg, s.routing, static_cast<int>(pr.plan.par.ep), static_cast<int>(hw->gpus_per_node.value),
          pr.plan.tokens_per_microbatch, static_cast<int>(pr.plan.par.comm_sms), base));
      pr.routing_layer = rr->median_layer_index();
      balanced_traffic = pr.traffic;
      const double scale = static_cast<double>(pr.plan.tokens_per_microbatch) / static_cast<double>(rr->tokens_per_gpu);
      pr.traffic = routing::to_moe_layer_traffic(
          *rr, pr.routing_layer, scale,
          fmt::format("{}: MoE layer {}, median of {} routed{}", rr->routing, rr->layers[pr.routing_layer].layer,
                      rr->layers.size(),
                      scale > 1 ? fmt::format(", {} of {} tokens per rank routed, counts scaled", rr->tokens_per_gpu,
                                              pr.plan.tokens_per_microbatch)
                                : std::string()));
      pr.routing = rr;
    }

    StageContext ctx;
    ctx.cfg = cfg.get();
    ctx.cost = cost.get();
    ctx.plan = &pr.plan;
    ctx.cm.hw = hw.get();
    ctx.cm.cal = cal.get();
    ctx.cm.sms = hw->sms.value - static_cast<double>(pr.plan.par.comm_sms);
    ctx.cm.in_situ_factor = insitu.factor;
    ctx.precision = s.precision;
    ctx.cache_weights = s.fp8_cache_weights;
    ctx.recompute_full = s.recompute_full;
    ctx.ib_links = {hw->nic_gbps_achievable.value * 1e9, hw->nvlink_gbps_achievable.value * 1e9,
                    cal->net_latency_us.value * 1e-6};
    ctx.nvlink_bytes_per_s = hw->nvlink_gbps_achievable.value * 1e9;
    ctx.traffic = &pr.traffic;
    for (auto& slots : pr.plan.stage_slots) pr.stages.push_back(chunk_cost(ctx, slots));

    StepCache sc;
    sc.in.plan = &pr.plan;
    sc.in.stages = &pr.stages;
    sc.in.ib_bytes_per_s = ctx.ib_links.ib_bytes_per_s;
    sc.in.latency_s = ctx.ib_links.latency_s;
    sc.in.cm = &ctx.cm;
    sc.in.dp_overlap_bubble = s.dp_overlap_bubble;
    pr.step = sc.at(pr.plan.micro_batches);
    if (pr.routing) {
      // The same plan under balanced routing: what the imbalance costs.
      StageContext bctx = ctx;
      bctx.traffic = &balanced_traffic;
      std::vector<ChunkCost> bstages;
      for (auto& slots : pr.plan.stage_slots) bstages.push_back(chunk_cost(bctx, slots));
      StepCache bsc;
      bsc.in = sc.in;
      bsc.in.stages = &bstages;
      pr.balanced_step_s = bsc.at(pr.plan.micro_batches).total_s;
    }
    pr.memory = memory_per_gpu(pr.plan, pr.stages, *cal, *hw, s.precision == Precision::FP8 && s.fp8_cache_weights,
                               pr.plan.micro_batches);
    if (s.memory_check && !pr.memory.fits())
      throw InputError(fmt::format(
          "{}: phase '{}': the plan does not fit in GPU memory: {}. Try more PP/EP/CP, --set memory.recompute=full, "
          "or --set memory.check=false to time it anyway",
          origin, ph.name, describe(pr.memory, *hw)));
    if (!pr.memory.fits())
      res.notes.push_back(fmt::format("phase '{}' DOES NOT FIT in GPU memory ({}); timed anyway because memory.check is false",
                                      ph.name, describe(pr.memory, *hw)));

    const double seq = static_cast<double>(ph.seq_len);
    const double full_batch_seqs =
        static_cast<double>(pr.plan.micro_batches * pr.plan.dp * pr.plan.par.micro_batch);
    pr.tokens_per_step = full_batch_seqs * seq;
    if (ph.steps > 0) {
      pr.steps = static_cast<double>(ph.steps);
      pr.tokens = pr.steps * pr.tokens_per_step;
      pr.seconds = pr.steps * pr.step.total_s;
    } else {
      pr.tokens = ph.tokens;
      double left = ph.tokens;
      if (ph.ramp_from > 0 && ph.ramp_tokens > 0) {
        // Linear ramp of the batch over ramp_tokens, integrated in equal-token segments; each
        // segment runs at the micro-batch count of its mid-point batch.
        const int segments = 32;
        double ramp = std::min(ph.ramp_tokens, ph.tokens);
        double seg = ramp / segments;
        for (int i = 0; i < segments; ++i) {
          double mid = (i + 0.5) * seg;
          double batch = static_cast<double>(ph.ramp_from) +
                         (static_cast<double>(ph.global_batch - ph.ramp_from)) * mid / ph.ramp_tokens;
          int64_t C = micro_batches_for(pr.plan, static_cast<int64_t>(batch));
          double used = static_cast<double>(C * pr.plan.dp * pr.plan.par.micro_batch) * seq;
          double steps = seg / used;
          pr.ramp_steps += steps;
          pr.ramp_seconds += steps * sc.at(C).total_s;
        }
        pr.ramp_tokens = ramp;
        left -= ramp;
        if (std::any_of(sc.memo.begin(), sc.memo.end(), [&](auto& kv) {
              return pr.plan.par.schedule == Schedule::DualPipe && kv.first < 2 * pr.plan.par.pp;
            }))
          res.notes.push_back(fmt::format(
              "phase '{}': early batch-ramp steps have fewer than 2 x PP micro-batches; they are timed without DualPipe's "
              "F&B overlap",
              ph.name));
      }
      double full_steps = left / pr.tokens_per_step;
      pr.steps = pr.ramp_steps + full_steps;
      pr.seconds = pr.ramp_seconds + full_steps * pr.step.total_s;
    }
    pr.days = pr.seconds / 86400.0;
    pr.gpu_hours = pr.seconds * static_cast<double>(s.gpus) / 3600.0;
    if (pr.routing) pr.balanced_gpu_hours = pr.gpu_hours * pr.balanced_step_s / pr.step.total_s;
    pr.usd = pr.gpu_hours * res.usd_per_gpu_hour;
    pr.train_flops_per_token = cost->totals.train_flops_per_token;
    pr.train_flops_per_token_noncausal = cost->totals.train_flops_per_token_noncausal;
    double tok_s = pr.tokens_per_step / pr.step.total_s;
    pr.tflops_per_gpu = tok_s * pr.train_flops_per_token / static_cast<double>(s.gpus) / 1e12;
    pr.tflops_per_gpu_noncausal = tok_s * pr.train_flops_per_token_noncausal / static_cast<double>(s.gpus) / 1e12;
    pr.mfu = pr.tflops_per_gpu / hw->bf16_dense_tflops.value;
    pr.mfu_noncausal = pr.tflops_per_gpu_noncausal / hw->bf16_dense_tflops.value;
    if (res.pretrain < 0) {
      res.pretrain = static_cast<int>(pi);
      res.totals = cost->totals;
      res.totals_seq_len = ph.seq_len;
    }
    res.phases.push_back(std::move(pr));
  }
  if (res.pretrain < 0) throw InputError(fmt::format("{}: key 'phases': no phase is simulated", origin));

  const PhaseResult& pt = res.phases[static_cast<size_t>(res.pretrain)];
  res.step_time_s = pt.step.total_s;
  res.tokens_per_step = pt.tokens_per_step;
  res.tokens_per_day = pt.tokens_per_step / pt.step.total_s * 86400.0;
  res.tflops_per_gpu = pt.tflops_per_gpu;
  res.tflops_per_gpu_noncausal = pt.tflops_per_gpu_noncausal;
  res.mfu_bf16 = pt.mfu;
  res.mfu_bf16_noncausal = pt.mfu_noncausal;
  res.gpu_hours_per_trillion_tokens = 1e12 / (pt.tokens_per_step / pt.step.total_s) * static_cast<double>(s.gpus) / 3600.0;
  res.pretrain_gpu_hours = pt.gpu_hours;
  res.pretrain_days = pt.days;
  for (auto& p : res.phases) {
    res.total_gpu_hours += p.gpu_hours;
    res.total_usd += p.usd;
    res.total_days += p.days;
  }
  if (s.mtp && cfg->num_nextn_predict_layers > 0)
    res.notes.push_back("the MTP module runs in every step (step time); FLOPs per token and MFU count the main model only, as "
                        "ISCA'25 Table 2/4 do");
  if (hw->id != "h800" && cal->id == "h800")
    res.notes.push_back(fmt::format("kernel efficiencies are the H800 measurements (calibration h800) applied to the {}",
                                    hw->name));
  return res;
}

}  // namespace dsv3::sim
