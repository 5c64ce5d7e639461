#include "reports/score_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace dsv3::reports {

namespace {

const std::vector<std::string> kColumnOrder = {"mmlu", "humaneval", "humaneval_mul", "gsm8k", "math", "math500"};

std::string pct(double v) { return fmt::format("{:.1f}", v); }

std::string shots_text(int64_t s) { return s >= 0 ? fmt::format("{}-shot", s) : "shots n/a"; }

}  // namespace

std::string ScoreCell::setting() const { return fmt::format("{}, {}", metric, shots_text(shots)); }

std::string run_label(const RunData& r) {
  std::string name = r.provenance.model_name.empty() ? r.provenance.model_spec : r.provenance.model_name;
  return fmt::format("{} ({})", name, r.file.filename().string());
}

ScoreTable build_score_table(const std::vector<RunData>& runs, const std::vector<PublishedScore>& refs) {
  ScoreTable t;
  std::set<std::string> keys;
  for (auto& r : runs)
    for (auto& task : r.tasks) keys.insert(task.info.name);
  for (auto& p : refs) keys.insert(p.benchmark);
  for (auto& k : kColumnOrder)
    if (keys.count(k)) t.columns.push_back(k);
  for (auto& k : keys)
    if (std::find(kColumnOrder.begin(), kColumnOrder.end(), k) == kColumnOrder.end()) t.columns.push_back(k);
  auto col = [&](const std::string& k) {
    return static_cast<size_t>(std::find(t.columns.begin(), t.columns.end(), k) - t.columns.begin());
  };

  for (auto& r : runs) {
    ScoreRow row;
    row.label = run_label(r);
    row.source = r.file.filename().string();
    row.cells.resize(t.columns.size());
    for (auto& task : r.tasks) {
      if (task.metrics.n_items == 0) continue;
      ScoreCell c;
      c.value = 100 * task.metrics.primary.value;
      c.has_ci = true;
      c.ci_low = 100 * task.metrics.primary.ci_low;
      c.ci_high = 100 * task.metrics.primary.ci_high;
      c.metric = task.info.metric;
      c.shots = task.info.shots;
      c.dataset_sha256 = task.info.dataset_sha256;
      c.n = task.metrics.n_items;
      row.cells[col(task.info.name)] = c;
    }
    t.rows.push_back(std::move(row));
  }
  std::vector<std::string> models;
  for (auto& p : refs)
    if (std::find(models.begin(), models.end(), p.model) == models.end()) models.push_back(p.model);
  std::vector<std::string> sources;
  for (auto& m : models) {
    ScoreRow row;
    row.label = m + " [published]";
    row.published = true;
    row.cells.resize(t.columns.size());
    for (auto& p : refs) {
      if (p.model != m) continue;
      ScoreCell c;
      c.value = p.value;
      c.metric = p.metric;
      if (p.shots) c.shots = *p.shots;
      row.cells[col(p.benchmark)] = c;
      std::string src = fmt::format("{}, {}", p.document, p.table);
      row.source = src;
      if (std::find(sources.begin(), sources.end(), src) == sources.end()) sources.push_back(src);
    }
    t.rows.push_back(std::move(row));
  }

  // Mark settings that differ from the column's most common one (ties: the first row's).
  bool any_setting = false, any_dataset = false;
  std::vector<std::string> usual(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) {
    std::map<std::string, int> count;
    std::vector<std::string> order;
    for (auto& row : t.rows)
      if (row.cells[c]) {
        auto s = row.cells[c]->setting();
        if (count[s]++ == 0) order.push_back(s);
      }
    int best = 0;
    for (auto& s : order)
      if (count[s] > best) { best = count[s]; usual[c] = s; }
    std::string first_sha;
    for (auto& row : t.rows) {
      if (!row.cells[c]) continue;
      auto& cell = *row.cells[c];
      if (cell.setting() != usual[c]) cell.setting_differs = any_setting = true;
      if (!row.published && !cell.dataset_sha256.empty()) {
        if (first_sha.empty()) first_sha = cell.dataset_sha256;
        else if (cell.dataset_sha256 != first_sha) cell.dataset_differs = any_dataset = true;
      }
    }
  }
  t.notes.push_back("Cells: score in percent ± half-width of its 95% CI (runs: Wilson for one sample per item, "
                    "normal for pass@1 over several samples), then metric and shot count. Published scores carry no CI.");
  if (any_setting)
    t.notes.push_back("† this cell's setting (metric or shot count) differs from the most common one in its column; "
                      "compare it with care.");
  if (any_dataset) t.notes.push_back("‡ this run scored a different dataset file (sha256) than the first run in its column.");
  for (auto& s : sources) t.notes.push_back("Published: " + s);
  return t;
}

