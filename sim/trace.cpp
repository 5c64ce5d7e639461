#include "sim/trace.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "model/errors.hpp"

namespace dsv3::sim {
namespace {

using nlohmann::json;

constexpr int kPid = 1, kCompute = 1, kComm = 2, kDp = 3;

class Trace {
 public:
  void thread(int tid, const std::string& name) {
    events_.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", kPid}, {"tid", tid}, {"args", {{"name", name}}}});
    events_.push_back({{"ph", "M"}, {"name", "thread_sort_index"}, {"pid", kPid}, {"tid", tid},
                       {"args", {{"sort_index", tid}}}});
  }
  void process(const std::string& name) {
    events_.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", kPid}, {"tid", 0}, {"args", {{"name", name}}}});
  }
  // A complete event; times in seconds, written in microseconds.
  void span(int tid, const std::string& name, const std::string& cat, double start_s, double dur_s, json args = {}) {
    if (dur_s <= 0) return;
    json e = {{"ph", "X"}, {"name", name}, {"cat", cat}, {"pid", kPid}, {"tid", tid},
              {"ts", start_s * 1e6}, {"dur", dur_s * 1e6}};
    if (!args.is_null()) e["args"] = std::move(args);
    events_.push_back(std::move(e));
  }
  json take() { return std::move(events_); }

