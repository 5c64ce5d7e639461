#include "eval/runner.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "datasets/gsm8k.hpp"
#include "datasets/humaneval.hpp"
#include "datasets/mmlu.hpp"
#include "datasets/sha256.hpp"
#include "eval/humaneval_exec.hpp"
#include "eval/progress.hpp"
#include "eval/task.hpp"
#include "model/errors.hpp"
#include "reports/run_report.hpp"

namespace dsv3::eval {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------
// Ctrl-C: the first SIGINT asks the run to stop after the samples in flight; a second one
// kills the process (the journal keeps every finished sample either way).
// ---------------------------------------------------------------------------------------
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
}

struct SigintGuard {
  struct sigaction old {};
  SigintGuard() {
    g_interrupted = false;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
  }
  ~SigintGuard() { sigaction(SIGINT, &old, nullptr); }
};

// ---------------------------------------------------------------------------------------
// Task metadata
// ---------------------------------------------------------------------------------------

std::string primary_metric(const Task& t) {
  if (t.output == OutputKind::Loglikelihood) return "acc";
  if (t.output == OutputKind::Code) return "pass@1";
  return "em";
}

// The name score_response uses for the primary metric.
std::string primary_response_metric(const Task& t) {
  if (t.dataset == "gsm8k") return "exact_match_flexible";
  return "exact_match";
}

int64_t default_max_tokens(const Task& t) {
  if (t.output == OutputKind::Code) return t.chat ? 1024 : 512;
  if (t.dataset == "mmlu") return t.chat ? 1024 : 8;
  if (t.dataset == "gsm8k") return 512;
  return t.chat ? 2048 : 1024;  // math, math500
}

// MMLU subject from the item id ("…/test/abstract_algebra_test.csv:12"), MATH subject from
// the unique id ("test/algebra/1.json").
std::string doc_subject(const Task& t, const Doc& d) {
  if (t.dataset == "mmlu") {
    std::string file = d.id.substr(0, d.id.rfind(':'));
    std::string stem = fs::path(file).stem().string();
    auto u = stem.rfind('_');
    return u == std::string::npos ? stem : stem.substr(0, u);
  }
  if (t.dataset == "math" || t.dataset == "math500") {
    fs::path p(d.id);
    if (p.has_parent_path()) return p.parent_path().filename().string();
  }
  return "";
}

std::string sha_of_files(std::vector<fs::path> files) {
  std::sort(files.begin(), files.end());
  if (files.size() == 1) return datasets::sha256_file(files[0]);
  datasets::Sha256 h;  // of "sha256  name\n" lines, like sha256sum's output
  for (auto& f : files) h.update(datasets::sha256_file(f) + "  " + f.filename().string() + "\n");
  return h.hex();
}

std::vector<fs::path> files_under(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> v;
  if (!fs::is_directory(dir)) return v;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && (ext.empty() || e.path().extension() == ext)) v.push_back(e.path());
  return v;
}

// What was read for a task, and its sha256.
std::pair<std::string, std::string> dataset_identity(const Task& t, const fs::path& data_dir, int shots) {
  std::vector<fs::path> files;
  if (t.dataset == "mmlu") {
    auto root = datasets::mmlu_root(data_dir);
    files = files_under(root / "test", ".csv");
    if (shots > 0) {
      auto dev = files_under(root / "dev", ".csv");
      files.insert(files.end(), dev.begin(), dev.end());
    }
    return {fmt::format("mmlu ({})", root.string()), sha_of_files(files)};
  }
  if (t.dataset == "gsm8k") {
    auto p = datasets::gsm8k_path(data_dir, "test");
    return {fmt::format("gsm8k ({})", p.string()), sha_of_files({p})};
  }
  if (t.dataset == "humaneval") {
    auto p = datasets::humaneval_path(data_dir);
    return {fmt::format("humaneval ({})", p.string()), sha_of_files({p})};
  }
  // math: merged JSON Lines or the official tree
  fs::path base = fs::is_regular_file(data_dir) ? data_dir : data_dir / "math";
  if (fs::is_regular_file(base)) return {fmt::format("{} ({})", t.dataset, base.string()), sha_of_files({base})};
  if (t.dataset == "math500") {
    auto p = base / "math500_test.jsonl";
    return {fmt::format("math500 ({})", p.string()), sha_of_files({p})};
  }
  if (fs::is_regular_file(base / "test.jsonl"))
    return {fmt::format("math ({})", (base / "test.jsonl").string()), sha_of_files({base / "test.jsonl"})};
  for (auto d : {base / "MATH" / "test", base / "test"}) {
    auto v = files_under(d, ".json");
    if (!v.empty()) return {fmt::format("math ({})", d.string()), sha_of_files(v)};
  }
  return {"math", ""};
}