Table score_table_wide(const ScoreTable& t) {
  Table out;
  out.title = "Benchmark scores";
  out.header.push_back("model");
  for (auto& c : t.columns) out.header.push_back(benchmark_display_name(c));
  out.numeric.assign(out.header.size(), true);
  out.numeric[0] = false;
  for (auto& row : t.rows) {
    std::vector<std::string> cells{row.label};
    for (auto& c : row.cells) {
      if (!c) {
        cells.push_back("—");
        continue;
      }
      std::string s = pct(c->value);
      if (c->has_ci) s += " ± " + pct((c->ci_high - c->ci_low) / 2);
      s += fmt::format(" ({})", c->setting());
      if (c->setting_differs) s += " †";
      if (c->dataset_differs) s += " ‡";
      cells.push_back(s);
    }
    out.rows.push_back(cells);
  }
  out.notes = t.notes;
  return out;
}

Table score_table_long(const ScoreTable& t) {
  Table out;
  out.header = {"model", "kind", "benchmark", "score_pct", "ci95_low_pct", "ci95_high_pct", "metric", "shots",
                "n_items", "setting_differs", "source"};
  for (auto& row : t.rows)
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (!row.cells[c]) continue;
      auto& cell = *row.cells[c];
      out.rows.push_back({row.label, row.published ? "published" : "run", t.columns[c], fmt::format("{:.2f}", cell.value),
                          cell.has_ci ? fmt::format("{:.2f}", cell.ci_low) : "",
                          cell.has_ci ? fmt::format("{:.2f}", cell.ci_high) : "", cell.metric,
                          cell.shots >= 0 ? std::to_string(cell.shots) : "", row.published ? "" : std::to_string(cell.n),
                          cell.setting_differs ? "yes" : "no", row.source});
    }
  return out;
}

std::string render_score_table(const ScoreTable& t, Format f) {
  return f == Format::csv ? render(score_table_long(t), f) : render(score_table_wide(t), f);
}

Table paired_comparison(const RunData& a, const RunData& b) {
  Table out;
  out.title = fmt::format("Paired comparison: {} vs {}", run_label(b), run_label(a));
  out.header = {"benchmark", "common items", "A score %", "B score %", "B − A (pp)", "McNemar b/c", "McNemar p",
                "bootstrap 95% CI (pp)", "bootstrap p", "verdict (5%)"};
  out.numeric = {false, true, true, true, true, true, true, true, true, false};
  for (auto& ta : a.tasks) {
    const TaskData* tb = b.task(ta.info.name);
    if (!tb) continue;
    struct Agg {
      double n = 0, c = 0;
    };
    auto per_item = [](const TaskData& t) {
      std::map<std::string, Agg> m;
      for (auto& s : t.samples) {
        m[s.id].n += 1;
        m[s.id].c += s.correct == 1 ? 1 : 0;
      }
      return m;
    };
    auto ma = per_item(ta), mb = per_item(*tb);
    std::vector<double> xa, xb;
    bool binary = true;
    int64_t only_a = 0, only_b = 0;
    for (auto& [id, agg] : ma) {
      auto it = mb.find(id);
      if (it == mb.end()) continue;
      double sa = agg.c / agg.n, sb = it->second.c / it->second.n;
      xa.push_back(sa);
      xb.push_back(sb);
      if (agg.n != 1 || it->second.n != 1) binary = false;
      if (sa == 1 && sb == 0) ++only_a;
      if (sa == 0 && sb == 1) ++only_b;
    }
    if (xa.empty()) {
      out.rows.push_back({benchmark_display_name(ta.info.name), "0", "—", "—", "—", "—", "—", "—", "—", "no common items"});
      continue;
    }
    double meana = 0, meanb = 0;
    for (size_t i = 0; i < xa.size(); ++i) {
      meana += xa[i];
      meanb += xb[i];
    }
    meana /= static_cast<double>(xa.size());
    meanb /= static_cast<double>(xb.size());
    auto boot = paired_bootstrap(xb, xa);
    std::string mc_bc = "—", mc_p = "—";
    double p_decide = boot.p_value;
    if (binary) {
      double p = mcnemar_exact_p(only_a, only_b);
      mc_bc = fmt::format("{}/{}", only_a, only_b);
      mc_p = fmt::format("{:.4f}", p);
      p_decide = p;
    }
    std::string verdict = p_decide < 0.05 ? (meanb > meana ? "B better" : "A better") : "no significant difference";
    out.rows.push_back({benchmark_display_name(ta.info.name), std::to_string(xa.size()), pct(100 * meana),
                        pct(100 * meanb), fmt::format("{:+.1f}", 100 * (meanb - meana)), mc_bc, mc_p,
                        fmt::format("[{:+.1f}, {:+.1f}]", 100 * boot.ci_low, 100 * boot.ci_high),
                        fmt::format("{:.4f}", boot.p_value), verdict});
  }
  out.notes.push_back(fmt::format("A = {}; B = {}. Items joined on id; scores per item are the share of correct "
                                  "samples (pass@1).",
                                  run_label(a), run_label(b)));
  out.notes.push_back("McNemar: exact two-sided binomial test on discordant items (b: only A correct, c: only B "
                      "correct), shown when both runs have one sample per item, and then used for the verdict; "
                      "otherwise the paired bootstrap (10000 resamples of items, seed 20241227) decides.");
  return out;
}

