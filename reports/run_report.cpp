#include "reports/run_report.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "model/errors.hpp"
#include "reports/h5_file.hpp"

namespace dsv3::reports {

namespace fs = std::filesystem;
using nlohmann::json;

std::string utc_now_iso() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const TaskData* RunData::task(const std::string& name) const {
  for (auto& t : tasks)
    if (t.info.name == name) return &t;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------

TaskMetrics compute_metrics(const TaskInfo& task, const std::vector<SampleRecord>& samples) {
  TaskMetrics m;
  m.metric = task.metric;
  m.n_samples = static_cast<int64_t>(samples.size());
  struct Item {
    int64_t n = 0, c = 0;
    std::string subject;
  };
  std::map<std::string, Item> items;
  std::vector<std::string> order;
  for (auto& s : samples) {
    if (s.correct < 0) ++m.n_errors;
    auto [it, fresh] = items.try_emplace(s.id);
    if (fresh) order.push_back(s.id);
    it->second.n += 1;
    it->second.c += s.correct == 1 ? 1 : 0;
    if (!s.subject.empty()) it->second.subject = s.subject;
  }
  m.n_items = static_cast<int64_t>(items.size());
  if (items.empty()) return m;
  bool single = std::all_of(items.begin(), items.end(), [](auto& kv) { return kv.second.n == 1; });
  auto item_score = [](const Item& it) { return static_cast<double>(it.c) / static_cast<double>(it.n); };  // pass@1
  auto estimate_of = [&](const std::vector<const Item*>& v) {
    if (single) {
      int64_t k = 0;
      for (auto* it : v) k += it->c;
      return proportion(k, static_cast<int64_t>(v.size()));
    }
    std::vector<double> x;
    for (auto* it : v) x.push_back(item_score(*it));
    return mean_estimate(x);
  };
  std::vector<const Item*> all;
  for (auto& id : order) all.push_back(&items[id]);
  m.primary = estimate_of(all);
  if (!single) {
    for (int64_t k : task.pass_k) {
      double s = 0;
      bool ok = true;
      for (auto* it : all) {
        if (it->n < k) { ok = false; break; }
        s += pass_at_k(it->n, it->c, k);
      }
      if (ok) m.pass_at_k[k] = s / static_cast<double>(all.size());
    }
  }
  std::map<std::string, std::vector<const Item*>> by_subject;
  for (auto* it : all)
    if (!it->subject.empty()) by_subject[it->subject].push_back(it);
  if (!by_subject.empty()) {
    double macro = 0;
    for (auto& [name, v] : by_subject) {
      m.subjects.push_back({name, estimate_of(v)});
      macro += m.subjects.back().estimate.value;
    }
    m.micro = m.primary.value;
    m.macro = macro / static_cast<double>(m.subjects.size());
  }
  return m;
}

// ---------------------------------------------------------------------------------------
// HDF5 layout
// ---------------------------------------------------------------------------------------

// Journal (JSON lines) form of the header records: the members under their own names (the
// provenance's end time is not journalled: the run has not ended when the header is written).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunProvenance, dsv3_version, dsv3_git_hash, model_spec, model_name, backend,
                                   endpoint, sampling_json, seed, host, command_line, start_time_utc)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TaskInfo, name, dataset, dataset_sha256, prompt_template_sha256, shots, metric,
                                   samples_per_item, pass_k, n_items_planned)

