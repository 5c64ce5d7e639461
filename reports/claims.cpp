#include "reports/claims.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/data_dir.hpp"
#include "model/errors.hpp"

namespace dsv3::reports {

namespace fs = std::filesystem;

ModelValues model_values(const model::ModelConfig& c) {
  ModelValues v;
  v.config_source = c.source;
  {
    auto rel = fs::path(c.source).lexically_relative(model::source_path(""));
    if (!rel.empty() && rel.native().rfind("..", 0) != 0) v.config_source = rel.string();
  }
  const double h = static_cast<double>(c.hidden_size);
  const double heads = static_cast<double>(c.num_attention_heads);
  // MLA attention of one layer.
  double q = c.q_lora_rank > 0
                 ? h * c.q_lora_rank + c.q_lora_rank /*q_a norm*/ + static_cast<double>(c.q_lora_rank) * heads * c.qk_head_dim()
                 : h * heads * c.qk_head_dim();
  double kv = h * (c.kv_lora_rank + c.qk_rope_head_dim) + c.kv_lora_rank /*kv_a norm*/ +
              static_cast<double>(c.kv_lora_rank) * heads * (c.qk_nope_head_dim + c.v_head_dim);
  double o = heads * c.v_head_dim * h;
  double attn = q + kv + o + 2 * h /*two RMSNorms*/;
  double expert = 3.0 * h * c.moe_intermediate_size;
  double dense_ffn = 3.0 * h * c.intermediate_size;
  double gate = h * c.n_routed_experts + c.n_routed_experts /*e_score_correction_bias*/;
  double embed = static_cast<double>(c.vocab_size) * h;
  double head = c.tie_word_embeddings ? 0 : embed;
  int64_t moe_layers = c.num_moe_layers();
  int64_t dense_layers = c.num_hidden_layers - moe_layers;
  double total = embed + head + h /*final norm*/ + dense_layers * (attn + dense_ffn) +
                 moe_layers * (attn + gate + expert * static_cast<double>(c.n_routed_experts + c.n_shared_experts));
  double active_layers = dense_layers * (attn + dense_ffn) +
                         moe_layers * (attn + gate + expert * static_cast<double>(c.num_experts_per_tok + c.n_shared_experts));
  v.total_params = total;
  v.activated_params = embed + head + h + active_layers;
  v.activated_params_no_embedding = head + h + active_layers;
  v.routed_experts = c.n_routed_experts;
  v.shared_experts = c.n_shared_experts;
  v.experts_per_token = c.num_experts_per_tok;
  v.moe_layers = moe_layers;
  v.layers = c.num_hidden_layers;
  v.attention_heads = c.num_attention_heads;
  v.k_head_dim = c.qk_head_dim();
  v.v_head_dim = c.v_head_dim;
  v.kv_bytes_per_token = c.kv_cache_dim() * c.num_hidden_layers * 2;
  v.mha_kv_bytes_per_token = c.num_attention_heads * (c.qk_head_dim() + c.v_head_dim) * c.num_hidden_layers * 2;
  if (c.quantization.present)
    v.quantization = fmt::format("{} {}, {}x{} weight blocks, {} activation scales", c.quantization.quant_method,
                                 c.quantization.fmt, c.quantization.block_n, c.quantization.block_k,
                                 c.quantization.activation_scheme);
  return v;
}

SimValues sim_values_from_json_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(fmt::format("{}: cannot read file", file.string()));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not JSON ({})", file.string(), e.what()));
  }
  SimValues s;
  s.source = file.string();
  auto num = [&](const char* a, const char* b) -> std::optional<double> {
    if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b)) return std::nullopt;
    if (!j[a][b].is_number()) throw InputError(fmt::format("{}: field '{}.{}' is not a number", file.string(), a, b));
    return j[a][b].get<double>();
  };
  s.total_gpu_hours = num("cost", "total_gpu_hours");
  s.total_usd = num("cost", "total_usd");
  s.pretrain_gpu_hours = num("cost", "pretrain_gpu_hours");
  s.usd_per_gpu_hour = num("cost", "usd_per_gpu_hour");
  if (!s.total_usd) throw InputError(fmt::format("{}: missing field 'cost.total_usd'", file.string()));
  if (j.contains("scenario") && j["scenario"].is_object()) {
    auto& sc = j["scenario"];
    if (sc.contains("hardware_name") && sc["hardware_name"].is_string()) s.gpu = sc["hardware_name"].get<std::string>();
    if (sc.contains("precision") && sc["precision"].is_string()) s.precision = sc["precision"].get<std::string>();
  }
  return s;
}

fs::path default_claims_dir() { return model::source_path("reports/claims"); }