 private:
  json events_ = json::array();
};

// The ops of a chunk kind on a stage: (name, kind, seconds) in the stage's op order.
struct OpSpan {
  std::string name, kind;
  double s;
};

std::vector<OpSpan> ops_of(const ChunkCost& c, const std::string& part) {
  std::vector<OpSpan> v;
  for (const auto& op : c.ops) {
    const double s = part == "F" ? op.fwd_s : part == "B" ? op.bwd_b_s : op.bwd_w_s;
    if (s > 0) v.push_back({op.name + (part == "F" ? "" : part == "B" ? " (bwd)" : " (wgrad)"), op.kind, s});
  }
  return v;
}

// Lays ops back to back from `start`, scaled to fill `fill` seconds.
double lay_ops(Trace& tr, const std::vector<OpSpan>& ops, double start, double fill) {
  double sum = 0;
  for (const auto& o : ops) sum += o.s;
  if (sum <= 0 || fill <= 0) return start;
  const double k = fill / sum;
  double t = start;
  for (const auto& o : ops) {
    tr.span(kCompute, o.name, o.kind, t, o.s * k);
    t += o.s * k;
  }
  return t;
}

std::string stage_label(int s) { return fmt::format("stage {}", s); }

// One chunk (or the fraction f of one) of a schedule segment at `t`; returns its end.
double chunk(Trace& tr, const ScheduleSegment& seg, int index, double f, double t, const std::vector<ChunkCost>& stages) {
  const double dur = seg.seconds * f;
  // Runs that alternate between two stages ("F", "B+W" and "W" with stage2).
  const bool alternate = seg.what != "F&B" && seg.stage2 >= 0;
  const int st = alternate && index % 2 ? seg.stage2 : seg.stage;
  const ChunkCost& c = stages.at(static_cast<size_t>(st));
  std::string name;
  std::vector<OpSpan> ops;
  double comm = 0, tp = 0;
  if (seg.what == "F&B") {
    const ChunkCost& b = stages.at(static_cast<size_t>(seg.stage2));
    name = fmt::format("F {} & B+W {}", stage_label(seg.stage), stage_label(seg.stage2));
    ops = ops_of(c, "F");
    for (auto& o : ops_of(b, "B")) ops.push_back(o);
    for (auto& o : ops_of(b, "W")) ops.push_back(o);
    comm = (c.comm_F + b.comm_B) * f;
    tp = (c.tp_F + b.tp_B) * f;
    const double compute = std::max(0.0, dur - tp);
    tr.span(kCompute, name, "chunk", t, dur, {{"chunk", seg.what}, {"fraction", f}});
    lay_ops(tr, ops, t, std::min(compute, (c.F + b.B + b.W) * f));
    // The pair's all-to-all runs under its compute (DualPipe's overlap), TP after.
    tr.span(kComm, "all-to-all (dispatch + combine), overlapped", "all-to-all", t, comm);
    tr.span(kComm, "TP all-reduce", "tp", t + compute, tp);
    return t + dur;
  }
  if (seg.what == "F") {
    ops = ops_of(c, "F");
    comm = c.comm_F * f;
    tp = c.tp_F * f;
  } else if (seg.what == "B") {
    ops = ops_of(c, "B");
    comm = c.comm_B * f;
    tp = c.tp_B * f;
  } else if (seg.what == "W") {
    ops = ops_of(c, "W");
  } else {  // B+W
    ops = ops_of(c, "B");
    for (auto& o : ops_of(c, "W")) ops.push_back(o);
    comm = c.comm_B * f;
    tp = c.tp_B * f;
  }
  name = fmt::format("{} {}", seg.what, stage_label(st));
  tr.span(kCompute, name, "chunk", t, dur, {{"chunk", seg.what}, {"fraction", f}});
  // Alone chunks expose their communication after the compute. (Runs alternating between two
  // stages carry their average time: keep one stage's communication inside it.)
  if (comm + tp > dur) {
    const double k = dur / (comm + tp);
    comm *= k;
    tp *= k;
  }
  const double compute = std::max(0.0, dur - comm - tp);
  const double end = lay_ops(tr, ops, t, compute);
  tr.span(kComm, "all-to-all (dispatch + combine), exposed", "all-to-all", end, comm);
  tr.span(kComm, "TP all-reduce", "tp", end + comm, tp);
  return t + dur;
}

}  // namespace

json chrome_trace(const SimResult& r) {
  if (r.pretrain < 0 || r.pretrain >= static_cast<int>(r.phases.size()))
    throw InputError("trace: the scenario has no simulated phase");
  const PhaseResult& ph = r.phases[static_cast<size_t>(r.pretrain)];
  const StepResult& st = ph.step;
  Trace tr;
  tr.process(fmt::format("dsv3 simulate: {} — phase '{}', pipeline rank {} of {} (the slowest), one step of {} "
                         "micro-batches",
                         r.scenario.name, ph.name, st.bottleneck_rank, ph.plan.par.pp, st.micro_batches));
  tr.thread(kCompute, "compute (chunks; ops summed over each stage's layers)");
  tr.thread(kComm, "communication (all-to-all, TP)");
  tr.thread(kDp, "data parallel + optimizer");
  double t = 0;
  for (const auto& seg : st.schedule) {
    const int whole = static_cast<int>(std::floor(seg.count + 1e-9));
    const double frac = seg.count - whole;
    for (int i = 0; i < whole; ++i) t = chunk(tr, seg, i, 1.0, t, ph.stages);
    if (frac > 1e-9) t = chunk(tr, seg, whole, frac, t, ph.stages);
  }
  tr.span(kCompute, "pipeline bubble (idle; spread over warm-up and cool-down in a real step)", "bubble", t,
          st.bubble_s);
  t += st.bubble_s;
  tr.span(kDp, "DP gradient reduce-scatter + parameter all-gather (exposed part)", "dp", t, st.dp_exposed_s);
  t += st.dp_exposed_s;
  tr.span(kDp, "AdamW step (local shard)", "optimizer", t, st.optimizer_s);
  t += st.optimizer_s;
  json out;
  out["traceEvents"] = tr.take();
  out["displayTimeUnit"] = "ms";
  out["otherData"] = {{"generator", "dsv3 simulate"},
                      {"scenario", r.scenario.name},
                      {"phase", ph.name},
                      {"step_time_s", st.total_s},
                      {"trace_end_s", t},
                      {"pipeline_rank", st.bottleneck_rank},
                      {"micro_batches", st.micro_batches}};
  return out;
}

}  // namespace dsv3::sim