std::vector<Table> run_summary(const RunData& r) {
  std::vector<Table> out;
  Table p;
  p.title = "Run: " + r.file.filename().string();
  p.header = {"field", "value"};
  auto& v = r.provenance;
  p.rows = {{"status", r.status},
            {"schema", fmt::format("dsv3.eval_run v{}", r.schema_version)},
            {"model", v.model_name},
            {"model spec", v.model_spec},
            {"backend", v.backend},
            {"endpoint", v.endpoint.empty() ? "—" : v.endpoint},
            {"sampling", v.sampling_json},
            {"seed", std::to_string(v.seed)},
            {"dsv3", fmt::format("{} (git {})", v.dsv3_version, v.dsv3_git_hash)},
            {"host", v.host},
            {"command", v.command_line},
            {"start (UTC)", v.start_time_utc},
            {"end (UTC)", v.end_time_utc.empty() ? "—" : v.end_time_utc}};
  out.push_back(p);

  Table s;
  s.title = "Tasks";
  s.header = {"task", "metric", "shots", "items", "score %", "95% CI %", "stderr (pp)", "errors", "pass@k",
              "MMLU micro/macro %", "dataset sha256", "prompt sha256"};
  s.numeric = {false, false, true, true, true, true, true, true, false, false, false, false};
  for (auto& t : r.tasks) {
    auto& m = t.metrics;
    std::string pk;
    for (auto& [k, val] : m.pass_at_k) pk += fmt::format("{}pass@{} {:.1f}", pk.empty() ? "" : ", ", k, 100 * val);
    std::string mm = m.micro && m.macro ? fmt::format("{:.1f} / {:.1f}", 100 * *m.micro, 100 * *m.macro) : "—";
    s.rows.push_back({t.info.name, t.info.metric, std::to_string(t.info.shots),
                      fmt::format("{}/{}", m.n_items, t.info.n_items_planned), pct(100 * m.primary.value),
                      fmt::format("[{}, {}]", pct(100 * m.primary.ci_low), pct(100 * m.primary.ci_high)),
                      fmt::format("{:.2f}", 100 * m.primary.stderr_), std::to_string(m.n_errors), pk.empty() ? "—" : pk,
                      mm, t.info.dataset_sha256.substr(0, 12), t.info.prompt_template_sha256.substr(0, 12)});
  }
  if (r.status != "complete") s.notes.push_back("Run not complete: metrics computed from the samples written so far.");
  out.push_back(s);

  for (auto& t : r.tasks) {
    if (t.metrics.subjects.empty()) continue;
    Table sub;
    sub.title = "Per subject: " + t.info.name;
    sub.header = {"subject", "items", "score %", "95% CI %"};
    sub.numeric = {false, true, true, true};
    for (auto& x : t.metrics.subjects)
      sub.rows.push_back({x.subject, std::to_string(x.estimate.n), pct(100 * x.estimate.value),
                          fmt::format("[{}, {}]", pct(100 * x.estimate.ci_low), pct(100 * x.estimate.ci_high))});
    out.push_back(sub);
  }
  return out;
}

}  // namespace dsv3::reports
