#include "sim/calibration.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::sim {

double wave_efficiency(double tiles, double sms) {
  if (tiles <= 0 || sms <= 0) return 1.0;
  double waves = std::ceil(tiles / sms - 1e-9);
  return tiles / (waves * sms);
}

double gemm_tiles(int64_t groups, double m, int64_t n, double tile_m, double tile_n) {
  return static_cast<double>(groups) * std::ceil(m / tile_m - 1e-9) *
         std::ceil(static_cast<double>(n) / tile_n - 1e-9);
}

namespace {

double interp_log2(const std::vector<std::pair<double, double>>& pts, double k) {
  if (pts.empty()) return 1.0;
  double x = std::log2(std::max(1.0, k));
  if (x <= pts.front().first) return pts.front().second;
  if (x >= pts.back().first) return pts.back().second;
  for (size_t i = 1; i < pts.size(); ++i)
    if (x <= pts[i].first) {
      double t = (x - pts[i - 1].first) / (pts[i].first - pts[i - 1].first);
      return pts[i - 1].second + t * (pts[i].second - pts[i - 1].second);
    }
  return pts.back().second;
}

std::vector<std::pair<double, double>> curve(const std::vector<GemmPoint>& points) {
  std::map<int64_t, std::pair<double, int>> by_k;
  for (auto& p : points) {
    by_k[p.k].first += p.efficiency;
    by_k[p.k].second += 1;
  }
  std::vector<std::pair<double, double>> out;
  for (auto& [k, s] : by_k) out.emplace_back(std::log2(static_cast<double>(k)), s.first / s.second);
  return out;
}

}  // namespace

double Calibration::fp8_efficiency(int64_t k) const { return interp_log2(curve(fp8_points), static_cast<double>(k)); }

double Calibration::bf16_efficiency(int64_t k) const { return std::min(1.0, fp8_efficiency(k) * bf16_over_fp8); }

Calibration parse_calibration(const YAML::Node& node, const std::string& file, const std::string& id) {
  YamlMap m(node, file, "");
  Calibration c;
  c.id = id;
  c.file = file;
  c.name = m.string("name");

  YamlMap g = m.map("gemm");
  c.tile_m = g.sourced("tile_m");
  c.tile_n = g.sourced("tile_n");
  YamlMap f = g.map("fp8_points");
  c.fp8_source = f.string("source");
  c.fp8_points_peak_tflops = f.sourced("peak_tflops");
  c.fp8_points_sms = f.sourced("sms");
  YAML::Node shapes = f.raw("shapes");
  if (!shapes || !shapes.IsSequence() || shapes.size() == 0)
    f.fail("shapes", "expected a list of [groups, m, n, k, tflops]");
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string key = fmt::format("gemm.fp8_points.shapes[{}]", i);
    if (!shapes[i].IsSequence() || shapes[i].size() != 5)
      throw InputError(fmt::format("{}: key '{}': expected [groups, m, n, k, tflops]", file, key));
    GemmPoint p;
    p.groups = static_cast<int64_t>(parse_number(shapes[i][0].Scalar(), file, key));
    p.m = static_cast<int64_t>(parse_number(shapes[i][1].Scalar(), file, key));
    p.n = static_cast<int64_t>(parse_number(shapes[i][2].Scalar(), file, key));
    p.k = static_cast<int64_t>(parse_number(shapes[i][3].Scalar(), file, key));
    p.tflops = parse_number(shapes[i][4].Scalar(), file, key);
    if (p.groups < 1 || p.m < 1 || p.n < 1 || p.k < 1 || p.tflops <= 0)
      throw InputError(fmt::format("{}: key '{}': values must be positive", file, key));
    c.fp8_points.push_back(p);
  }
  f.finish();

  YamlMap b = g.map("bf16_reference");
  c.bf16_ref_hardware = b.string("hardware");
  c.bf16_ref_m = b.sourced("m");
  c.bf16_ref_n = b.sourced("n");
  c.bf16_ref_k = b.sourced("k");
  c.bf16_ref_tflops = b.sourced("bf16_tflops");
  c.bf16_ref_peak_tflops = b.sourced("bf16_peak_tflops");
  b.finish();
  g.finish();

  YamlMap a = m.map("attention");
  c.attn_fwd_ms = a.sourced("fwd_ms");
  c.attn_bwd_ms = a.sourced("bwd_ms");
  c.attn_seq_len = a.sourced("seq_len");
  c.attn_heads = a.sourced("heads");
  c.attn_qk_dim = a.sourced("qk_head_dim");
  c.attn_v_dim = a.sourced("v_head_dim");
  c.attn_sms = a.sourced("sms");
  c.attn_peak_tflops = a.sourced("bf16_peak_tflops");
  a.finish();

  YamlMap mem = m.map("memory");
  c.hbm_efficiency = mem.sourced("hbm_efficiency");
  c.runtime_reserve_gib = mem.sourced("runtime_reserve_gib");
  mem.finish();

  YamlMap net = m.map("network");
  c.net_latency_us = net.sourced("latency_us");
  net.finish();

  YamlMap is = m.map("in_situ");
  c.in_situ = is.boolean("use", false);
  c.in_situ_hardware = is.string("hardware");
  c.in_situ_busy_ms_per_layer_pair = is.sourced("busy_ms_per_moe_layer_pair");
  c.in_situ_tokens = is.sourced("tokens_per_gpu");
  c.in_situ_ep = is.sourced("ep");
  c.in_situ_comm_sms = is.sourced("comm_sms");
  is.finish();
  m.finish();

  // Derived efficiencies.
  for (auto& p : c.fp8_points) {
    double tiles = gemm_tiles(p.groups, static_cast<double>(p.m), p.n, c.tile_m.value, c.tile_n.value);
    p.wave_efficiency = wave_efficiency(tiles, c.fp8_points_sms.value);
    p.efficiency = p.tflops / (c.fp8_points_peak_tflops.value * p.wave_efficiency);
  }
  // The FP8 point at the BF16 reference shape (interpolated when not in the table).
  double ref_tiles = gemm_tiles(1, c.bf16_ref_m.value, static_cast<int64_t>(c.bf16_ref_n.value), c.tile_m.value,
                                c.tile_n.value);
  double ref_wave = wave_efficiency(ref_tiles, c.fp8_points_sms.value);
  double bf16_eff = c.bf16_ref_tflops.value / (c.bf16_ref_peak_tflops.value * ref_wave);
  c.bf16_over_fp8 = bf16_eff / c.fp8_efficiency(static_cast<int64_t>(c.bf16_ref_k.value));

  auto causal_flops = [&](double fwd_mult) {
    double S = c.attn_seq_len.value;
    double keys_total = S * (S + 1) / 2;
    return fwd_mult * 2.0 * c.attn_heads.value * (c.attn_qk_dim.value + c.attn_v_dim.value) * keys_total;
  };
  double per_sm_peak = c.attn_peak_tflops.value * 1e12 / c.fp8_points_sms.value;
  c.attn_fwd_efficiency = causal_flops(1.0) / (c.attn_fwd_ms.value * 1e-3) / (per_sm_peak * c.attn_sms.value);
  c.attn_bwd_efficiency = causal_flops(2.0) / (c.attn_bwd_ms.value * 1e-3) / (per_sm_peak * c.attn_sms.value);
  if (c.hbm_efficiency.value <= 0 || c.hbm_efficiency.value > 1) mem.fail("hbm_efficiency.value", "must be in (0, 1]");
  return c;
}