// The program HumanEval runs: prompt + completion, or for chat the fenced code block (the
// whole program when it defines the entry point, else appended to the prompt).
std::string code_program(const Task& t, const datasets::HumanEvalProblem& p, const std::string& response) {
  if (!t.chat) return humaneval_program(p, response);
  std::string code = response;
  auto open = response.find("```");
  if (open != std::string::npos) {
    auto nl = response.find('\n', open);
    auto close = nl == std::string::npos ? std::string::npos : response.find("```", nl + 1);
    if (nl != std::string::npos) code = response.substr(nl + 1, close == std::string::npos ? std::string::npos : close - nl - 1);
  }
  if (code.find("def " + p.entry_point) != std::string::npos) {
    // keep the prompt's imports
    std::string imports;
    size_t pos = 0;
    while (pos < p.prompt.size()) {
      auto e = p.prompt.find('\n', pos);
      std::string line = p.prompt.substr(pos, e == std::string::npos ? std::string::npos : e - pos);
      if (line.rfind("import ", 0) == 0 || line.rfind("from ", 0) == 0) imports += line + "\n";
      if (e == std::string::npos) break;
      pos = e + 1;
    }
    return imports + code;
  }
  return humaneval_program(p, code);
}

using MetricCache = std::map<std::pair<std::string, int64_t>, std::map<std::string, double>>;

struct TaskRun {
  const Task* task = nullptr;
  MetricCache named;  // named metrics of the samples scored in this invocation
  std::vector<Doc> docs;
  reports::TaskInfo info;
  std::string metric_name;  // score_response's name of the primary metric
  int64_t max_tokens = 0;
  size_t progress_line = 0;
};

struct Unit {
  size_t task;
  size_t doc;
  int64_t sample;
};

