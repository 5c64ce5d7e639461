// HDF5 output of `dsv3 simulate --out FILE.h5` (schema: reports/schema/simulation.md).
#include <fmt/core.h>

#include <limits>

#include "dsv3_version.hpp"
#include "reports/h5_file.hpp"
#include "sim/routing/routing_h5.hpp"
#include "sim/report.hpp"

namespace dsv3::sim {
namespace {

namespace h5 = reports::h5;

h5::Handle create(const std::filesystem::path& path) {
  h5::quiet_errors();
  h5::Handle f = h5::create_file(path);
  h5::set_attr(f.id(), "schema", std::string("dsv3.simulation"));
  h5::set_attr(f.id(), "schema_version", static_cast<int64_t>(kSimulationSchemaVersion));
  h5::set_attr(f.id(), "dsv3_version", std::string(DSV3_VERSION));
  h5::set_attr(f.id(), "dsv3_git_hash", std::string(DSV3_GIT_HASH));
  return f;
}

void write_attrs(hid_t g, const nlohmann::json& obj) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const auto& v = it.value();
    if (v.is_number_integer())
      h5::set_attr(g, it.key(), v.get<int64_t>());
    else if (v.is_number())
      h5::set_attr(g, it.key(), v.get<double>());
    else if (v.is_boolean())
      h5::set_attr(g, it.key(), static_cast<int64_t>(v.get<bool>() ? 1 : 0));
    else if (v.is_string())
      h5::set_attr(g, it.key(), v.get<std::string>());
  }
}

}  // namespace

void write_h5(const SimResult& r, const std::filesystem::path& path) {
  nlohmann::json j = to_json(r);
  h5::Handle f = create(path);
  h5::set_attr(f.id(), "kind", std::string("single"));
  write_attrs(f.id(), j["scenario"]);
  for (const char* g : {"model", "step", "throughput", "cost", "memory", "moe"}) {
    h5::Handle grp = h5::create_group(f.id(), g);
    write_attrs(grp.id(), j[g]);
  }
  {
    h5::Handle grp = h5::open_group(f.id(), "step");
    write_attrs(grp.id(), j["step"]["schedule_phases"]);
    write_attrs(grp.id(), j["step"]["chunk"]);
  }
  // Per-op model cost (per token) of every slot at the first simulated phase's sequence length.
  const PhaseResult& pt = r.phases[static_cast<size_t>(r.pretrain)];
  {
    ModelCost mc = model_cost(model::ModelConfig::load(r.model_source), r.totals_seq_len, r.scenario.mtp);
    std::vector<std::string> slot, name, kind;
    std::vector<double> params, active, fwd, bwd_b, bwd_w, fwd_bytes, bwd_bytes, act_bf16, act_fp8;
    for (auto& s : mc.slots)
      for (auto& op : s.ops) {
        slot.push_back(s.name);
        name.push_back(op.name);
        kind.push_back(to_string(op.kind));
        params.push_back(op.params);
        active.push_back(op.active_params);
        fwd.push_back(op.fwd_flops);
        bwd_b.push_back(op.bwd_b_flops);
        bwd_w.push_back(op.bwd_w_flops);
        fwd_bytes.push_back(op.fwd_bytes);
        bwd_bytes.push_back(op.bwd_bytes);
        act_bf16.push_back(op.act_bytes_bf16);
        act_fp8.push_back(op.act_bytes_fp8);
      }
    h5::Handle g = h5::create_group(f.id(), "model/ops");
    h5::write_column(g.id(), "slot", slot);
    h5::write_column(g.id(), "name", name);
    h5::write_column(g.id(), "kind", kind);
    h5::write_column(g.id(), "params", params);
    h5::write_column(g.id(), "active_params", active);
    h5::write_column(g.id(), "fwd_flops_per_token", fwd);
    h5::write_column(g.id(), "bwd_b_flops_per_token", bwd_b);
    h5::write_column(g.id(), "bwd_w_flops_per_token", bwd_w);
    h5::write_column(g.id(), "fwd_bytes_per_token", fwd_bytes);
    h5::write_column(g.id(), "bwd_bytes_per_token", bwd_bytes);
    h5::write_column(g.id(), "act_bytes_per_token_bf16", act_bf16);
    h5::write_column(g.id(), "act_bytes_per_token_fp8", act_fp8);
  }
  {
    std::vector<std::string> name, kind;
    std::vector<double> fwd, bwd_b, bwd_w, flops;
    for (auto& op : j["ops"]) {
      name.push_back(op["name"]);
      kind.push_back(op["kind"]);
      fwd.push_back(op["fwd_s"]);
      bwd_b.push_back(op["bwd_b_s"]);
      bwd_w.push_back(op["bwd_w_s"]);
      flops.push_back(op["flops"]);
    }
    h5::Handle g = h5::create_group(f.id(), "step/ops");
    h5::write_column(g.id(), "name", name);
    h5::write_column(g.id(), "kind", kind);
    h5::write_column(g.id(), "fwd_s", fwd);
    h5::write_column(g.id(), "bwd_b_s", bwd_b);
    h5::write_column(g.id(), "bwd_w_s", bwd_w);
    h5::write_column(g.id(), "flops", flops);
  }
  {
    std::vector<int64_t> stage;
    std::vector<double> F, B, W, cF, cB, pd, pe, act;
    for (size_t i = 0; i < pt.stages.size(); ++i) {
      const ChunkCost& c = pt.stages[i];
      stage.push_back(static_cast<int64_t>(i));
      F.push_back(c.F);
      B.push_back(c.B);
      W.push_back(c.W);
      cF.push_back(c.comm_F + c.tp_F);
      cB.push_back(c.comm_B + c.tp_B);
      pd.push_back(c.params_dense);
      pe.push_back(c.params_expert);
      act.push_back(c.act_bytes);
    }
    h5::Handle g = h5::create_group(f.id(), "step/stages");
    h5::write_column(g.id(), "stage", stage);
    h5::write_column(g.id(), "F_s", F);
    h5::write_column(g.id(), "B_s", B);
    h5::write_column(g.id(), "W_s", W);
    h5::write_column(g.id(), "comm_F_s", cF);
    h5::write_column(g.id(), "comm_B_s", cB);
    h5::write_column(g.id(), "params_dense", pd);
    h5::write_column(g.id(), "params_expert", pe);
    h5::write_column(g.id(), "act_bytes", act);
  }
  if (pt.routing) {
    routing::write_routing_group(f.id(), *pt.routing);
    h5::Handle g = h5::open_group(f.id(), "routing");
    write_attrs(g.id(), j["routing"]);
  }
  {
    h5::Handle g = h5::open_group(f.id(), "moe");
    const MoeLayerTraffic& t = pt.traffic;
    h5::write_column(g.id(), "expert_rows", t.expert_rows);
    h5::write_matrix(g.id(), "ib_tokens", t.ib_tokens, static_cast<size_t>(t.ep), static_cast<size_t>(t.ep));
    h5::write_matrix(g.id(), "nvlink_tokens", t.nvlink_tokens, static_cast<size_t>(t.ep), static_cast<size_t>(t.ep));
  }
  {
    std::vector<std::string> name, source;
    std::vector<int64_t> simulated;
    std::vector<double> seq, batch, tokens, steps, days, gpuh, cost, step_s, mfu;
    for (auto& p : r.phases) {
      name.push_back(p.name);
      source.push_back(p.source);
      simulated.push_back(p.simulated ? 1 : 0);
      seq.push_back(static_cast<double>(p.seq_len));
      batch.push_back(static_cast<double>(p.global_batch));
      tokens.push_back(p.tokens);
      steps.push_back(p.steps);
      days.push_back(p.days);
      gpuh.push_back(p.gpu_hours);
      cost.push_back(p.usd);
      step_s.push_back(p.simulated ? p.step.total_s : 0.0);
      mfu.push_back(p.mfu);
    }
    h5::Handle g = h5::create_group(f.id(), "phases");
    h5::write_column(g.id(), "name", name);
    h5::write_column(g.id(), "simulated", simulated);
    h5::write_column(g.id(), "source", source);
    h5::write_column(g.id(), "seq_len", seq);
    h5::write_column(g.id(), "global_batch", batch);
    h5::write_column(g.id(), "tokens", tokens);
    h5::write_column(g.id(), "steps", steps);
    h5::write_column(g.id(), "days", days);
    h5::write_column(g.id(), "gpu_hours", gpuh);
    h5::write_column(g.id(), "usd", cost);
    h5::write_column(g.id(), "step_time_s", step_s);
    h5::write_column(g.id(), "mfu_bf16", mfu);
  }
  {
    std::vector<std::string> name, unit, source;
    std::vector<double> value;
    for (auto& c : r.constants()) {
      name.push_back(c.name);
      value.push_back(c.value);
      unit.push_back(c.unit);
      source.push_back(c.source);
    }
    h5::Handle g = h5::create_group(f.id(), "calibration");
    h5::write_column(g.id(), "name", name);
    h5::write_column(g.id(), "value", value);
    h5::write_column(g.id(), "unit", unit);
    h5::write_column(g.id(), "source", source);
  }
  h5::Handle notes = h5::create_group(f.id(), "notes");
  h5::write_column(notes.id(), "text", r.notes);
  h5::flush(f);
}