namespace {

struct Col {
  const char* name;
  h5::ColType type;
};
constexpr Col kCols[] = {
    {"id", h5::ColType::str},          {"sample_index", h5::ColType::i32}, {"subject", h5::ColType::str},
    {"prompt_sha256", h5::ColType::str}, {"response", h5::ColType::str},  {"extracted", h5::ColType::str},
    {"gold", h5::ColType::str},        {"correct", h5::ColType::i8},       {"latency_s", h5::ColType::f64},
    {"tokens_in", h5::ColType::i64},   {"tokens_out", h5::ColType::i64},   {"error", h5::ColType::str},
};

void write_provenance(hid_t file, const RunProvenance& p) {
  auto g = h5::ensure_group(file, "provenance");
  h5::set_attr(g.id(), "dsv3_version", p.dsv3_version);
  h5::set_attr(g.id(), "dsv3_git_hash", p.dsv3_git_hash);
  h5::set_attr(g.id(), "model_spec", p.model_spec);
  h5::set_attr(g.id(), "model_name", p.model_name);
  h5::set_attr(g.id(), "backend", p.backend);
  h5::set_attr(g.id(), "endpoint", p.endpoint);
  h5::set_attr(g.id(), "sampling_json", p.sampling_json);
  h5::set_attr(g.id(), "seed", p.seed);
  h5::set_attr(g.id(), "host", p.host);
  h5::set_attr(g.id(), "command_line", p.command_line);
  h5::set_attr(g.id(), "start_time_utc", p.start_time_utc);
  h5::set_attr(g.id(), "end_time_utc", p.end_time_utc);
}

RunProvenance read_provenance(hid_t file) {
  auto g = h5::open_group(file, "provenance");
  RunProvenance p;
  p.dsv3_version = h5::attr_str(g.id(), "dsv3_version");
  p.dsv3_git_hash = h5::attr_str(g.id(), "dsv3_git_hash");
  p.model_spec = h5::attr_str(g.id(), "model_spec");
  p.model_name = h5::attr_str(g.id(), "model_name");
  p.backend = h5::attr_str(g.id(), "backend");
  p.endpoint = h5::attr_str(g.id(), "endpoint");
  p.sampling_json = h5::attr_str(g.id(), "sampling_json");
  p.seed = h5::attr_int(g.id(), "seed");
  p.host = h5::attr_str(g.id(), "host");
  p.command_line = h5::attr_str(g.id(), "command_line");
  p.start_time_utc = h5::attr_str(g.id(), "start_time_utc");
  p.end_time_utc = h5::attr_str(g.id(), "end_time_utc");
  return p;
}

void create_task(hid_t file, const TaskInfo& t) {
  auto g = h5::create_group(file, "tasks/" + t.name);
  h5::set_attr(g.id(), "task", t.name);
  h5::set_attr(g.id(), "dataset", t.dataset);
  h5::set_attr(g.id(), "dataset_sha256", t.dataset_sha256);
  h5::set_attr(g.id(), "prompt_template_sha256", t.prompt_template_sha256);
  h5::set_attr(g.id(), "shots", t.shots);
  h5::set_attr(g.id(), "metric", t.metric);
  h5::set_attr(g.id(), "samples_per_item", t.samples_per_item);
  h5::set_attr(g.id(), "pass_k", t.pass_k);
  h5::set_attr(g.id(), "n_items_planned", t.n_items_planned);
  auto s = h5::create_group(g.id(), "samples");
  for (auto& c : kCols) h5::create_column(s.id(), c.name, c.type);
}

TaskInfo read_task_info(hid_t g, const std::string& name) {
  TaskInfo t;
  t.name = name;
  t.dataset = h5::attr_str(g, "dataset");
  t.dataset_sha256 = h5::attr_str(g, "dataset_sha256");
  t.prompt_template_sha256 = h5::attr_str(g, "prompt_template_sha256");
  t.shots = h5::attr_int(g, "shots");
  t.metric = h5::attr_str(g, "metric");
  t.samples_per_item = h5::attr_int(g, "samples_per_item");
  t.pass_k = h5::attr_ints(g, "pass_k");
  t.n_items_planned = h5::attr_int(g, "n_items_planned");
  return t;
}

void append_sample(hid_t samples, const SampleRecord& r) {
  h5::append(samples, "id", r.id);
  h5::append(samples, "sample_index", r.sample_index);
  h5::append(samples, "subject", r.subject);
  h5::append(samples, "prompt_sha256", r.prompt_sha256);
  h5::append(samples, "response", r.response);
  h5::append(samples, "extracted", r.extracted);
  h5::append(samples, "gold", r.gold);
  h5::append(samples, "correct", r.correct);
  h5::append(samples, "latency_s", r.latency_s);
  h5::append(samples, "tokens_in", r.tokens_in);
  h5::append(samples, "tokens_out", r.tokens_out);
  h5::append(samples, "error", r.error);
}

// Length common to every column (a crash can leave the last row half written).
size_t common_length(hid_t samples) {
  size_t n = SIZE_MAX;
  for (auto& c : kCols) n = std::min(n, h5::column_length(samples, c.name));
  return n;
}

std::vector<SampleRecord> read_samples(hid_t samples, size_t n) {
  auto id = h5::read_strings(samples, "id");
  auto si = h5::read_ints(samples, "sample_index");
  auto subj = h5::read_strings(samples, "subject");
  auto ph = h5::read_strings(samples, "prompt_sha256");
  auto resp = h5::read_strings(samples, "response");
  auto ext = h5::read_strings(samples, "extracted");
  auto gold = h5::read_strings(samples, "gold");
  auto cor = h5::read_ints(samples, "correct");
  auto lat = h5::read_doubles(samples, "latency_s");
  auto ti = h5::read_ints(samples, "tokens_in");
  auto to = h5::read_ints(samples, "tokens_out");
  auto err = h5::read_strings(samples, "error");
  std::vector<SampleRecord> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = {id[i], si[i], subj[i], ph[i], resp[i], ext[i], gold[i], cor[i], lat[i], ti[i], to[i], err[i]};
  }
  return v;
}