json sampling_json(const RunOptions& o) {
  return {{"temperature", o.temperature}, {"top_p", o.top_p}, {"max_tokens", o.max_tokens},
          {"num_samples", o.num_samples}, {"seed", o.seed}, {"seed_rule", "seed + sample_index per sample"},
          {"shots", o.shots}, {"limit", o.limit}};
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

void check_same(const std::string& file, const std::string& what, const std::string& have, const std::string& want) {
  if (have != want)
    throw InputError(fmt::format("{}: an unfinished run with {} '{}', not '{}'; run with the same settings to resume, "
                                 "or pass --overwrite or another --out",
                                 file, what, have, want));
}

// ---------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------

json estimate_json(const reports::Estimate& e) {
  return {{"score", e.value}, {"stderr", e.stderr_}, {"ci95", {e.ci_low, e.ci_high}}, {"n", e.n}};
}

// Named metrics beyond the primary one, re-scored from the stored responses (gsm8k strict).
void add_named_metrics(json& tj, const reports::TaskData& td, const std::map<std::string, const TaskRun*>& runs) {
  auto it = runs.find(td.info.name);
  if (it == runs.end()) return;
  const TaskRun& tr = *it->second;
  if (tr.task->output != OutputKind::Generate || tr.task->metrics.size() < 2) return;
  std::map<std::string, const Doc*> by_id;
  for (auto& d : tr.docs) by_id[d.id] = &d;
  std::map<std::string, std::pair<int64_t, int64_t>> counts;  // metric -> (correct, n)
  for (auto& s : td.samples) {
    auto d = by_id.find(s.id);
    if (d == by_id.end()) continue;
    std::map<std::string, double> m;
    auto cached = tr.named.find({s.id, s.sample_index});
    if (cached != tr.named.end())
      m = cached->second;
    else if (s.error.empty())
      m = score_response(*tr.task, *d->second, s.response).metrics;
    for (auto& name : tr.task->metrics) {
      auto& c = counts[name];
      c.first += m.count(name) && m[name] >= 1 ? 1 : 0;
      c.second += 1;
    }
  }
  for (auto& [name, c] : counts) {
    auto e = reports::proportion(c.first, c.second);
    tj[name] = e.value;
    tj[name + "_stderr"] = e.stderr_;
  }
}

json summary_of(const reports::RunData& rd, const std::map<std::string, const TaskRun*>& runs) {
  json tasks = json::object();
  for (auto& td : rd.tasks) {
    const auto& m = td.metrics;
    json tj{{"n", m.n_items},
            {"score", m.primary.value},
            {"metric", m.metric},
            {"stderr", m.primary.stderr_},
            {"ci95", {m.primary.ci_low, m.primary.ci_high}},
            {"n_samples", m.n_samples},
            {"n_errors", m.n_errors},
            {"n_planned", td.info.n_items_planned}};
    tj[m.metric] = m.primary.value;
    tj[m.metric + "_stderr"] = m.primary.stderr_;
    for (auto& [k, v] : m.pass_at_k) tj[fmt::format("pass@{}", k)] = v;
    if (m.micro) tj["micro"] = *m.micro;
    if (m.macro) tj["macro"] = *m.macro;
    if (!m.subjects.empty()) {
      json subj = json::object();
      for (auto& s : m.subjects) subj[s.subject] = estimate_json(s.estimate);
      tj["subjects"] = subj;
    }
    add_named_metrics(tj, td, runs);
    tasks[td.info.name] = tj;
  }
  return {{"tasks", tasks},
          {"file", rd.file.string()},
          {"status", rd.status},
          {"model", rd.provenance.model_spec},
          {"backend", rd.provenance.backend}};
}

}  // namespace

json run_summary(const std::string& file) { return summary_of(reports::read_run(file), {}); }

