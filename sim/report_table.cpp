#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "sim/report.hpp"

namespace dsv3::sim {
namespace {

std::string big(double v) {
  double a = std::fabs(v);
  if (a >= 1e12) return fmt::format("{:.2f}T", v / 1e12);
  if (a >= 1e9) return fmt::format("{:.2f}B", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3f}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f}K", v / 1e3);
  return fmt::format("{:.3g}", v);
}

std::string hours(double h) {
  if (h >= 1e6) return fmt::format("{:.3f}M", h / 1e6);
  if (h >= 1e3) return fmt::format("{:.1f}K", h / 1e3);
  return fmt::format("{:.0f}", h);
}

std::string usd(double d) {
  if (d >= 1e6) return fmt::format("${:.3f}M", d / 1e6);
  if (d >= 1e3) return fmt::format("${:.1f}K", d / 1e3);
  return fmt::format("${:.0f}", d);
}

constexpr double GiB = 1073741824.0;

}  // namespace

std::string to_table(const SimResult& r) {
  const Scenario& s = r.scenario;
  const PhaseResult& pt = r.phases[static_cast<size_t>(r.pretrain)];
  const StepResult& st = pt.step;
  const ResolvedPlan& pl = pt.plan;
  const ModelTotals& t = r.totals;
  std::string o;
  o += fmt::format("{}{}\n", s.name.empty() ? std::string("scenario") : s.name, s.file.empty() ? "" : "  (" + s.file + ")");
  o += fmt::format("model    {} params, {} activated per token ({} without the embedding); {} MTP params\n",
                   big(t.total_params), big(t.activated_params), big(t.activated_params_no_embedding), big(t.mtp_params));
  o += fmt::format("         {:.1f} GFLOPs per training token at {} (causal; {:.1f} non-causal; main model, MTP adds {:.1f}); "
                   "KV cache {:.0f} B/token\n",
                   t.train_flops_per_token / 1e9, r.totals_seq_len, t.train_flops_per_token_noncausal / 1e9,
                   t.train_flops_per_token_mtp / 1e9, t.kv_cache_bytes_per_token);
  o += fmt::format("cluster  {} x {}, {}, PP{} x EP{} x DP{}{}{} (ZeRO-{}), {}, {} of {} SMs for communication\n", s.gpus,
                   r.hw.name, s.precision == Precision::FP8 ? "FP8" : "BF16", pl.par.pp, pl.par.ep, pl.dp,
                   pl.par.tp > 1 ? fmt::format(" x TP{}", pl.par.tp) : "", pl.par.cp > 1 ? fmt::format(" x CP{}", pl.par.cp) : "",
                   pl.par.zero, to_string(pl.par.schedule), pl.par.comm_sms, r.hw.sms.value);
  o += "\nSummary\n";
  o += fmt::format("  pre-training GPU-hours   {:>10}   ({} per trillion tokens)\n", hours(r.pretrain_gpu_hours),
                   hours(r.gpu_hours_per_trillion_tokens));
  o += fmt::format("  total GPU-hours          {:>10}\n", hours(r.total_gpu_hours));
  o += fmt::format("  total cost               {:>10}   at ${:.2f} per GPU-hour\n", usd(r.total_usd), r.usd_per_gpu_hour);
  o += fmt::format("  days                     {:>10.1f}   pre-training; {:.1f} in total\n", r.pretrain_days, r.total_days);
  o += fmt::format("  MFU (BF16 peak)          {:>9.2f}%   causal; {:.2f}% non-causal\n", r.mfu_bf16 * 100,
                   r.mfu_bf16_noncausal * 100);
  o += fmt::format("  step time                {:>9.3f}s   {} sequences x {} tokens, {} micro-batches per pipeline\n",
                   r.step_time_s, pl.global_batch, pt.seq_len, pl.micro_batches);
  o += fmt::format("  throughput               {:>10}   tokens/day; {:.0f} TFLOPS per GPU ({:.0f} non-causal)\n",
                   big(r.tokens_per_day), r.tflops_per_gpu, r.tflops_per_gpu_noncausal);
  o += fmt::format("  memory per GPU           {:>7.1f} GiB   of {:.1f} GiB (rank {}: weights {:.1f}, grads {:.1f}, optimizer {:.1f}, "
                   "activations {:.1f}, reserve {:.1f})\n",
                   pt.memory.total / GiB, pt.memory.capacity / GiB, pt.memory.rank, pt.memory.weights / GiB,
                   pt.memory.grads / GiB, pt.memory.optimizer / GiB, pt.memory.activations / GiB, pt.memory.reserve / GiB);

  o += "\nPhases\n";
  o += fmt::format("  {:<16} {:>7} {:>6} {:>10} {:>9} {:>8} {:>7} {:>11} {:>10}\n", "phase", "seq", "batch", "tokens", "steps",
                   "step s", "days", "GPU-hours", "cost");
  for (auto& p : r.phases) {
    if (p.simulated)
      o += fmt::format("  {:<16} {:>7} {:>6} {:>10} {:>9.0f} {:>8.2f} {:>7.1f} {:>11} {:>10}\n", p.name, p.seq_len,
                       p.global_batch, big(p.tokens), p.steps, p.step.total_s, p.days, hours(p.gpu_hours), usd(p.usd));
    else
      o += fmt::format("  {:<16} {:>7} {:>6} {:>10} {:>9} {:>8} {:>7.1f} {:>11} {:>10}   given: {}\n", p.name, "-", "-", "-",
                       "-", "-", p.days, hours(p.gpu_hours), usd(p.usd), p.source);
  }
  o += fmt::format("  {:<16} {:>7} {:>6} {:>10} {:>9} {:>8} {:>7.1f} {:>11} {:>10}\n", "total", "", "", "", "", "",
                   r.total_days, hours(r.total_gpu_hours), usd(r.total_usd));

  o += fmt::format("\nOne step of '{}' on the slowest pipeline rank ({}), seconds\n", pt.name, st.bottleneck_rank);
  double total = st.total_s;
  auto share = [&](double v) { return total > 0 ? 100.0 * v / total : 0.0; };
  o += fmt::format("  compute                  {:>8.3f}  {:>5.1f}%\n", st.compute_s, share(st.compute_s));
  o += fmt::format("  exposed communication    {:>8.3f}  {:>5.1f}%   all-to-all/TP not hidden ({:.3f} s hidden behind compute)\n",
                   st.exposed_comm_s, share(st.exposed_comm_s), st.hidden_comm_s);
  o += fmt::format("  pipeline bubble          {:>8.3f}  {:>5.1f}%   {}\n", st.bubble_s, share(st.bubble_s),
                   pl.par.schedule == Schedule::DualPipe ? "(PP/2-1)(F&B + B - 3W), TR Table 2"
                   : pl.par.schedule == Schedule::ZB1P   ? "(PP-1)(F + B - 2W), TR Table 2"
                                                          : "(PP-1)(F + B), TR Table 2");
  o += fmt::format("  DP gradient sync exposed {:>8.3f}  {:>5.1f}%   ({:.3f} s in total; {})\n", st.dp_exposed_s,
                   share(st.dp_exposed_s), st.dp_comm_s, s.dp_overlap_bubble ? "overlapped with the bubble" : "not overlapped");
  o += fmt::format("  optimizer                {:>8.3f}  {:>5.1f}%\n", st.optimizer_s, share(st.optimizer_s));
  o += fmt::format("  step                     {:>8.3f}\n", st.total_s);
  if (pl.par.schedule == Schedule::DualPipe)
    o += fmt::format("  schedule phases (ISCA'25 Table 4 terms): 1F {:.2f}  bubble {:.2f}  1B {:.2f}  1W {:.2f}  1F1B {:.2f} "
                     "({} overlapped F&B pairs)  opt {:.2f}\n",
                     st.warmup_f_s, st.bubble_s, st.alone_b_s, st.alone_w_s, st.overlapped_s, st.overlapped_pairs,
                     st.optimizer_s + st.dp_exposed_s);
  o += fmt::format("  chunk times: F {:.1f} ms, B {:.1f} ms, W {:.1f} ms, F&B {:.1f} ms (communication included where exposed)\n",
                   st.F * 1e3, st.B * 1e3, st.W * 1e3, st.FB * 1e3);

  // Per-op breakdown of one micro-batch through the slowest rank's stages.
  std::vector<OpStepTime> merged;
  double comm_f = 0, comm_b = 0;
  int moe_layers = 0;
  double disp = 0, comb = 0;
  for (int stg : pl.rank_stages[static_cast<size_t>(st.bottleneck_rank)]) {
    const ChunkCost& c = pt.stages[static_cast<size_t>(stg)];
    comm_f += c.comm_F + c.tp_F;
    comm_b += c.comm_B + c.tp_B;
    moe_layers += c.moe_layers;
    if (c.moe_layers) disp = c.dispatch_s, comb = c.combine_s;
    for (auto& op : c.ops) {
      std::string name = op.name.rfind("mtp.", 0) == 0 ? "mtp (module)" : op.name;
      auto it = std::find_if(merged.begin(), merged.end(), [&](auto& x) { return x.name == name; });
      if (it == merged.end()) {
        OpStepTime x = op;
        x.name = name;
        if (name == "mtp (module)") x.kind = "mixed";
        merged.push_back(x);
      } else {
        it->fwd_s += op.fwd_s;
        it->bwd_b_s += op.bwd_b_s;
        it->bwd_w_s += op.bwd_w_s;
        it->flops += op.flops;
      }
    }
  }
  double sum = 0, sf = 0, sb = 0, sw = 0;
  for (auto& x : merged) {
    sf += x.fwd_s;
    sb += x.bwd_b_s;
    sw += x.bwd_w_s;
  }
  sum = sf + sb + sw;
  o += fmt::format("\nPer op: one micro-batch ({} tokens) through rank {}'s stages, compute ms (casts to FP8 included)\n",
                   pl.tokens_per_microbatch, st.bottleneck_rank);
  o += fmt::format("  {:<28} {:<12} {:>9} {:>9} {:>9} {:>9} {:>6}\n", "op", "kind", "fwd", "bwd B", "bwd W", "total", "share");
  std::sort(merged.begin(), merged.end(),
            [](auto& a, auto& b) { return a.fwd_s + a.bwd_b_s + a.bwd_w_s > b.fwd_s + b.bwd_b_s + b.bwd_w_s; });
  for (auto& x : merged) {
    double tt = x.fwd_s + x.bwd_b_s + x.bwd_w_s;
    if (tt <= 0) continue;
    o += fmt::format("  {:<28} {:<12} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>5.1f}%\n", x.name, x.kind, x.fwd_s * 1e3,
                     x.bwd_b_s * 1e3, x.bwd_w_s * 1e3, tt * 1e3, sum > 0 ? 100 * tt / sum : 0.0);
  }
  o += fmt::format("  {:<28} {:<12} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}\n", "compute total", "", sf * 1e3, sb * 1e3, sw * 1e3, sum * 1e3);
  o += fmt::format("  communication of the chunks: forward {:.3f} ms, backward {:.3f} ms ({} MoE layers; per layer dispatch "
                   "{:.3f} ms {}, combine {:.3f} ms BF16, {} routing)\n",
                   comm_f * 1e3, comm_b * 1e3, moe_layers, disp * 1e3, s.precision == Precision::FP8 ? "FP8" : "BF16",
                   comb * 1e3, pt.traffic.source);

  if (pt.routing) {
    const auto& rr = *pt.routing;
    double extra = 0;
    for (auto& p : r.phases)
      if (p.routing) extra += p.gpu_hours - p.balanced_gpu_hours;
    o += fmt::format("\nRouting: {}\n", rr.routing);
    o += fmt::format("  imbalance (max/mean GPU load, {} of {} MoE layers routed, {} tokens per GPU): mean {:.3f}, timed layer {} "
                     "{:.3f}\n",
                     rr.layers.size(), rr.n_moe_layers, rr.tokens_per_gpu, rr.mean_imbalance,
                     rr.layers[static_cast<size_t>(pt.routing_layer)].layer,
                     rr.layers[static_cast<size_t>(pt.routing_layer)].imbalance);
    o += fmt::format("  step {:.3f} s vs {:.3f} s balanced ({:+.1f}%); pre-training {} vs {} GPU-hours balanced; all "
                     "phases {:+.0f} GPU-hours\n",
                     pt.step.total_s, pt.balanced_step_s, 100 * (pt.step.total_s / pt.balanced_step_s - 1),
                     hours(pt.gpu_hours), hours(pt.balanced_gpu_hours), extra);
  }
  o += "\nCalibration and hardware constants\n";
  for (auto& c : r.constants())
    o += fmt::format("  {:<44} {:>10.4g} {:<10} {}\n", c.name, c.value, c.unit, c.source);
  if (!r.notes.empty()) {
    o += "\nNotes\n";
    for (auto& n : r.notes) o += "  - " + n + "\n";
  }
  return o;
}