namespace {

YAML::Node load_yaml(const fs::path& p) {
  try {
    return YAML::LoadFile(p.string());
  } catch (const YAML::BadFile&) {
    throw InputError(fmt::format("{}: cannot read file", p.string()));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: line {}: YAML error: {}", p.string(), e.mark.line + 1, e.msg));
  }
}

template <class T>
T field(const YAML::Node& n, const std::string& key, const fs::path& file) {
  if (!n[key]) throw InputError(fmt::format("{}: missing field '{}'", file.string(), key));
  try {
    return n[key].as<T>();
  } catch (const YAML::Exception&) {
    throw InputError(fmt::format("{}: field '{}' has the wrong type", file.string(), key));
  }
}

std::string billions(double v) { return fmt::format("{:.2f}B", v / 1e9); }

// Relative difference verdict.
std::string compare(double computed, double claimed, double tol_agree, double tol_rough) {
  double rel = (computed - claimed) / claimed;
  std::string d = fmt::format("{:+.1f}%", 100 * rel);
  if (std::fabs(rel) <= tol_agree) return "agrees (" + d + ")";
  if (std::fabs(rel) <= tol_rough) return "roughly agrees (" + d + ")";
  return "disagrees (" + d + ")";
}

}  // namespace

std::vector<ClaimRow> check_claims(const ClaimInputs& in, const fs::path& dir,
                                   const std::vector<PublishedScore>& published) {
  const fs::path af = dir / "article.yaml", pf = dir / "primary.yaml";
  auto article = load_yaml(af);
  auto primary = load_yaml(pf);
  auto claims = article["claims"];
  if (!claims) throw InputError(fmt::format("{}: missing field 'claims'", af.string()));
  auto ptext = [&](const char* key) {
    auto n = primary[key];
    if (!n) throw InputError(fmt::format("{}: missing field '{}'", pf.string(), key));
    return n;
  };
  auto pval = [&](const char* key) { return field<double>(ptext(key), "value", pf); };
  auto psrc = [&](const char* key) { return field<std::string>(ptext(key), "source", pf); };
  const auto& m = in.model;
  std::vector<ClaimRow> rows;

  // Parameters.
  rows.push_back({field<std::string>(claims, "total_params", af),
                  fmt::format("{} (from {})", billions(m.total_params), m.config_source),
                  fmt::format("{} ({})", billions(pval("total_params")), psrc("total_params")),
                  compare(m.total_params, pval("total_params"), 0.01, 0.05)});
  rows.push_back({field<std::string>(claims, "activated_params", af),
                  fmt::format("{} with the embedding table and output head; {} without the embedding lookup",
                              billions(m.activated_params), billions(m.activated_params_no_embedding)),
                  fmt::format("{} ({})", billions(pval("activated_params")), psrc("activated_params")),
                  compare(m.activated_params, pval("activated_params"), 0.02, 0.10)});

  // Experts.
  {
    int64_t pr = static_cast<int64_t>(pval("routed_experts")), ps = static_cast<int64_t>(pval("shared_experts")),
            pk = static_cast<int64_t>(pval("experts_per_token"));
    bool same = m.routed_experts == pr && m.experts_per_token == pk;
    std::string v = same ? "agrees" : "disagrees";
    if (same && m.shared_experts > 0)
      v += fmt::format("; the article leaves out the {} shared expert{} every token also uses", m.shared_experts,
                       m.shared_experts > 1 ? "s" : "");
    rows.push_back({field<std::string>(claims, "experts", af),
                    fmt::format("{} routed + {} shared experts in each of {} MoE layers, {} routed per token",
                                m.routed_experts, m.shared_experts, m.moe_layers, m.experts_per_token),
                    fmt::format("{} routed + {} shared, {} routed per token ({})", pr, ps, pk, psrc("routed_experts")),
                    v});
  }

  // KV cache against GQA comparators (ISCA Table 1) and against MHA of the same shape.
  {
    auto comps = primary["kv_comparators"];
    if (!comps || !comps.IsSequence()) throw InputError(fmt::format("{}: missing list 'kv_comparators'", pf.string()));
    std::string comp_text, prim_text;
    double lo = 1e300, hi = 0;
    for (const auto& c : comps) {
      double bytes = 2.0 * field<double>(c, "kv_heads", pf) * field<double>(c, "head_dim", pf) *
                     field<double>(c, "layers", pf) * 2.0;
      double ratio = bytes / static_cast<double>(m.kv_bytes_per_token);
      lo = std::min(lo, ratio);
      hi = std::max(hi, ratio);
      comp_text += fmt::format("{}{}: {:.2f}x", comp_text.empty() ? "" : "; ", field<std::string>(c, "model", pf), ratio);
      prim_text += fmt::format("{}{}: {:.2f}x", prim_text.empty() ? "" : "; ", field<std::string>(c, "model", pf),
                               field<double>(c, "multiplier", pf));
    }
    bool in_range = lo >= 4.0 - 1e-9 && hi <= 8.0 + 1e-9;
    rows.push_back(
        {field<std::string>(claims, "kv_ratio", af),
         fmt::format("MLA caches {} B per token (BF16, {} layers); GQA models cache more: {}", m.kv_bytes_per_token,
                     m.layers, comp_text),
         fmt::format("{} B per token; {} (ISCA'25 Table 1)", static_cast<int64_t>(pval("kv_bytes_per_token")), prim_text),
         in_range ? "agrees, but only against GQA models (Qwen-2.5 72B, LLaMA-3.1 405B), which is what the primary "
                    "source compares with"
                  : fmt::format("disagrees: the computed ratios span {:.2f}x to {:.2f}x", lo, hi)});
    double frac = static_cast<double>(m.kv_bytes_per_token) / static_cast<double>(m.mha_kv_bytes_per_token);
    rows.push_back(
        {field<std::string>(claims, "kv_vs_mha", af),
         fmt::format("MHA with the same {} heads (K {} + V {} dims per head) caches {} B per token; MLA's {} B is "
                     "1/{:.0f} of that ({:.2f}%)",
                     m.attention_heads, m.k_head_dim, m.v_head_dim, m.mha_kv_bytes_per_token, m.kv_bytes_per_token,
                     1 / frac, 100 * frac),
         "no primary source gives 1/5 of MHA; ISCA'25 Table 1 compares MLA with GQA models only (1/4.66 of "
         "Qwen-2.5 72B, 1/7.28 of LLaMA-3.1 405B)",
         std::fabs(frac - 0.2) <= 0.05
             ? "agrees"
             : fmt::format("disagrees: against MHA of the same shape MLA's cache is about 1/{:.0f}, not 1/5; 1/5 is "
                           "near the primary source's GQA comparison (1/4.66), not an MHA one",
                           1 / frac)});
  }

  // Training cost.
  {
    double p_usd = pval("training_cost_usd");
    std::string claim = field<std::string>(claims, "training_cost", af);
    if (in.sim.total_usd) {
      std::string comp = fmt::format("${:.3f}M", *in.sim.total_usd / 1e6);
      if (in.sim.total_gpu_hours) comp += fmt::format(" = {:.0f}K GPU-hours", *in.sim.total_gpu_hours / 1e3);
      if (in.sim.usd_per_gpu_hour) comp += fmt::format(" x ${:.2f}", *in.sim.usd_per_gpu_hour);
      comp += fmt::format(" (simulated: {})", in.sim.source);
      rows.push_back({claim, comp, fmt::format("${:.3f}M ({})", p_usd / 1e6, psrc("training_cost_usd")),
                      compare(*in.sim.total_usd, p_usd, 0.05, 0.20) +
                          "; the article quotes the report's figure, which covers the final training run only"});
    } else {
      rows.push_back({claim, "not computed: no simulation given (--sim FILE.json from `dsv3 simulate --format json`)",
                      fmt::format("${:.3f}M ({})", p_usd / 1e6, psrc("training_cost_usd")),
                      "the article's figure equals the primary source; not checked by simulation"});
    }
  }

  // Cost-effectiveness against $100M peers.
  {
    double peer = field<double>(claims, "peer_cost_usd", af);
    double lo = field<double>(claims, "peer_ratio_low", af), hi = field<double>(claims, "peer_ratio_high", af);
    double cost = in.sim.total_usd ? *in.sim.total_usd : pval("training_cost_usd");
    double ratio = peer / cost;
    rows.push_back(
        {field<std::string>(claims, "cost_effectiveness", af),
         fmt::format("${:.0f}M / ${:.3f}M = {:.1f}x ({} cost)", peer / 1e6, cost / 1e6, ratio,
                     in.sim.total_usd ? "simulated" : "primary-source"),
         "no primary value: the DeepSeek-V3 report gives no peer costs and no '$100M' figure",
         fmt::format("{}; unsupported by the primary source, and it compares one run's GPU rental (excluding research "
                     "and ablations) with peers' total spend",
                     ratio >= lo && ratio <= hi ? "the arithmetic falls in the claimed range"
                                                : "the arithmetic falls outside the claimed range")});
  }

  // FP8 on H800.
  {
    std::string comp = m.quantization.empty() ? "config has no quantization_config (not FP8 weights)"
                                              : "config quantization_config: " + m.quantization;
    if (!in.sim.gpu.empty()) comp += fmt::format("; simulated hardware: {}", in.sim.gpu);
    if (!in.sim.precision.empty()) comp += fmt::format(", GEMMs in {}", in.sim.precision);
    bool fp8 = m.quantization.rfind("fp8", 0) == 0;
    rows.push_back({field<std::string>(claims, "fp8", af), comp, fmt::format("{} ({})", field<std::string>(ptext("fp8"), "value", pf), psrc("fp8")),
                    fp8 ? "agrees; 'FP8 mixed precision' means FP8 GEMMs with fine-grained scaling, not FP8 "
                          "everywhere (combine, and other components, stay in BF16 or FP32)"
                        : "disagrees with this config: no FP8 quantization_config"});
  }

  // Benchmark table.
  auto table = article["benchmark_table"];
  auto variants = article["benchmark_variants"];
  if (!table || !table.IsSequence()) throw InputError(fmt::format("{}: missing list 'benchmark_table'", af.string()));
  if (!variants) throw InputError(fmt::format("{}: missing map 'benchmark_variants'", af.string()));
  for (const auto& row : table) {
    auto model = field<std::string>(row, "model", af);
    auto compare_with = field<std::vector<std::string>>(row, "compare_with", af);
    auto values = row["values"];
    for (auto it = values.begin(); it != values.end(); ++it) {
      auto bench = it->first.as<std::string>();
      double claimed = it->second.as<double>();
      auto vars = field<std::vector<std::string>>(variants, bench, af);
      std::vector<const PublishedScore*> same, other;
      for (auto& p : published)
        for (auto& cw : compare_with)
          if (p.model == cw) {
            if (p.benchmark == vars.front()) same.push_back(&p);
            else if (std::find(vars.begin(), vars.end(), p.benchmark) != vars.end()) other.push_back(&p);
          }
      auto desc = [](const PublishedScore* p) {
        return fmt::format("{} {} {:.1f} ({}{}; {})", p->model, benchmark_display_name(p->benchmark), p->value, p->metric,
                           p->shots ? fmt::format(", {}-shot", *p->shots) : "", p->table);
      };
      std::string prim;
      for (auto* p : same) prim += (prim.empty() ? "" : "; ") + desc(p);
      for (auto* p : other) prim += (prim.empty() ? "" : "; ") + desc(p);
      if (prim.empty()) prim = "no value in the primary sources read (" + fmt::format("{}", fmt::join(compare_with, ", ")) + ")";
      std::string verdict;
      auto eq = [&](const PublishedScore* p) { return std::fabs(p->value - claimed) < 0.05; };
      const PublishedScore* hit = nullptr;
      for (auto* p : same) if (eq(p)) hit = p;
      const PublishedScore* vhit = nullptr;
      for (auto* p : other) if (eq(p)) vhit = p;
      if (hit) verdict = fmt::format("agrees with {} ({})", hit->model, hit->document);
      else if (vhit)
        verdict = fmt::format("the number is {}'s {}, a different benchmark from {}", vhit->model,
                              benchmark_display_name(vhit->benchmark), benchmark_display_name(bench));
      else if (!same.empty())
        verdict = fmt::format("disagrees: no primary source gives {:.1f}; article minus primary value{}{}: {}", claimed,
                              same.size() > 1 ? "s" : "", same.size() > 1 ? "" : "s", [&] {
                                std::string d;
                                for (auto* p : same) d += fmt::format("{}{:+.1f} ({})", d.empty() ? "" : ", ", claimed - p->value, p->model);
                                return d;
                              }());
      else if (!other.empty())
        verdict = fmt::format("cannot be checked: the primary sources read give no {} value for this model, only {}",
                              benchmark_display_name(bench), benchmark_display_name(other.front()->benchmark));
      else
        verdict = "cannot be checked: not in the primary sources read";
      std::string computed = "— (no eval run given: --run RUN.h5)";
      if (!in.run_scores.empty()) {
        auto rs = in.run_scores.find(bench);
        computed = rs == in.run_scores.end() ? fmt::format("— (no {} task in {})", bench, in.run_source)
                                             : fmt::format("{:.1f} ({})", rs->second, in.run_source);
      }
      rows.push_back({fmt::format("{} {}: {:.1f}", model, benchmark_display_name(bench), claimed), computed, prim, verdict});
    }
  }
  return rows;
}

Table claims_table(const std::vector<ClaimRow>& rows, const ClaimInputs& in) {
  Table t;
  t.title = "The article's claims";
  t.header = {"claim (as written)", "dsv3 computes", "primary source", "verdict"};
  for (auto& r : rows) t.rows.push_back({r.claim, r.computed, r.primary, r.verdict});
  t.notes.push_back(fmt::format("Model values computed from {}. Parameter counts: main model without the MTP module; "
                                "activated = dense layers + per MoE layer (attention, gate, routed experts per token + "
                                "shared experts) + embedding + output head.",
                                in.model.config_source));
  if (!in.sim.source.empty()) t.notes.push_back("Simulator values from " + in.sim.source + ".");
  t.source = "reports/claims/article.yaml (claims as written), reports/claims/primary.yaml and reports/published/*.yaml "
             "(primary values with their sources)";
  return t;
}

}  // namespace dsv3::reports
