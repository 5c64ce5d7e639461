#include "eval/humaneval_exec.hpp"

#include <fmt/core.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "eval/humaneval_driver.hpp"

namespace dsv3::eval {
namespace fs = std::filesystem;
namespace {

std::atomic<std::uint64_t> g_job{0};

void write_ro(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
  f.close();
  if (!f) throw std::runtime_error("cannot write " + p.string());
  ::chmod(p.c_str(), 0644);
}

std::string nonce() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

}  // namespace

std::string humaneval_program(const datasets::HumanEvalProblem& p, const std::string& completion) {
  return p.prompt + completion;
}

CodeOutcome run_humaneval(const Sandbox& sb, const datasets::HumanEvalProblem& p, const std::string& program, int slot) {
  fs::path run = sb.scratch() / fmt::format("run-{}-{}", slot, g_job++);
  fs::create_directories(run / "box");
  fs::create_directories(run / "work");
  ::chmod(run.c_str(), 0755);
  ::chmod((run / "box").c_str(), 0755);
  write_ro(run / "box" / "checker.py", humaneval_checker_py());
  write_ro(run / "box" / "candidate_runner.py", humaneval_candidate_runner_py());
  write_ro(run / "box" / "candidate.py", program);
  write_ro(run / "box" / "test.py", p.prompt + "\n\n" + p.test + "\n");
  SandboxRun r;
  r.box = run / "box";
  r.work = run / "work";
  r.argv = {sb.config().python, "-I", "/box/checker.py", "/box", p.entry_point};
  r.slot = slot;
  r.nonce = nonce();
  SandboxResult res = sb.run(r);
  std::error_code ec;
  fs::remove_all(run, ec);
  CodeOutcome out;
  out.wall_seconds = res.wall_seconds;
  if (res.timed_out) {
    out.status = "timeout";
    out.detail = fmt::format("wall-clock limit {} s", sb.config().limits.wall_seconds);
    return out;
  }
  nlohmann::json v;
  try {
    v = nlohmann::json::parse(res.result);
  } catch (const nlohmann::json::exception&) {
    out.status = "failed";
    out.detail = fmt::format("no verdict from the checker (exit {}, signal {}): {}", res.exit_code, res.term_signal,
                             res.output.size() > 300 ? res.output.substr(res.output.size() - 300) : res.output);
    return out;
  }
  bool nonce_ok = v.is_object() && v.value("nonce", "") == r.nonce;
  out.calls = v.is_object() ? v.value("calls", 0) : 0;
  std::string status = v.is_object() ? v.value("status", "") : "";
  if (nonce_ok && status == "passed" && out.calls > 0 && res.exit_code == 0) {
    out.status = "passed";
  } else {
    out.status = "failed";
    out.detail = !nonce_ok ? "verdict without the harness's nonce" : v.value("detail", std::string("checker exited ") + std::to_string(res.exit_code));
  }
  return out;
}

std::vector<CodeOutcome> run_humaneval_jobs(const Sandbox& sb, const std::vector<CodeJob>& jobs, int workers,
                                            const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<CodeOutcome> out(jobs.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex mu;
  std::exception_ptr error;
  auto work = [&](int slot) {
    for (;;) {
      std::size_t i = next++;
      if (i >= jobs.size()) return;
      try {
        out[i] = run_humaneval(sb, *jobs[i].problem, jobs[i].program, slot);
      } catch (...) {
        std::lock_guard<std::mutex> g(mu);
        if (!error) error = std::current_exception();
        next = jobs.size();
        return;
      }
      std::size_t d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> g(mu);
        progress(d, jobs.size());
      }
    }
  };
  std::vector<std::thread> ts;
  for (int w = 0; w < std::max(1, workers); ++w) ts.emplace_back(work, w);
  for (auto& t : ts) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace dsv3::eval