void write_estimate(hid_t g, const std::string& prefix, const Estimate& e) {
  h5::set_attr(g, prefix + "score", e.value);
  h5::set_attr(g, prefix + "stderr", e.stderr_);
  h5::set_attr(g, prefix + "ci95_low", e.ci_low);
  h5::set_attr(g, prefix + "ci95_high", e.ci_high);
  h5::set_attr(g, prefix + "n", e.n);
}

Estimate read_estimate(hid_t g, const std::string& prefix) {
  Estimate e;
  e.value = h5::attr_double(g, prefix + "score");
  e.stderr_ = h5::attr_double(g, prefix + "stderr");
  e.ci_low = h5::attr_double(g, prefix + "ci95_low");
  e.ci_high = h5::attr_double(g, prefix + "ci95_high");
  e.n = h5::attr_int(g, prefix + "n");
  return e;
}

void write_metrics(hid_t task_group, const TaskMetrics& m) {
  h5::remove_link(task_group, "metrics");
  auto g = h5::create_group(task_group, "metrics");
  h5::set_attr(g.id(), "metric", m.metric);
  write_estimate(g.id(), "", m.primary);
  h5::set_attr(g.id(), "n_items", m.n_items);
  h5::set_attr(g.id(), "n_samples", m.n_samples);
  h5::set_attr(g.id(), "n_errors", m.n_errors);
  for (auto& [k, v] : m.pass_at_k) h5::set_attr(g.id(), fmt::format("pass@{}", k), v);
  if (m.micro) h5::set_attr(g.id(), "micro", *m.micro);
  if (m.macro) h5::set_attr(g.id(), "macro", *m.macro);
  if (!m.subjects.empty()) {
    auto s = h5::create_group(g.id(), "subjects");
    std::vector<std::string> name;
    std::vector<int64_t> n;
    std::vector<double> score, se, lo, hi;
    for (auto& x : m.subjects) {
      name.push_back(x.subject);
      n.push_back(x.estimate.n);
      score.push_back(x.estimate.value);
      se.push_back(x.estimate.stderr_);
      lo.push_back(x.estimate.ci_low);
      hi.push_back(x.estimate.ci_high);
    }
    h5::write_column(s.id(), "subject", name);
    h5::write_column(s.id(), "n", n);
    h5::write_column(s.id(), "score", score);
    h5::write_column(s.id(), "stderr", se);
    h5::write_column(s.id(), "ci95_low", lo);
    h5::write_column(s.id(), "ci95_high", hi);
  }
}

