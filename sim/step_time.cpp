#include "sim/step_time.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/hardware.hpp"

namespace dsv3::sim {
namespace {

constexpr double kFp8Tile = 1.0 + 4.0 / 128.0;  // FP8 element plus its 1x128 tile scale

void add(OpStepTime& a, const OpStepTime& b) {
  a.fwd_s += b.fwd_s;
  a.bwd_b_s += b.bwd_b_s;
  a.bwd_w_s += b.bwd_w_s;
  a.flops += b.flops;
}

}  // namespace

MoeLayerTraffic plan_traffic(const model::ModelConfig& cfg, const ResolvedPlan& plan, const HardwareProfile& hw) {
  BalancedRouting r;
  r.ep = static_cast<int>(plan.par.ep);
  r.gpus_per_node = static_cast<int>(hw.gpus_per_node.value);
  r.experts = static_cast<int>(std::max<int64_t>(1, cfg.n_routed_experts));
  r.topk = static_cast<int>(std::max<int64_t>(1, cfg.num_experts_per_tok));
  r.n_group = static_cast<int>(std::max<int64_t>(1, cfg.n_group));
  r.topk_group = static_cast<int>(std::max<int64_t>(1, cfg.topk_group));
  r.tokens_per_rank = static_cast<double>(plan.tokens_per_microbatch);
  return balanced_moe_traffic(r);
}

ChunkCost chunk_cost(const StageContext& ctx, const std::vector<int>& slots) {
  const model::ModelConfig& cfg = *ctx.cfg;
  const ResolvedPlan& plan = *ctx.plan;
  const double T = static_cast<double>(plan.tokens_per_microbatch);
  const double tp = static_cast<double>(plan.par.tp);
  const double H = static_cast<double>(cfg.hidden_size);
  const bool fp8 = ctx.precision == Precision::FP8;
  ChunkCost c;
  std::map<std::string, OpStepTime> by_name;
  std::vector<std::string> order;

  double rows_rank = 0, rows_mean = 0;
  int local_experts = 1;
  if (ctx.traffic) {
    for (double v : ctx.traffic->expert_rows) {
      rows_rank = std::max(rows_rank, v);
      rows_mean += v;
    }
    rows_mean /= std::max<size_t>(1, ctx.traffic->expert_rows.size());
    local_experts = std::max(1, ctx.traffic->local_experts);
  }
  const double skew = rows_mean > 0 ? rows_rank / rows_mean : 1.0;

  for (int si : slots) {
    const SlotCost& sc = ctx.cost->slots[static_cast<size_t>(si)];
    if (ctx.recompute_full && sc.kind != "embedding" && sc.kind != "head") c.act_bytes += T / tp * H * 2.0;
    bool has_attention = false;
    for (auto& op : sc.ops) has_attention |= op.kind == OpKind::Attention;
    if (sc.moe && ctx.traffic && ctx.traffic->ep > 1) {
      double disp_bytes = fp8 ? H * kFp8Tile : H * 2.0;
      double comb_bytes = H * 2.0;
      A2ATime d = all_to_all_time(*ctx.traffic, disp_bytes, false, ctx.ib_links);
      A2ATime b = all_to_all_time(*ctx.traffic, comb_bytes, true, ctx.ib_links);
      // Backward: the output gradient goes out like a dispatch (FP8 in FP8 training, TR §3.3.4)
      // and the input gradient comes back like a combine (BF16).
      c.comm_F += d.seconds + b.seconds;
      c.comm_B += d.seconds + b.seconds;
      c.dispatch_s = d.seconds;
      c.combine_s = b.seconds;
      c.moe_layers += 1;
    }
    if (has_attention && plan.par.cp > 1) {
      // Context parallelism: each rank gathers the other ranks' MLA latents (c_KV + k_R, BF16)
      // in forward and returns their gradients in backward.
      double cp = static_cast<double>(plan.par.cp);
      double bytes = (cp - 1) / cp * static_cast<double>(plan.par.micro_batch * plan.seq_len) *
                     static_cast<double>(cfg.kv_cache_dim()) * 2.0;
      double t = bytes / ctx.ib_links.ib_bytes_per_s + (cp - 1) * ctx.ib_links.latency_s;
      c.comm_F += t;
      c.comm_B += t;
    }
    if (has_attention && plan.par.tp > 1) {
      // Two all-reduces of the hidden state per layer in forward and two in backward (ring over NVLink).
      double bytes = 2.0 * (tp - 1) / tp * T * H * 2.0;
      double t = 2.0 * (bytes / ctx.nvlink_bytes_per_s + 2 * (tp - 1) * ctx.ib_links.latency_s);
      c.tp_F += t;
      c.tp_B += t;
    }
    for (auto& op : sc.ops) {
      OpStepTime ot;
      ot.name = op.name;
      ot.kind = to_string(op.kind);
      bool expert = op.kind == OpKind::ExpertGemm || op.name.find("moe.experts.") != std::string::npos;
      double split = expert ? 1.0 : tp;
      double act = (fp8 ? op.act_bytes_fp8 : op.act_bytes_bf16) * T / split * (expert ? skew : 1.0);
      c.act_bytes += act;
      switch (op.kind) {
        case OpKind::Gemm:
        case OpKind::BaseGemm:
        case OpKind::ExpertGemm: {
          Precision p = op.kind == OpKind::BaseGemm ? Precision::BF16 : ctx.precision;
          int64_t groups = 1;
          double m = T * op.rows_per_token;
          int64_t n = op.n, k = op.k;
          double weights = static_cast<double>(n) * static_cast<double>(k);
          if (op.kind == OpKind::ExpertGemm) {
            groups = local_experts;
            m = (ctx.traffic ? rows_rank : T * op.rows_per_token) / groups;
            weights *= groups;
          } else if (plan.par.tp > 1) {
            n = std::max<int64_t>(1, n / plan.par.tp);
            weights /= tp;
          }
          GemmTime f = gemm_time(ctx.cm, groups, m, n, k, p);
          GemmTime dg = gemm_time(ctx.cm, groups, m, k, n, p);
          GemmTime wg = gemm_time(ctx.cm, groups, static_cast<double>(n), k, static_cast<int64_t>(std::ceil(m)), p);
          ot.fwd_s = f.seconds;
          ot.bwd_b_s = dg.seconds + (op.recompute ? f.seconds : 0.0);
          ot.bwd_w_s = wg.seconds;
          if (p == Precision::FP8) {
            double g = static_cast<double>(groups);
            ot.fwd_s += memory_time(ctx.cm, g * m * static_cast<double>(k) * (2.0 + kFp8Tile));
            ot.bwd_b_s += memory_time(ctx.cm, g * m * static_cast<double>(n) * (2.0 + 2.0 * kFp8Tile));
            ot.bwd_w_s += memory_time(ctx.cm, g * m * static_cast<double>(k) * 2.0 * kFp8Tile);
            if (!ctx.cache_weights) {
              ot.fwd_s += memory_time(ctx.cm, weights * 3.0);
              ot.bwd_b_s += memory_time(ctx.cm, weights * 3.0);
            }
            c.params_fp8 += op.kind == OpKind::ExpertGemm ? weights : weights;
          }
          ot.flops = 6.0 * static_cast<double>(groups) * m * static_cast<double>(n) * static_cast<double>(k);
          if (op.kind == OpKind::ExpertGemm)
            c.params_expert += weights;
          else
            c.params_dense += op.params / split;
          break;
        }
        case OpKind::Attention: {
          double fl = op.fwd_flops * T / tp;
          ot.fwd_s = attention_time(ctx.cm, fl, false);
          ot.bwd_b_s = attention_time(ctx.cm, 2.0 * fl, true);
          ot.flops = 3.0 * fl;
          break;
        }
        case OpKind::Memory: {
          double scale = T / split * (expert ? skew : 1.0);
          ot.fwd_s = memory_time(ctx.cm, op.fwd_bytes * scale);
          ot.bwd_b_s = memory_time(ctx.cm, (op.bwd_bytes + (op.recompute ? op.fwd_bytes : 0.0)) * scale);
          c.params_dense += op.params / split;
          break;
        }
      }
      if (ctx.recompute_full && sc.kind != "embedding" && sc.kind != "head") {
        // Checkpointing: the forward runs again in backward; only the layer input is kept.
        ot.bwd_b_s += ot.fwd_s;
        c.act_bytes -= act;
      }
      c.F += ot.fwd_s;
      c.B += ot.bwd_b_s;
      c.W += ot.bwd_w_s;
      c.flops += ot.flops;
      // Aggregate per op name across the stage's layers (e.g. all attn.core of the stage).
      std::string key = ot.name;
      auto it = by_name.find(key);
      if (it == by_name.end()) {
        by_name.emplace(key, ot);
        order.push_back(key);
      } else {
        add(it->second, ot);
      }
    }
  }
  for (auto& k : order) c.ops.push_back(by_name[k]);
  return c;
}

InSituDerivation derive_in_situ(const Calibration& cal) {
  InSituDerivation d;
  d.measured_s = cal.in_situ_busy_ms_per_layer_pair.value * 1e-3;
  HardwareProfile hw = load_hardware(cal.in_situ_hardware);
  model::ModelConfig cfg = model::ModelConfig::deepseek_v3();
  ModelCost cost = model_cost(cfg, static_cast<int64_t>(cal.attn_seq_len.value), false);
  ResolvedPlan plan;
  plan.par.ep = static_cast<int64_t>(cal.in_situ_ep.value);
  plan.par.comm_sms = static_cast<int64_t>(cal.in_situ_comm_sms.value);
  plan.seq_len = static_cast<int64_t>(cal.attn_seq_len.value);
  plan.tokens_per_microbatch = static_cast<int64_t>(cal.in_situ_tokens.value);
  MoeLayerTraffic traffic = plan_traffic(cfg, plan, hw);
  StageContext ctx;
  ctx.cfg = &cfg;
  ctx.cost = &cost;
  ctx.plan = &plan;
  ctx.cm.hw = &hw;
  ctx.cm.cal = &cal;
  ctx.cm.sms = hw.sms.value - cal.in_situ_comm_sms.value;
  ctx.cm.in_situ_factor = 1.0;
  ctx.precision = Precision::FP8;
  ctx.traffic = &traffic;
  ctx.ib_links = {hw.nic_gbps_achievable.value * 1e9, hw.nvlink_gbps_achievable.value * 1e9, 0};
  ctx.nvlink_bytes_per_s = hw.nvlink_gbps_achievable.value * 1e9;
  int moe_slot = 1 + static_cast<int>(cfg.first_k_dense_replace);
  ChunkCost c = chunk_cost(ctx, {moe_slot});
  double att = 0;
  for (auto& op : c.ops)
    if (op.kind == std::string("attention")) att += op.fwd_s + op.bwd_b_s + op.bwd_w_s;
  d.attention_s = att;
  d.predicted_isolated_s = c.F + c.B + c.W;
  double rest = d.predicted_isolated_s - att;
  d.factor = rest > 0 ? std::max(0.0, d.measured_s - att) / rest : 1.0;
  return d;
}

namespace {

struct StageTimes {
  double F, B, W, cF, cB, tF, tB;
  double Fa() const { return F + cF + tF; }       // forward chunk alone: its all-to-all exposed
  double Bz() const { return B + cB + tB; }       // backward-for-input alone (W deferred)
  double Bf() const { return B + W + cB + tB; }   // full backward alone
};

StageTimes times(const ChunkCost& c) { return {c.F, c.B, c.W, c.comm_F, c.comm_B, c.tp_F, c.tp_B}; }

// A forward chunk of one micro-batch overlapped with the full backward chunk of another:
// each one's all-to-all hides behind the other's compute (DualPipe's F&B).
double pair_time(const StageTimes& f, const StageTimes& b) {
  return std::max(f.F + b.B + b.W, f.cF + b.cB) + f.tF + b.tB;
}

double pair(const StageTimes& f, const StageTimes& b, double* compute, double* comm) {
  *compute += f.F + b.B + b.W;
  *comm += f.cF + b.cB;
  return pair_time(f, b);
}

double ring_time(double bytes_per_rank, double n, double bw, double latency) {
  if (n <= 1) return 0;
  return bytes_per_rank * (n - 1) / n / bw + (n - 1) * latency;
}

}  // namespace

StepResult step_time(const StepInputs& in, int64_t C) {
  const ResolvedPlan& plan = *in.plan;
  const auto& stages = *in.stages;
  const int64_t R = plan.par.pp;
  StepResult best;
  best.total_s = -1;
  for (int64_t r = 0; r < R; ++r) {
    const auto& held = plan.rank_stages[static_cast<size_t>(r)];
    StepResult s;
    s.micro_batches = C;
    s.bottleneck_rank = static_cast<int>(r);
    double compute = 0, comm = 0;
    double own = 0;
    if (plan.par.schedule == Schedule::DualPipe) {
      StageTimes a = times(stages[static_cast<size_t>(held[0])]);
      StageTimes b = times(stages[static_cast<size_t>(held[1])]);
      const int64_t h = std::min(r, R - 1 - r);
      const int64_t half = R / 2;
      // Step counts of dualpipe.py for this rank (h = its distance to the nearer end).
      int64_t n1 = 2 * (half - h - 1), n2 = h + 1, n3 = half - h - 1, n4 = C / 2 - R + h + 1, n5 = half - h - 1,
              n6 = h + 1, n7 = half - h - 1, n8 = h + 1;
      const double h6 = 0.5 * static_cast<double>(n6);  // step 6: first half full backward, second half zero-bubble
      auto alone = [&](double comp, double t, double& bucket, double count) {
        compute += comp * count;
        own += t * count;
        bucket += t * count;
      };
      const int sa = held[0], sb = held[1];
      if (n4 >= 0) {
        // In dualpipe.py's order (a step's chunks of one kind back to back).
        s.schedule = {{"F", sa, -1, static_cast<double>(n1 + n2), a.Fa()},
                      {"F", sb, -1, static_cast<double>(n2 + n3), b.Fa()},
                      {"B", sb, -1, static_cast<double>(n3), b.Bz()},
                      {"W", sb, -1, static_cast<double>(n3), b.W},
                      {"F&B", sa, sb, static_cast<double>(n4), pair_time(a, b)},
                      {"F&B", sb, sa, static_cast<double>(n4 + n5), pair_time(b, a)},
                      {"B+W", sb, -1, static_cast<double>(n5) + h6, b.Bf()},
                      {"B", sb, -1, h6, b.Bz()},
                      {"B", sa, -1, h6 + static_cast<double>(n7), a.Bz()},
                      {"B+W", sa, -1, h6, a.Bf()},
                      {"W", sa, sb, static_cast<double>(n7 + n8), 0.5 * (a.W + b.W)}};
        alone(a.F, a.Fa(), s.warmup_f_s, static_cast<double>(n1 + n2));
        alone(b.F, b.Fa(), s.warmup_f_s, static_cast<double>(n2 + n3));
        alone(b.B, b.Bz(), s.alone_b_s, static_cast<double>(n3) + h6);
        alone(b.W, b.W, s.alone_w_s, static_cast<double>(n3));
        alone(b.B + b.W, b.Bf(), s.alone_b_s, static_cast<double>(n5) + h6);
        alone(a.B, a.Bz(), s.alone_b_s, h6 + static_cast<double>(n7));
        alone(a.B + a.W, a.Bf(), s.alone_b_s, h6);
        alone(0.5 * (a.W + b.W), 0.5 * (a.W + b.W), s.alone_w_s, static_cast<double>(n7 + n8));
        double p = 0;
        for (int64_t i = 0; i < n4; ++i) {
          p += pair(a, b, &compute, &comm);
          p += pair(b, a, &compute, &comm);
        }
        for (int64_t i = 0; i < n5; ++i) p += pair(b, a, &compute, &comm);
        s.overlapped_s = p;
        s.overlapped_pairs = 2 * n4 + n5;
        own += p;
      } else {
        // Fewer micro-batches than the schedule's steady state needs (batch ramp): no F&B overlap.
        double cnt = static_cast<double>(C) / 2.0;
        s.schedule = {{"F", sa, sb, 2 * cnt, 0.5 * (a.Fa() + b.Fa())}, {"B+W", sa, sb, 2 * cnt, 0.5 * (a.Bf() + b.Bf())}};
        alone(a.F + b.F, a.Fa() + b.Fa(), s.warmup_f_s, cnt);
        alone(a.B + a.W + b.B + b.W, a.Bf() + b.Bf(), s.alone_b_s, cnt);
      }
      // Alone chunks expose their all-to-all; pairs hide the smaller of compute and comm.
      double fb = 0.5 * (std::max(a.F + b.B + b.W, a.cF + b.cB) + std::max(b.F + a.B + a.W, b.cF + a.cB)) +
                  0.5 * (a.tF + b.tB + b.tF + a.tB);
      s.F = 0.5 * (a.Fa() + b.Fa());
      s.B = 0.5 * (a.Bf() + b.Bf());
      s.W = 0.5 * (a.W + b.W);
      s.FB = fb;
      s.bubble_s = std::max(0.0, static_cast<double>(half - 1) * (fb + s.B - 3.0 * s.W));
    } else {
      StageTimes a = times(stages[static_cast<size_t>(held[0])]);
      double c = static_cast<double>(C);
      s.warmup_f_s = c * a.Fa();
      compute += c * (a.F + a.B + a.W);
      if (plan.par.schedule == Schedule::ZB1P) {
        s.alone_b_s = c * a.Bz();
        s.alone_w_s = c * a.W;
      } else {
        s.alone_b_s = c * a.Bf();
      }
      own = c * (a.Fa() + a.Bf());
      if (plan.par.schedule == Schedule::ZB1P)
        s.schedule = {{"F", held[0], -1, c, a.Fa()}, {"B", held[0], -1, c, a.Bz()}, {"W", held[0], -1, c, a.W}};
      else
        s.schedule = {{"F", held[0], -1, c, a.Fa()}, {"B+W", held[0], -1, c, a.Bf()}};
      s.F = a.Fa();
      s.B = a.Bf();
      s.W = a.W;
      s.FB = a.Fa() + a.Bf();
      double per = plan.par.schedule == Schedule::ZB1P ? (s.F + s.B - 2.0 * s.W) : (s.F + s.B);
      s.bubble_s = std::max(0.0, static_cast<double>(R - 1) * per);
    }
    s.own_work_s = own;
    s.compute_s = compute;
    s.exposed_comm_s = std::max(0.0, own - compute);
    double total_comm = 0;
    for (int st : held) {
      const ChunkCost& cc = stages[static_cast<size_t>(st)];
      total_comm += static_cast<double>(C) / static_cast<double>(held.size()) * (cc.comm_F + cc.comm_B + cc.tp_F + cc.tp_B);
    }
    s.hidden_comm_s = std::max(0.0, total_comm - s.exposed_comm_s);
    s.pipeline_s = own + s.bubble_s;

    // Data parallelism: reduce-scatter FP32 gradients and all-gather BF16 parameters (ZeRO-1),
    // or all-reduce FP32 gradients (ZeRO-0), over the NICs.
    double pd = 0, pe = 0;
    for (int st : held) {
      pd += stages[static_cast<size_t>(st)].params_dense;
      pe += stages[static_cast<size_t>(st)].params_expert;
    }
    auto dp_time = [&](double params, double n) {
      if (plan.par.zero >= 1)
        return ring_time(4.0 * params, n, in.ib_bytes_per_s, in.latency_s) +
               ring_time(2.0 * params, n, in.ib_bytes_per_s, in.latency_s);
      return 2.0 * ring_time(4.0 * params, n, in.ib_bytes_per_s, in.latency_s);
    };
    s.dp_comm_s = dp_time(pd, static_cast<double>(plan.weight_replicas)) + dp_time(pe, static_cast<double>(plan.edp));
    s.dp_exposed_s = in.dp_overlap_bubble ? std::max(0.0, s.dp_comm_s - s.bubble_s) : s.dp_comm_s;
    // AdamW on the local shard: read master (FP32), gradient (FP32), two BF16 moments; write them
    // back and the BF16 weights: 22 bytes per parameter (TR §3.3.3 precisions).
    double shard = plan.par.zero >= 1 ? pd / static_cast<double>(plan.weight_replicas) + pe / static_cast<double>(plan.edp) : pd + pe;
    s.optimizer_s = memory_time(*in.cm, shard * 22.0);
    s.total_s = s.pipeline_s + s.dp_exposed_s + s.optimizer_s;
    if (s.total_s > best.total_s) best = s;
  }
  return best;
}

}  // namespace dsv3::sim
