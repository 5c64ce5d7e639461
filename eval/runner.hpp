#pragma once
// The evaluation runner behind `dsv3 eval --tasks … --model SPEC --out RUN.h5`: builds each
// task's prompts, sends them to the backend (batched and concurrent), scores the answers
// (extraction + metric, HumanEval in the sandbox), appends every sample to the HDF5 run file
// as it finishes, and at the end stores the metrics. Running the same command again on an
// unfinished file resumes it: finished samples are kept and not redone.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/model_backend.hpp"

namespace dsv3::eval {

struct RunOptions {
  std::vector<std::string> tasks;
  std::string model_spec;
  std::string data_dir;
  std::string out;
  int64_t limit = -1;          // first N items of each task (-1: all)
  int shots = -1;              // -1: each task's default
  int64_t num_samples = 1;     // samples per item (pass@k)
  double temperature = 0;
  double top_p = 1;
  int64_t max_tokens = -1;     // -1: each task's default
  uint64_t seed = 1234;
  bool overwrite = false;
  bool progress = false;       // bars on stderr
  int code_workers = 0;        // sandboxes at once (0: the concurrency, at least 2)
  bool unsafe_no_sandbox = false;
  double code_timeout_s = 10;
  BackendOptions backend;
  // provenance
  std::string dsv3_version, dsv3_git_hash, command_line;
};

struct RunOutcome {
  nlohmann::json summary;   // {"tasks": {...}, "file": ..., ...}
  bool complete = false;    // false: interrupted (Ctrl-C); samples so far are in the file
  int64_t samples_run = 0;  // samples this invocation added
  int64_t samples_total = 0;
};

// Throws InputError for bad options or data, BackendError (an InputError) when the model
// cannot be reached any more; in both cases what was done is in the file and the same
// command resumes.
RunOutcome run_evaluation(const RunOptions& opt);

// The summary of a run file ({"tasks": {"<task>": {"n", "score", "metric", "stderr", …}}}).
nlohmann::json run_summary(const std::string& file);

}  // namespace dsv3::eval