TaskMetrics read_metrics(hid_t task_group) {
  auto g = h5::open_group(task_group, "metrics");
  TaskMetrics m;
  m.metric = h5::attr_str(g.id(), "metric");
  m.primary = read_estimate(g.id(), "");
  m.n_items = h5::attr_int(g.id(), "n_items");
  m.n_samples = h5::attr_int(g.id(), "n_samples");
  m.n_errors = h5::attr_int(g.id(), "n_errors");
  for (int64_t k = 1; k <= 1000; ++k)
    if (auto v = h5::attr_double_opt(g.id(), fmt::format("pass@{}", k))) m.pass_at_k[k] = *v;
  m.micro = h5::attr_double_opt(g.id(), "micro");
  m.macro = h5::attr_double_opt(g.id(), "macro");
  if (h5::exists(g.id(), "subjects")) {
    auto s = h5::open_group(g.id(), "subjects");
    auto name = h5::read_strings(s.id(), "subject");
    auto n = h5::read_ints(s.id(), "n");
    auto score = h5::read_doubles(s.id(), "score");
    auto se = h5::read_doubles(s.id(), "stderr");
    auto lo = h5::read_doubles(s.id(), "ci95_low");
    auto hi = h5::read_doubles(s.id(), "ci95_high");
    for (size_t i = 0; i < name.size(); ++i) m.subjects.push_back({name[i], {score[i], se[i], lo[i], hi[i], n[i]}});
  }
  return m;
}

void check_schema(hid_t file, const fs::path& p) {
  std::string schema = h5::attr_str_or(file, "schema", "");
  if (schema != kEvalRunSchema)
    throw InputError(fmt::format("{}: attribute 'schema' is '{}', expected '{}'", p.string(), schema, kEvalRunSchema));
  int64_t v = h5::attr_int(file, "schema_version");
  if (v > kEvalRunSchemaVersion)
    throw InputError(fmt::format("{}: schema_version {} is newer than this build reads ({})", p.string(), v,
                                 kEvalRunSchemaVersion));
}

// ---------------------------------------------------------------------------------------
// Journal
// ---------------------------------------------------------------------------------------

json sample_json(const std::string& task, const SampleRecord& r) {
  return {{"t", task},          {"id", r.id},           {"i", r.sample_index}, {"subject", r.subject},
          {"prompt_sha256", r.prompt_sha256}, {"response", r.response}, {"extracted", r.extracted},
          {"gold", r.gold},     {"correct", r.correct}, {"latency_s", r.latency_s}, {"tokens_in", r.tokens_in},
          {"tokens_out", r.tokens_out}, {"error", r.error}};
}
SampleRecord sample_from(const json& j) {
  return {j.at("id"),         j.at("i"),          j.at("subject"),   j.at("prompt_sha256"),
          j.at("response"),   j.at("extracted"),  j.at("gold"),      j.at("correct"),
          j.at("latency_s"),  j.at("tokens_in"),  j.at("tokens_out"), j.at("error")};
}

fs::path journal_path(const fs::path& file) { return fs::path(file.string() + ".journal"); }

void write_line(int fd, const std::string& line, const fs::path& jp) {
  std::string s = line + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0) throw std::runtime_error(fmt::format("{}: write failed", jp.string()));
    p += w;
    left -= static_cast<size_t>(w);
  }
}

struct Journal {
  RunProvenance prov;
  std::vector<TaskInfo> tasks;
  std::vector<std::pair<std::string, SampleRecord>> samples;
};

