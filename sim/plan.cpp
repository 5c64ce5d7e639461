#include "sim/plan.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "model/errors.hpp"

namespace dsv3::sim {
namespace {

[[noreturn]] void bad(const std::string& origin, const std::string& key, const std::string& what) {
  throw InputError(fmt::format("{}: key '{}': {}", origin, key, what));
}

}  // namespace

int64_t micro_batches_for(const ResolvedPlan& p, int64_t global_batch) {
  int64_t per = p.dp * p.par.micro_batch;
  int64_t c = std::max<int64_t>(1, global_batch / per);
  if (p.par.schedule == Schedule::DualPipe) c = std::max<int64_t>(2, c - c % 2);
  return c;
}

ResolvedPlan resolve_plan(const Scenario& s, const PhaseSpec& phase, const model::ModelConfig& cfg,
                          const ModelCost& cost, const HardwareProfile& hw) {
  const std::string origin = s.file.empty() ? std::string("scenario") : s.file;
  ResolvedPlan r;
  r.par = s.parallel;
  const PlanOverrides& o = phase.overrides;
  if (o.pp) r.par.pp = *o.pp;
  if (o.ep) r.par.ep = *o.ep;
  if (o.tp) r.par.tp = *o.tp;
  if (o.cp) r.par.cp = *o.cp;
  if (o.micro_batch) r.par.micro_batch = *o.micro_batch;
  if (o.comm_sms) r.par.comm_sms = *o.comm_sms;
  if (o.schedule) r.par.schedule = *o.schedule;
  const ParallelPlan& p = r.par;
  const std::string pk = fmt::format("phases.{}.", phase.name);
  r.gpus = s.gpus;
  r.seq_len = phase.seq_len;
  r.global_batch = phase.global_batch;
  if (s.gpus < 1) bad(origin, "hardware.gpus", "missing");
  if (phase.seq_len < 1) bad(origin, pk + "seq_len", "missing");
  if (phase.global_batch < 1) bad(origin, pk + "global_batch", "missing");

  const int64_t slots = static_cast<int64_t>(cost.slots.size());
  const int64_t layers = cfg.num_hidden_layers;
  const int64_t mtp = slots - layers - 2;
  if (slots % p.pp != 0)
    bad(origin, "parallel.pp",
        fmt::format("PP={} does not divide the {} pipeline slots (embedding + {} layers{} + head); PP must divide {}", p.pp,
                    slots, layers, mtp > 0 ? fmt::format(" + {} MTP", mtp) : std::string(), slots));
  if (p.schedule == Schedule::DualPipe && (p.pp < 2 || p.pp % 2 != 0))
    bad(origin, "parallel.pp", fmt::format("DualPipe needs an even number of stages >= 2, got PP={}", p.pp));
  if (p.tp > static_cast<int64_t>(hw.gpus_per_node.value))
    bad(origin, "parallel.tp", fmt::format("TP={} exceeds the {} GPUs of a node", p.tp, hw.gpus_per_node.value));
  if (cfg.num_attention_heads % p.tp != 0)
    bad(origin, "parallel.tp", fmt::format("TP={} does not divide the {} attention heads", p.tp, cfg.num_attention_heads));
  if (phase.seq_len % p.cp != 0)
    bad(origin, "parallel.cp", fmt::format("CP={} does not divide the sequence length {}", p.cp, phase.seq_len));
  if (s.gpus % (p.pp * p.tp * p.cp) != 0)
    bad(origin, "hardware.gpus",
        fmt::format("{} GPUs are not divisible by PP x TP x CP = {} x {} x {}", s.gpus, p.pp, p.tp, p.cp));
  const int64_t per_stage = s.gpus / p.pp;
  if (cfg.n_routed_experts > 0) {
    if (cfg.n_routed_experts % p.ep != 0)
      bad(origin, "parallel.ep", fmt::format("EP={} does not divide the {} routed experts", p.ep, cfg.n_routed_experts));
    if (per_stage % p.ep != 0)
      bad(origin, "parallel.ep",
          fmt::format("EP={} does not divide the {} GPUs of a pipeline stage ({} GPUs / PP {})", p.ep, per_stage, s.gpus, p.pp));
  } else if (p.ep != 1) {
    bad(origin, "parallel.ep", "the model has no routed experts: EP must be 1");
  }
  if (p.comm_sms >= static_cast<int64_t>(hw.sms.value))
    bad(origin, "parallel.comm_sms", fmt::format("{} communication SMs leave none of the {} SMs to compute", p.comm_sms, hw.sms.value));
  r.dp = s.gpus / (p.pp * p.tp * p.cp);
  r.edp = per_stage / p.ep;
  r.weight_replicas = s.gpus / (p.pp * p.tp);
  r.tokens_per_microbatch = p.micro_batch * phase.seq_len / p.cp;
  if (phase.global_batch % (r.dp * p.micro_batch) != 0)
    bad(origin, pk + "global_batch",
        fmt::format("{} sequences are not divisible by DP {} x micro_batch {} (DP = GPUs / (PP x TP x CP))",
                    phase.global_batch, r.dp, p.micro_batch));
  r.micro_batches = phase.global_batch / (r.dp * p.micro_batch);
  if (p.schedule == Schedule::DualPipe && (r.micro_batches < 2 * p.pp || r.micro_batches % 2 != 0))
    bad(origin, pk + "global_batch",
        fmt::format("DualPipe needs an even number of micro-batches >= 2 x PP = {}; {} sequences / (DP {} x micro_batch {}) "
                    "gives {}",
                    2 * p.pp, phase.global_batch, r.dp, p.micro_batch, r.micro_batches));

  const int64_t per = slots / p.pp;
  r.stage_slots.resize(static_cast<size_t>(p.pp));
  for (int64_t i = 0; i < slots; ++i) r.stage_slots[static_cast<size_t>(i / per)].push_back(static_cast<int>(i));
  r.rank_stages.resize(static_cast<size_t>(p.pp));
  for (int64_t rk = 0; rk < p.pp; ++rk) {
    r.rank_stages[static_cast<size_t>(rk)].push_back(static_cast<int>(rk));
    if (p.schedule == Schedule::DualPipe) r.rank_stages[static_cast<size_t>(rk)].push_back(static_cast<int>(p.pp - 1 - rk));
  }
  return r;
}

}  // namespace dsv3::sim