void write_sweep_h5(const std::vector<SweepPoint>& points, const std::filesystem::path& path) {
  h5::Handle f = create(path);
  h5::set_attr(f.id(), "kind", std::string("sweep"));
  h5::Handle g = h5::create_group(f.id(), "sweep");
  std::vector<std::string> keys;
  if (!points.empty())
    for (auto& [k, v] : points[0].set) keys.push_back(k);
  for (size_t i = 0; i < keys.size(); ++i) {
    std::vector<std::string> col;
    for (auto& p : points) col.push_back(p.set[i].second);
    h5::write_column(g.id(), "set:" + keys[i], col);
  }
  std::vector<std::string> errors;
  std::vector<double> step, days, pre, total, usd, mfu, mem;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto& p : points) {
    errors.push_back(p.error);
    if (p.result) {
      const SimResult& r = *p.result;
      step.push_back(r.step_time_s);
      days.push_back(r.pretrain_days);
      pre.push_back(r.pretrain_gpu_hours);
      total.push_back(r.total_gpu_hours);
      usd.push_back(r.total_usd);
      mfu.push_back(r.mfu_bf16);
      mem.push_back(r.phases[static_cast<size_t>(r.pretrain)].memory.total);
    } else {
      for (auto* v : {&step, &days, &pre, &total, &usd, &mfu, &mem}) v->push_back(nan);
    }
  }
  h5::write_column(g.id(), "error", errors);
  h5::write_column(g.id(), "step_time_s", step);
  h5::write_column(g.id(), "pretrain_days", days);
  h5::write_column(g.id(), "pretrain_gpu_hours", pre);
  h5::write_column(g.id(), "total_gpu_hours", total);
  h5::write_column(g.id(), "total_usd", usd);
  h5::write_column(g.id(), "mfu_bf16", mfu);
  h5::write_column(g.id(), "memory_per_gpu_bytes", mem);
  h5::flush(f);
}

}  // namespace dsv3::sim