RunOutcome run_evaluation(const RunOptions& o) {
  if (o.tasks.empty()) throw InputError("--tasks: no task named");
  if (o.out.empty()) throw InputError("--out: a run file is needed (RUN.h5)");
  if (o.num_samples < 1) throw InputError(fmt::format("--num-samples {}: must be at least 1", o.num_samples));
  if (o.num_samples > 1 && o.temperature == 0)
    throw InputError(fmt::format("--num-samples {} with --temperature 0 repeats the same greedy answer; set a temperature",
                                 o.num_samples));
  if (!fs::exists(o.data_dir)) throw InputError(fmt::format("--data-dir {}: no such folder", o.data_dir));

  auto backend = make_model_backend(o.model_spec, o.backend);
  for (auto& name : o.tasks)
    if (find_task(name).output == OutputKind::Loglikelihood && !backend->supports_loglikelihood())
      throw InputError(fmt::format("task {} scores log-likelihoods, which the {} backend ({}) cannot give; use a "
                                   "generative variant (e.g. mmlu_gen or mmlu_chat)",
                                   name, backend->kind(), o.model_spec));

  // Tasks: prompts, dataset identity.
  std::vector<TaskRun> runs;
  for (auto& name : o.tasks) {
    TaskRun tr;
    tr.task = &find_task(name);
    for (auto& r : runs)
      if (r.task->name == name) throw InputError(fmt::format("--tasks: '{}' named twice", name));
    TaskOptions to;
    to.shots = o.shots;
    if (tr.task->max_shots == 0 && o.shots > 0) to.shots = 0;  // zero-shot tasks ignore --shots
    tr.docs = build_docs(*tr.task, o.data_dir, to);
    if (o.limit >= 0 && static_cast<int64_t>(tr.docs.size()) > o.limit) tr.docs.resize(static_cast<size_t>(o.limit));
    int shots = to.shots < 0 ? tr.task->default_shots : to.shots;
    auto [dataset, sha] = dataset_identity(*tr.task, o.data_dir, shots);
    tr.info.name = name;
    tr.info.dataset = dataset;
    tr.info.dataset_sha256 = sha;
    tr.info.prompt_template_sha256 = task_prompt_hash(tr.docs);
    tr.info.shots = shots;
    tr.info.metric = primary_metric(*tr.task);
    tr.info.samples_per_item = tr.task->output == OutputKind::Loglikelihood ? 1 : o.num_samples;
    for (int64_t k : {1, 10, 100})
      if (tr.info.samples_per_item > 1 && k <= tr.info.samples_per_item) tr.info.pass_k.push_back(k);
    tr.info.n_items_planned = static_cast<int64_t>(tr.docs.size());
    tr.metric_name = primary_response_metric(*tr.task);
    tr.max_tokens = o.max_tokens > 0 ? o.max_tokens : default_max_tokens(*tr.task);
    runs.push_back(std::move(tr));
  }

  // HumanEval problems and the sandbox, when a code task is asked for.
  std::map<std::string, datasets::HumanEvalProblem> problems;
  std::unique_ptr<Sandbox> sandbox;
  for (auto& tr : runs)
    if (tr.task->output == OutputKind::Code && problems.empty()) {
      for (auto& p : datasets::load_humaneval(o.data_dir)) problems[p.task_id] = p;
      SandboxConfig cfg;
      cfg.unsafe_no_sandbox = o.unsafe_no_sandbox;
      cfg.limits.wall_seconds = o.code_timeout_s;
      if (o.unsafe_no_sandbox) fmt::print(stderr, "dsv3: warning: --unsafe-no-sandbox: generated code runs without isolation\n");
      sandbox = std::make_unique<Sandbox>(cfg);
    }

  // The run file: new, or resumed when an unfinished one is there.
  reports::RunProvenance prov;
  prov.dsv3_version = o.dsv3_version;
  prov.dsv3_git_hash = o.dsv3_git_hash;
  prov.model_spec = o.model_spec;
  prov.model_name = backend->model_name();
  prov.backend = backend->kind();
  prov.endpoint = backend->endpoint();
  prov.sampling_json = sampling_json(o).dump();
  prov.seed = static_cast<int64_t>(o.seed);
  prov.host = hostname();
  prov.command_line = o.command_line;
  prov.start_time_utc = reports::utc_now_iso();
  std::vector<reports::TaskInfo> infos;
  for (auto& tr : runs) infos.push_back(tr.info);

  std::unique_ptr<reports::RunWriter> writer;
  bool exists = fs::exists(o.out) || fs::exists(o.out + ".journal");
  if (exists && !o.overwrite) {
    std::string status;
    if (fs::exists(o.out)) {
      try {
        status = reports::read_run(o.out).status;
      } catch (const InputError&) {
        status = "unreadable";  // a crash can leave it damaged; resume() repairs it from the journal
      }
    }
    if (status == "complete")
      throw InputError(fmt::format("{}: already a complete run; pass --overwrite to run again, or choose another --out "
                                   "('dsv3 report show {}' prints it)",
                                   o.out, o.out));
    writer = reports::RunWriter::resume(o.out);
    auto& p = writer->provenance();
    check_same(o.out, "model", p.model_spec, o.model_spec);
    check_same(o.out, "sampling", p.sampling_json, prov.sampling_json);
    std::string have, want;
    for (auto& t : writer->tasks()) have += (have.empty() ? "" : ",") + t.name;
    for (auto& t : infos) want += (want.empty() ? "" : ",") + t.name;
    check_same(o.out, "tasks", have, want);
    for (size_t i = 0; i < infos.size(); ++i) {
      check_same(o.out, infos[i].name + " prompts (sha256)", writer->tasks()[i].prompt_template_sha256,
                 infos[i].prompt_template_sha256);
      check_same(o.out, infos[i].name + " dataset (sha256)", writer->tasks()[i].dataset_sha256, infos[i].dataset_sha256);
    }
  } else {
    writer = reports::RunWriter::create(o.out, prov, infos, o.overwrite);
  }

  // What is left to do.
  Progress progress(o.progress);
  std::deque<Unit> queue;
  int64_t already = 0;
  {
    reports::RunData existing;
    bool have_existing = false;
    for (size_t t = 0; t < runs.size(); ++t) {
      auto& tr = runs[t];
      int64_t done = 0, correct = 0;
      if (writer->count(tr.info.name) > 0 && !have_existing) {
        existing = reports::read_run(o.out);
        have_existing = true;
      }
      if (have_existing)
        if (auto* td = existing.task(tr.info.name))
          for (auto& s : td->samples) {
            ++done;
            correct += s.correct == 1;
          }
      for (size_t d = 0; d < tr.docs.size(); ++d)
        for (int64_t k = 0; k < tr.info.samples_per_item; ++k)
          if (!writer->done(tr.info.name, tr.docs[d].id, k)) queue.push_back({t, d, k});
      int64_t planned = static_cast<int64_t>(tr.docs.size()) * tr.info.samples_per_item;
      already += done;
      tr.progress_line = progress.add_task(tr.info.name, planned, done, correct);
    }
  }

  // Workers: each takes a batch of units of one task, asks the backend, scores, appends.
  SigintGuard sigint;
  std::mutex qmu, wmu;
  std::atomic<bool> stop{false};
  std::optional<std::string> fatal;
  std::atomic<int64_t> added{0};
  int workers = std::max(1, backend->max_parallel());
  bool code = sandbox != nullptr;
  if (code) workers = std::max(workers, o.code_workers > 0 ? o.code_workers : 2);
  auto take = [&](std::vector<Unit>& batch) {
    std::lock_guard lock(qmu);
    batch.clear();
    if (queue.empty() || stop || g_interrupted) return;
    size_t t = queue.front().task;
    size_t cap = runs[t].task->output == OutputKind::Code && backend->kind() == "replay" ? 1
                                                                                          : static_cast<size_t>(backend->max_batch());
    while (!queue.empty() && queue.front().task == t && batch.size() < cap) {
      batch.push_back(queue.front());
      queue.pop_front();
    }
  };
  auto cancelled = [&](const std::string& error) {
    return (g_interrupted || stop) && error.size() >= 9 && error.compare(error.size() - 9, 9, "cancelled") == 0;
  };
  // The fields every sample record has, whatever the task's output kind.
  auto base_record = [&](const Task& task, const auto& d, int64_t sample, double latency_s, int64_t tokens_in,
                         const std::string& error) {
    reports::SampleRecord r;
    r.id = d.id;
    r.sample_index = sample;
    r.subject = doc_subject(task, d);
    r.prompt_sha256 = d.prompt_sha256;
    r.latency_s = latency_s;
    r.tokens_in = tokens_in;
    r.error = error;
    return r;
  };
  auto record = [&](const TaskRun& tr, const std::vector<reports::SampleRecord>& recs) {
    if (recs.empty()) return;
    std::lock_guard lock(wmu);
    writer->append_many(tr.info.name, recs);
    added += static_cast<int64_t>(recs.size());
    for (auto& r : recs) progress.tick(tr.progress_line, r.correct == 1);
  };
  // One record per answered unit of the batch, in order, written together. True when a cancelled
  // request cut the batch short (the units after it are not samples).
  auto collect = [&](const TaskRun& tr, const std::vector<Unit>& batch, const auto& res, auto&& fill) {
    std::vector<reports::SampleRecord> recs;
    bool cut = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& d = tr.docs[batch[i].doc];
      auto& x = res[i];
      if (cancelled(x.error)) {  // no answer came: not a sample
        cut = true;
        break;
      }
      reports::SampleRecord r = base_record(*tr.task, d, batch[i].sample, x.latency_s, x.tokens_in, x.error);
      fill(r, d, x, i);
      recs.push_back(std::move(r));
    }
    record(tr, recs);
    return cut;
  };
  auto work = [&](int slot) {
    std::vector<Unit> batch;
    try {
      for (;;) {
        take(batch);
        if (batch.empty()) return;
        const TaskRun& tr = runs[batch[0].task];
        const Task& task = *tr.task;
        if (task.output == OutputKind::Loglikelihood) {
          std::vector<LoglikRequest> reqs;
          for (auto& u : batch) {
            auto& d = tr.docs[u.doc];
            reqs.push_back({d.id, d.prompt, d.choices});
          }
          auto res = backend->loglikelihood(reqs);
          const bool cut = collect(tr, batch, res, [&](reports::SampleRecord& r, const auto& d, const auto& x, size_t) {
            r.gold = d.gold;
            if (x.error.empty()) {
              size_t best = 0;
              for (size_t c = 1; c < x.logprobs.size(); ++c)
                if (x.logprobs[c] > x.logprobs[best]) best = c;
              r.response = json(x.logprobs).dump();
              r.extracted = best < d.choices.size() ? std::string(1, static_cast<char>('A' + best)) : "";
              r.correct = static_cast<int>(best) == d.gold_index ? 1 : 0;
              for (auto n : x.tokens) r.tokens_out += n;
            } else {
              r.correct = -1;
            }
          });
          if (cut) return;
          continue;
        }
        std::vector<GenRequest> reqs;
        for (auto& u : batch) {
          auto& d = tr.docs[u.doc];
          GenRequest q;
          q.id = d.id;
          q.sample_index = u.sample;
          q.prompt = d.prompt;
          q.chat = task.chat;
          q.stop = d.stop;
          q.max_tokens = tr.max_tokens;
          q.temperature = o.temperature;
          q.top_p = o.top_p;
          q.seed = o.seed + static_cast<uint64_t>(u.sample);
          reqs.push_back(std::move(q));
        }
        auto res = backend->generate(reqs);
        const bool cut = collect(tr, batch, res, [&](reports::SampleRecord& r, const auto& d, const auto& x, size_t i) {
          r.gold = task.output == OutputKind::Code ? "" : d.gold;
          r.response = x.text;
          r.tokens_out = x.tokens_out;
          if (!x.error.empty()) {
            r.correct = -1;
          } else if (task.output == OutputKind::Code) {
            auto p = problems.find(d.id);
            if (p == problems.end()) {
              r.correct = -1;
              r.error = fmt::format("no HumanEval problem '{}'", d.id);
            } else {
              auto oc = run_humaneval(*sandbox, p->second, code_program(task, p->second, x.text), slot);
              r.extracted = oc.status;
              r.correct = oc.status == "passed" ? 1 : 0;
            }
          } else {
            auto sc = score_response(task, d, x.text);
            if (task.metrics.size() > 1) {
              std::lock_guard lock(wmu);
              runs[batch[0].task].named[{d.id, batch[i].sample}] = sc.metrics;
            }
            r.extracted = sc.extracted;
            auto m = sc.metrics.find(tr.metric_name);
            r.correct = m != sc.metrics.end() && m->second >= 1 ? 1 : 0;
          }
        });
        if (cut) return;
      }
    } catch (const BackendError& e) {
      std::lock_guard lock(qmu);
      if (!fatal) fatal = e.what();
      stop = true;
    } catch (const std::exception& e) {
      std::lock_guard lock(qmu);
      if (!fatal) fatal = std::string("internal: ") + e.what();
      stop = true;
    }
  };
  std::atomic<bool> all_done{false};
  std::thread watcher([&] {  // turns Ctrl-C or a fatal error into cancelling requests in flight
    while (!all_done) {
      if (g_interrupted || stop) {
        backend->cancel();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
  }
  all_done = true;
  watcher.join();
  progress.finish();

  RunOutcome out;
  out.samples_run = added;
  out.samples_total = already + added;
  std::map<std::string, const TaskRun*> by_name;
  for (auto& tr : runs) by_name[tr.info.name] = &tr;
  if (fatal) {
    writer.reset();
    std::string msg = *fatal;
    if (msg.rfind("internal: ", 0) == 0)
      throw std::runtime_error(fmt::format("{} ({} samples saved in {}; the same command resumes)", msg.substr(10),
                                           already + added, o.out));
    throw BackendError(fmt::format("{} ({} samples saved in {}; the same command resumes)", msg, already + added, o.out));
  }
  if (g_interrupted || !queue.empty()) {
    writer.reset();
    out.complete = false;
    out.summary = summary_of(reports::read_run(o.out), by_name);
    return out;
  }
  writer->finish(reports::utc_now_iso());
  writer.reset();
  out.complete = true;
  out.summary = summary_of(reports::read_run(o.out), by_name);
  return out;
}

}  // namespace dsv3::eval