// Reads the journal; a torn last line (the process died mid-write) is dropped.
Journal read_journal(const fs::path& jp) {
  std::ifstream in(jp);
  if (!in) throw InputError(fmt::format("{}: cannot read journal", jp.string()));
  Journal j;
  std::string line;
  bool header = false;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    json x;
    try {
      x = json::parse(line);
    } catch (const json::exception&) {
      if (in.peek() == EOF) break;  // torn tail
      throw InputError(fmt::format("{}: line {}: not JSON", jp.string(), lineno));
    }
    if (!header) {
      if (x.value("type", "") != "header") throw InputError(fmt::format("{}: line 1: no header", jp.string()));
      j.prov = x.at("provenance").get<RunProvenance>();
      for (auto& t : x.at("tasks")) j.tasks.push_back(t.get<TaskInfo>());
      header = true;
      continue;
    }
    j.samples.emplace_back(x.at("t").get<std::string>(), sample_from(x));
  }
  if (!header) throw InputError(fmt::format("{}: empty journal", jp.string()));
  return j;
}

void init_file(const fs::path& file, const RunProvenance& prov, const std::vector<TaskInfo>& tasks) {
  auto f = h5::create_file(file);
  h5::set_attr(f.id(), "schema", std::string(kEvalRunSchema));
  h5::set_attr(f.id(), "schema_version", kEvalRunSchemaVersion);
  h5::set_attr(f.id(), "dsv3_version", prov.dsv3_version);
  h5::set_attr(f.id(), "dsv3_git_hash", prov.dsv3_git_hash);
  h5::set_attr(f.id(), "status", std::string("running"));
  write_provenance(f.id(), prov);
  h5::create_group(f.id(), "tasks");
  for (auto& t : tasks) create_task(f.id(), t);
  h5::flush(f);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

RunData read_run(const fs::path& file) {
  auto f = h5::open_file(file, false);
  try {
    check_schema(f.id(), file);
    RunData r;
    r.file = file;
    r.schema_version = h5::attr_int(f.id(), "schema_version");
    r.status = h5::attr_str(f.id(), "status");
    r.provenance = read_provenance(f.id());
    auto tg = h5::open_group(f.id(), "tasks");
    for (auto& name : h5::list_children(tg.id())) {
      auto g = h5::open_group(tg.id(), name);
      TaskData td;
      td.info = read_task_info(g.id(), name);
      auto s = h5::open_group(g.id(), "samples");
      td.samples = read_samples(s.id(), common_length(s.id()));
      if (h5::exists(g.id(), "metrics")) {
        td.metrics = read_metrics(g.id());
        td.metrics_stored = true;
      } else {
        td.metrics = compute_metrics(td.info, td.samples);
      }
      r.tasks.push_back(std::move(td));
    }
    return r;
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (msg.rfind(file.string(), 0) == 0) throw;
    throw InputError(fmt::format("{}: {}", file.string(), msg));
  }
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

struct RunWriter::Impl {
  h5::Handle file;
  int journal_fd = -1;
  fs::path journal;
  std::map<std::string, std::set<std::pair<std::string, int64_t>>> done;
  ~Impl() {
    if (journal_fd >= 0) ::close(journal_fd);
  }
};

RunWriter::~RunWriter() = default;

std::unique_ptr<RunWriter> RunWriter::create(const fs::path& file, const RunProvenance& prov,
                                             const std::vector<TaskInfo>& tasks, bool overwrite) {
  if (!overwrite && fs::exists(file))
    throw InputError(fmt::format("{}: already exists (resume it, or choose another name)", file.string()));
  std::set<std::string> names;
  for (auto& t : tasks) {
    if (t.name.empty() || t.name.find('/') != std::string::npos)
      throw InputError(fmt::format("task name '{}' is empty or contains '/'", t.name));
    if (!names.insert(t.name).second) throw InputError(fmt::format("task '{}' given twice", t.name));
  }
  std::unique_ptr<RunWriter> w(new RunWriter());
  w->file_ = file;
  w->prov_ = prov;
  w->tasks_ = tasks;
  w->impl_ = std::make_unique<Impl>();
  w->impl_->journal = journal_path(file);
  json header = {{"type", "header"}, {"schema", kEvalRunSchema}, {"provenance", json(prov)}, {"tasks", json::array()}};
  for (auto& t : tasks) header["tasks"].push_back(json(t));
  int fd = ::open(w->impl_->journal.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(fmt::format("{}: cannot create journal", w->impl_->journal.string()));
  w->impl_->journal_fd = fd;
  write_line(fd, header.dump(), w->impl_->journal);
  init_file(file, prov, tasks);
  w->impl_->file = h5::open_file(file, true);
  return w;
}

std::unique_ptr<RunWriter> RunWriter::resume(const fs::path& file) {
  const fs::path jp = journal_path(file);
  std::unique_ptr<RunWriter> w(new RunWriter());
  w->file_ = file;
  w->impl_ = std::make_unique<Impl>();
  w->impl_->journal = jp;
  if (!fs::exists(jp)) {
    // No journal: the run finished (or was never made by RunWriter).
    if (fs::exists(file)) {
      auto r = read_run(file);
      if (r.status == "complete")
        throw InputError(fmt::format("{}: run is complete; nothing to resume", file.string()));
    }
    throw InputError(fmt::format("{}: no journal {} to resume from", file.string(), jp.string()));
  }
  Journal j = read_journal(jp);
  w->prov_ = j.prov;
  w->tasks_ = j.tasks;
  // Samples per task, in journal order.
  std::map<std::string, std::vector<const SampleRecord*>> per_task;
  for (auto& [t, s] : j.samples) per_task[t].push_back(&s);

  bool usable = false;
  try {
    auto f = h5::open_file(file, true);
    check_schema(f.id(), file);
    for (auto& t : w->tasks_) {
      auto s = h5::open_group(f.id(), "tasks/" + t.name + "/samples");
      size_t have = common_length(s.id());
      size_t want = per_task[t.name].size();
      if (have > want) throw InputError("more rows than journal lines");
      for (auto& c : kCols) h5::truncate_column(s.id(), c.name, have);  // drop a half-written row
      for (size_t i = have; i < want; ++i) append_sample(s.id(), *per_task[t.name][i]);
    }
    h5::flush(f);
    w->impl_->file = std::move(f);
    usable = true;
  } catch (const std::exception&) {
    usable = false;
  }
  if (!usable) {
    // Rebuild the HDF5 file from the journal, then swap it in.
    w->impl_->file.reset();
    fs::path tmp = file.string() + ".rebuild";
    init_file(tmp, w->prov_, w->tasks_);
    {
      auto f = h5::open_file(tmp, true);
      for (auto& t : w->tasks_) {
        auto s = h5::open_group(f.id(), "tasks/" + t.name + "/samples");
        for (auto* r : per_task[t.name]) append_sample(s.id(), *r);
      }
      h5::flush(f);
    }
    fs::rename(tmp, file);
    w->impl_->file = h5::open_file(file, true);
  }
  // Rewrite the journal without a torn tail so later appends start on a fresh line.
  {
    std::string content;
    json header = {{"type", "header"}, {"schema", kEvalRunSchema}, {"provenance", json(w->prov_)}, {"tasks", json::array()}};
    for (auto& t : w->tasks_) header["tasks"].push_back(json(t));
    content = header.dump() + "\n";
    for (auto& [t, s] : j.samples) content += sample_json(t, s).dump() + "\n";
    fs::path jtmp = jp.string() + ".tmp";
    {
      std::ofstream out(jtmp, std::ios::trunc);
      out << content;
      if (!out) throw std::runtime_error(fmt::format("{}: write failed", jtmp.string()));
    }
    fs::rename(jtmp, jp);
  }
  int fd = ::open(jp.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) throw InputError(fmt::format("{}: cannot open journal", jp.string()));
  w->impl_->journal_fd = fd;
  for (auto& [t, s] : j.samples) w->impl_->done[t].insert({s.id, s.sample_index});
  return w;
}

bool RunWriter::done(const std::string& task, const std::string& id, int64_t sample_index) const {
  auto it = impl_->done.find(task);
  return it != impl_->done.end() && it->second.count({id, sample_index}) > 0;
}

size_t RunWriter::count(const std::string& task) const {
  auto it = impl_->done.find(task);
  return it == impl_->done.end() ? 0 : it->second.size();
}

void RunWriter::append(const std::string& task, const SampleRecord& s) {
  if (std::none_of(tasks_.begin(), tasks_.end(), [&](auto& t) { return t.name == task; }))
    throw std::logic_error(fmt::format("RunWriter::append: unknown task '{}'", task));
  if (impl_->journal_fd < 0) throw std::logic_error("RunWriter::append after finish");
  write_line(impl_->journal_fd, sample_json(task, s).dump(), impl_->journal);
  auto g = h5::open_group(impl_->file.id(), "tasks/" + task + "/samples");
  append_sample(g.id(), s);
  h5::flush(impl_->file);
  impl_->done[task].insert({s.id, s.sample_index});
}

void RunWriter::append_many(const std::string& task, const std::vector<SampleRecord>& v) {
  if (v.empty()) return;
  if (std::none_of(tasks_.begin(), tasks_.end(), [&](auto& t) { return t.name == task; }))
    throw std::logic_error(fmt::format("RunWriter::append_many: unknown task '{}'", task));
  if (impl_->journal_fd < 0) throw std::logic_error("RunWriter::append_many after finish");
  std::string lines;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) lines += '\n';
    lines += sample_json(task, v[i]).dump();
  }
  write_line(impl_->journal_fd, lines, impl_->journal);
  auto g = h5::open_group(impl_->file.id(), "tasks/" + task + "/samples");
  std::vector<std::string> id, subject, ph, resp, ext, gold, err;
  std::vector<int64_t> si, cor, ti, to;
  std::vector<double> lat;
  for (auto& r : v) {
    id.push_back(r.id);
    si.push_back(r.sample_index);
    subject.push_back(r.subject);
    ph.push_back(r.prompt_sha256);
    resp.push_back(r.response);
    ext.push_back(r.extracted);
    gold.push_back(r.gold);
    cor.push_back(r.correct);
    lat.push_back(r.latency_s);
    ti.push_back(r.tokens_in);
    to.push_back(r.tokens_out);
    err.push_back(r.error);
  }
  h5::append_rows(g.id(), "id", id);
  h5::append_rows(g.id(), "sample_index", si);
  h5::append_rows(g.id(), "subject", subject);
  h5::append_rows(g.id(), "prompt_sha256", ph);
  h5::append_rows(g.id(), "response", resp);
  h5::append_rows(g.id(), "extracted", ext);
  h5::append_rows(g.id(), "gold", gold);
  h5::append_rows(g.id(), "correct", cor);
  h5::append_rows(g.id(), "latency_s", lat);
  h5::append_rows(g.id(), "tokens_in", ti);
  h5::append_rows(g.id(), "tokens_out", to);
  h5::append_rows(g.id(), "error", err);
  h5::flush(impl_->file);
  for (auto& r : v) impl_->done[task].insert({r.id, r.sample_index});
}

void RunWriter::finish(const std::string& end_time_utc) {
  prov_.end_time_utc = end_time_utc;
  hid_t f = impl_->file.id();
  for (auto& t : tasks_) {
    auto g = h5::open_group(f, "tasks/" + t.name);
    auto s = h5::open_group(g.id(), "samples");
    auto samples = read_samples(s.id(), common_length(s.id()));
    write_metrics(g.id(), compute_metrics(t, samples));
  }
  auto p = h5::open_group(f, "provenance");
  h5::set_attr(p.id(), "end_time_utc", end_time_utc);
  h5::set_attr(f, "status", std::string("complete"));
  h5::flush(impl_->file);
  impl_->file.reset();
  ::close(impl_->journal_fd);
  impl_->journal_fd = -1;
  fs::remove(impl_->journal);
}

}  // namespace dsv3::reports