std::string sweep_table(const std::vector<SweepPoint>& points) {
  std::string o;
  std::vector<std::string> keys;
  if (!points.empty())
    for (auto& [k, v] : points[0].set) keys.push_back(k);
  for (auto& k : keys) o += fmt::format("{:<{}} ", k, std::max<size_t>(10, k.size()));
  o += fmt::format("{:>9} {:>8} {:>12} {:>12} {:>10} {:>7} {:>9}  {}\n", "step s", "days", "pretrain GPUh", "total GPUh",
                   "cost", "MFU%", "mem GiB", "status");
  for (auto& p : points) {
    for (size_t i = 0; i < keys.size(); ++i) o += fmt::format("{:<{}} ", p.set[i].second, std::max<size_t>(10, keys[i].size()));
    if (p.result) {
      const SimResult& r = *p.result;
      const PhaseResult& pt = r.phases[static_cast<size_t>(r.pretrain)];
      o += fmt::format("{:>9.3f} {:>8.1f} {:>12} {:>12} {:>10} {:>7.2f} {:>9.1f}  {}\n", r.step_time_s, r.pretrain_days,
                       hours(r.pretrain_gpu_hours), hours(r.total_gpu_hours), usd(r.total_usd), r.mfu_bf16 * 100,
                       pt.memory.total / GiB, pt.memory.fits() ? "ok" : "does not fit");
    } else {
      o += fmt::format("{:>9} {:>8} {:>12} {:>12} {:>10} {:>7} {:>9}  error: {}\n", "-", "-", "-", "-", "-", "-", "-", p.error);
    }
  }
  return o;
}

}  // namespace dsv3::sim
