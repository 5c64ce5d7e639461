#pragma once
// Evaluation run reports (schema "dsv3.eval_run", see reports/schema/eval-run.md): the writer
// the eval runner uses (one sample at a time, flushed, resumable after SIGKILL) and the reader
// `dsv3 report` uses.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reports/score_stats.hpp"

namespace dsv3::reports {

inline constexpr const char* kEvalRunSchema = "dsv3.eval_run";
inline constexpr int64_t kEvalRunSchemaVersion = 1;

struct RunProvenance {
  std::string dsv3_version;     // e.g. "0.1.0"
  std::string dsv3_git_hash;    // build's git hash
  std::string model_spec;       // the --model argument: DIR, URL or replay:FILE
  std::string model_name;       // display name used in tables
  std::string backend;          // native | http | replay
  std::string endpoint;         // URL for http, "" otherwise
  std::string sampling_json;    // sampling parameters as a JSON object (temperature, top_p, max_tokens, ...)
  int64_t seed = 0;             // base seed of the run
  std::string host;             // machine name
  std::string command_line;     // the dsv3 command that made the run
  std::string start_time_utc;   // ISO 8601
  std::string end_time_utc;     // ISO 8601, "" while running
};

struct TaskInfo {
  std::string name;                    // mmlu, gsm8k, math, humaneval, ...
  std::string dataset;                 // what was read (name and file)
  std::string dataset_sha256;          // of the dataset file(s)
  std::string prompt_template_sha256;  // of the prompt template (few-shot block included)
  int64_t shots = 0;
  std::string metric;                  // primary metric: acc, em or pass@1
  int64_t samples_per_item = 1;        // > 1 for pass@k
  std::vector<int64_t> pass_k;         // k values reported when samples_per_item > 1
  int64_t n_items_planned = 0;         // items in the dataset (after any --limit)
};

struct SampleRecord {
  std::string id;               // item id in the dataset
  int64_t sample_index = 0;     // repeat index (pass@k), 0 otherwise
  std::string subject;          // MMLU subject, MATH type, "" when none
  std::string prompt_sha256;
  std::string response;
  std::string extracted;        // the extracted answer ("" when none)
  std::string gold;
  int64_t correct = 0;          // 1 correct, 0 wrong, -1 error (no verdict; scored as wrong)
  double latency_s = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  std::string error;            // "" unless the sample failed
};

struct SubjectScore {
  std::string subject;
  Estimate estimate;
};

struct TaskMetrics {
  std::string metric;                    // the primary metric's name
  Estimate primary;                      // score with stderr and 95% CI (fractions)
  int64_t n_items = 0, n_samples = 0, n_errors = 0;
  std::map<int64_t, double> pass_at_k;   // k -> value, when samples_per_item > 1
  std::vector<SubjectScore> subjects;    // per subject, when samples carry one
  std::optional<double> micro, macro;    // over subjects (micro = over all items)
};

// Computes a task's metrics from its samples. Errors count as wrong answers. Items are
// grouped by id; with one sample per item the primary score is a proportion (Wilson CI),
// with several it is the mean of per-item unbiased pass@1 (normal CI).
TaskMetrics compute_metrics(const TaskInfo& task, const std::vector<SampleRecord>& samples);

struct TaskData {
  TaskInfo info;
  std::vector<SampleRecord> samples;
  TaskMetrics metrics;
  bool metrics_stored = false;  // true when read from the file (complete run), else computed now
};

struct RunData {
  std::filesystem::path file;
  int64_t schema_version = 0;
  std::string status;  // running | complete
  RunProvenance provenance;
  std::vector<TaskData> tasks;
  const TaskData* task(const std::string& name) const;
};

// Reads a run file. Throws dsv3::InputError naming the file and the field when it is not a
// dsv3.eval_run file of a version this build reads.
RunData read_run(const std::filesystem::path& file);

// Writes a run file one sample at a time. Every append goes first to a journal
// (FILE.journal, one JSON line, written with a single write(2)) and then to the HDF5 file,
// which is flushed. resume() after a crash (even SIGKILL) recovers every sample whose journal
// line was complete: it repairs a damaged or short HDF5 file from the journal. finish()
// stores the metrics, marks the run complete and removes the journal.
class RunWriter {
 public:
  // Creates FILE (refuses an existing file unless overwrite is true).
  static std::unique_ptr<RunWriter> create(const std::filesystem::path& file, const RunProvenance& prov,
                                           const std::vector<TaskInfo>& tasks, bool overwrite = false);
  // Reopens an unfinished run. Throws InputError when FILE is complete or not a run file.
  static std::unique_ptr<RunWriter> resume(const std::filesystem::path& file);
  ~RunWriter();

  const RunProvenance& provenance() const { return prov_; }
  const std::vector<TaskInfo>& tasks() const { return tasks_; }
  bool done(const std::string& task, const std::string& id, int64_t sample_index) const;
  size_t count(const std::string& task) const;
  void append(const std::string& task, const SampleRecord& s);
  // Several samples of one task: their journal lines in one write(2), then the HDF5 rows and
  // one flush. A crash keeps every sample whose journal line is complete.
  void append_many(const std::string& task, const std::vector<SampleRecord>& s);
  void finish(const std::string& end_time_utc);

  struct Impl;

 private:
  RunWriter() = default;
  std::filesystem::path file_;
  RunProvenance prov_;
  std::vector<TaskInfo> tasks_;
  std::unique_ptr<Impl> impl_;
};

// Current UTC time as ISO 8601 ("2024-12-27T10:00:00Z").
std::string utc_now_iso();

}  // namespace dsv3::reports