Calibration load_calibration(const std::string& id_or_path) {
  std::filesystem::path p = id_or_path;
  if (p.extension() != ".yaml") {
    p = model::source_path("sim/calibration") / (id_or_path + ".yaml");
    if (!std::filesystem::exists(p))
      throw InputError(fmt::format("calibration table '{}' not found in sim/calibration/", id_or_path));
  }
  return parse_calibration(load_yaml_file(p), p.string(), p.stem().string());
}

std::vector<CalibConstant> Calibration::constants() const {
  std::vector<CalibConstant> out;
  out.push_back({"gemm.tile_m", tile_m.value, "rows", tile_m.source});
  out.push_back({"gemm.tile_n", tile_n.value, "cols", tile_n.source});
  for (auto& p : fp8_points)
    out.push_back({fmt::format("gemm.fp8_efficiency[{}x{}x{}x{}]", p.groups, p.m, p.n, p.k), p.efficiency, "fraction",
                   fmt::format("derived: {} TFLOPS / ({} TFLOPS peak x wave efficiency {:.3f}); {}", p.tflops,
                               fp8_points_peak_tflops.value, p.wave_efficiency, fp8_source)});
  out.push_back({"gemm.bf16_over_fp8_efficiency", bf16_over_fp8, "ratio",
                 fmt::format("derived: BF16 {} TFLOPS of {} peak on {} at {}x{}x{} ({}) / FP8 table efficiency at k={}",
                             bf16_ref_tflops.value, bf16_ref_peak_tflops.value, bf16_ref_hardware, bf16_ref_m.value,
                             bf16_ref_n.value, bf16_ref_k.value, bf16_ref_tflops.source, bf16_ref_k.value)});
  out.push_back({"attention.fwd_efficiency", attn_fwd_efficiency, "fraction of BF16 peak per SM",
                 fmt::format("derived: causal FLOPs of a {}-token sequence / {} ms on {} SMs; {}", attn_seq_len.value,
                             attn_fwd_ms.value, attn_sms.value, attn_fwd_ms.source)});
  out.push_back({"attention.bwd_efficiency", attn_bwd_efficiency, "fraction of BF16 peak per SM",
                 fmt::format("derived: 2x causal forward FLOPs / {} ms on {} SMs; {}", attn_bwd_ms.value, attn_sms.value,
                             attn_bwd_ms.source)});
  out.push_back({"memory.hbm_efficiency", hbm_efficiency.value, "fraction", hbm_efficiency.source});
  out.push_back({"memory.runtime_reserve_gib", runtime_reserve_gib.value, "GiB", runtime_reserve_gib.source});
  out.push_back({"network.latency_us", net_latency_us.value, "us", net_latency_us.source});
  out.push_back({"in_situ.busy_ms_per_moe_layer_pair", in_situ_busy_ms_per_layer_pair.value, "ms",
                 in_situ_busy_ms_per_layer_pair.source});
  return out;
}

}  // namespace dsv3::sim
