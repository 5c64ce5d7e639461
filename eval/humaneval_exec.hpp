#pragma once
// HumanEval functional correctness in the sandbox. The verdict is decided outside the
// sandbox: a sample passes only when the sandboxed checker exits 0 AND reports "passed" with
// the harness's random nonce on fd 3 (a pipe the candidate never holds) AND the test called
// the candidate at least once. The candidate runs in its own process; only plain built-in
// values cross back, so printing, __eq__ overrides, exiting early or killing the parent fail.
#include <functional>
#include <string>
#include <vector>

#include "datasets/humaneval.hpp"
#include "eval/sandbox.hpp"

namespace dsv3::eval {

struct CodeOutcome {
  std::string status;  // passed | failed | timeout
  std::string detail;
  int calls = 0;
  double wall_seconds = 0;
};

// The program a completion makes (Codex convention): prompt + completion.
std::string humaneval_program(const datasets::HumanEvalProblem& p, const std::string& completion);

// Runs one program (it must define p.entry_point) against p.test. Thread-safe for distinct slots.
CodeOutcome run_humaneval(const Sandbox& sb, const datasets::HumanEvalProblem& p, const std::string& program,
                          int slot = 0);

struct CodeJob {
  const datasets::HumanEvalProblem* problem;
  std::string program;
};
// Runs the jobs on `workers` threads; progress(done, total) after each job (may be empty).
std::vector<CodeOutcome> run_humaneval_jobs(const Sandbox& sb, const std::vector<CodeJob>& jobs, int workers,
                                            const std::function<void(std::size_t, std::size_t)>& progress = {});

}  // namespace dsv3::eval
