// The evaluation runner end to end with the real dsv3 binary: replayed HumanEval canonical
// solutions in the real sandbox, SIGKILL then resume, Ctrl-C, bad endpoints (connection
// refused, 500s, malformed JSON, 429 with Retry-After) against a real loopback server, and the
// HDF5 report opened with python3 h5py.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "datasets/humaneval.hpp"
#include "datasets/sha256.hpp"
#include "eval/sandbox.hpp"
#include "eval_server_fixture.hpp"
#include "reports/run_report.hpp"

namespace dsv3::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string completion_json(const std::string& text) {
  return json{{"id", "x"},
              {"object", "text_completion"},
              {"choices", json::array({{{"index", 0}, {"text", text}, {"finish_reason", "stop"}}})},
              {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 3}}}}
      .dump();
}

std::string prompt_of(const httplib::Request& req) {
  auto j = json::parse(req.body);
  return j.contains("prompt") ? j["prompt"].get<std::string>() : j["messages"][0]["content"].get<std::string>();
}

bool sandbox_works() {
  try {
    eval::Sandbox sb(eval::SandboxConfig{});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// h5py must open the file and see the samples and provenance.
void check_with_h5py(const fs::path& file, const std::string& task, size_t samples, const std::string& status) {
  TempDir d;
  write_file(d / "check.py",
             "import sys, h5py\n"
             "f = h5py.File(sys.argv[1], 'r')\n"
             "t = f['tasks/' + sys.argv[2]]\n"
             "p = f['provenance'].attrs\n"
             "for k in ['dsv3_version', 'dsv3_git_hash', 'model_spec', 'backend', 'sampling_json', 'host', 'start_time_utc']:\n"
             "    assert k in p, k\n"
             "assert len(t.attrs['dataset_sha256']) == 64\n"
             "assert len(t.attrs['prompt_template_sha256']) == 64\n"
             "ids = t['samples/id'].asstr()[:]\n"
             "st = f.attrs['status']\n"
             "st = st.decode() if isinstance(st, bytes) else st\n"
             "print(len(ids), len(set((i, s) for i, s in zip(ids, t['samples/sample_index'][:]))), st)\n");
  auto r = run({"/usr/bin/python3", (d / "check.py").string(), file.string(), task});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{} {} {}\n", samples, samples, status));
}

TEST(EvalRunner, ReplayHumanEvalCanonicalSolutionsPassAll) {
  if (!sandbox_works()) GTEST_SKIP() << "bubblewrap sandbox unavailable here";
  TempDir d;
  auto problems = datasets::load_humaneval(benchmarks_dir());
  ASSERT_EQ(problems.size(), 164u);
  std::string lines;
  for (auto& p : problems) lines += json{{"task_id", p.task_id}, {"completion", p.canonical_solution}}.dump() + "\n";
  write_file(d / "samples.jsonl", lines);
  auto r = run_dsv3({"eval", "--tasks", "humaneval", "--model", "replay:" + (d / "samples.jsonl").string(), "--data-dir",
                     benchmarks_dir().string(), "--out", (d / "run.h5").string(), "--format", "json", "--concurrency", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = json::parse(r.out);
  auto& t = s["tasks"]["humaneval"];
  EXPECT_EQ(t["n"], 164);
  EXPECT_DOUBLE_EQ(t["score"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(t["pass@1"].get<double>(), 1.0);
  EXPECT_EQ(t["n_errors"], 0);
  check_with_h5py(d / "run.h5", "humaneval", 164, "complete");
  // a wrong completion fails
  write_file(d / "bad.jsonl", json{{"task_id", "HumanEval/0"}, {"completion", "    return 42\n"}}.dump() + "\n");
  r = run_dsv3({"eval", "--tasks", "humaneval", "--limit", "1", "--model", "replay:" + (d / "bad.jsonl").string(),
                "--data-dir", benchmarks_dir().string(), "--out", (d / "bad.h5").string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(json::parse(r.out)["tasks"]["humaneval"]["score"].get<double>(), 0.0);
}

TEST(EvalRunner, ReplayRecordsMissingResponsesAsErrors) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 2);
  write_file(d / "r.jsonl", json{{"id", "not-an-item"}, {"response", "The answer is 1."}}.dump() + "\n");
  auto r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", "replay:" + (d / "r.jsonl").string(),
                     "--data-dir", (d / "data").string(), "--out", (d / "x.h5").string(), "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto t = json::parse(r.out)["tasks"]["gsm8k"];
  EXPECT_EQ(t["n_errors"], 2);
  EXPECT_EQ(t["score"], 0.0);
  auto run = reports::read_run(d / "x.h5");
  EXPECT_NE(run.tasks[0].samples[0].error.find("no response for id"), std::string::npos);
  auto bad = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", "replay:/nonexistent.jsonl", "--data-dir",
                       (d / "data").string(), "--out", (d / "y.h5").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("/nonexistent.jsonl"), std::string::npos) << bad.err;
  // log-likelihood tasks need a model
  bad = run_dsv3({"eval", "--tasks", "mmlu", "--shots", "0", "--model", "replay:" + (d / "r.jsonl").string(), "--data-dir",
                  (d / "data").string(), "--out", (d / "z.h5").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("mmlu_gen"), std::string::npos) << bad.err;
}

// A server that answers every completion after `delay_ms`, counting requests per prompt hash.
struct CountingServer {
  std::mutex mu;
  std::map<std::string, int> by_prompt;
  int total = 0;
  int delay_ms = 0;
  LoopbackServer server{[this](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    {
      std::lock_guard lock(mu);
      by_prompt[datasets::sha256_hex(prompt_of(req))] += 1;
      ++total;
    }
    res.set_content(completion_json(" So the answer is 3. The answer is 3."), "application/json");
  }};
};

// `dsv3 eval` of zero-shot GSM8K from `data` against the counting server, into `out`, two at a time.
std::vector<std::string> gsm8k_eval_args(const CountingServer& srv, const fs::path& data, const fs::path& out) {
  return {"eval",       "--tasks",     "gsm8k", "--shots",      "0",           "--model", srv.server.url(),
          "--data-dir", data.string(), "--out", out.string(), "--concurrency", "2"};
}

TEST(EvalRunner, SigkillThenSameCommandResumesWithoutRedoing) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 40);
  CountingServer srv;
  srv.delay_ms = 40;
  fs::path out = d / "run.h5";
  auto args = gsm8k_eval_args(srv, d / "data", out);
  args.insert(args.end(), {"--format", "json"});
  {
    Child c(args, d / "out1.txt", d / "err1.txt");
    ASSERT_TRUE(wait_for([&] { return count_lines(out.string() + ".journal") >= 12; }, 60)) << read_file(d / "err1.txt");
    c.signal(SIGKILL);
    EXPECT_EQ(c.wait(10), 128 + SIGKILL);
  }
  // what the journal holds now was finished before the kill
  std::set<std::string> finished;
  {
    std::string j = read_file(out.string() + ".journal");
    size_t pos = 0;
    while (pos < j.size()) {
      auto e = j.find('\n', pos);
      if (e == std::string::npos) break;
      auto line = json::parse(j.substr(pos, e - pos), nullptr, false);
      if (line.is_object() && line.contains("prompt_sha256")) finished.insert(line["prompt_sha256"].get<std::string>());
      pos = e + 1;
    }
  }
  ASSERT_GE(finished.size(), 10u);
  ASSERT_LT(finished.size(), 40u);
  auto r = run_dsv3(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = json::parse(r.out);
  EXPECT_EQ(s["tasks"]["gsm8k"]["n"], 40);
  EXPECT_EQ(s["status"], "complete");
  for (auto& h : finished) EXPECT_EQ(srv.by_prompt[h], 1) << "a sample finished before the kill was asked again";
  EXPECT_EQ(srv.by_prompt.size(), 40u);
  auto run = reports::read_run(out);
  ASSERT_EQ(run.tasks.size(), 1u);
  std::set<std::string> ids;
  for (auto& smp : run.tasks[0].samples) ids.insert(smp.id);
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(run.tasks[0].samples.size(), 40u);
  // items 2 ("3 apples, eats 1" -> 2) ... only the one whose answer is 3 is right: item index 2
  EXPECT_EQ(run.tasks[0].metrics.primary.value, 1.0 / 40.0);
  EXPECT_FALSE(fs::exists(out.string() + ".journal"));
  check_with_h5py(out, "gsm8k", 40, "complete");
  // the same command on the complete file refuses (no silent redo)
  auto again = run_dsv3(args);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("complete"), std::string::npos) << again.err;
}

TEST(EvalRunner, CtrlCStopsCleanlyAndKeepsSamples) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 30);
  CountingServer srv;
  srv.delay_ms = 50;
  fs::path out = d / "run.h5";
  const auto args = gsm8k_eval_args(srv, d / "data", out);
  Child c(args, d / "out.txt", d / "err.txt");
  ASSERT_TRUE(wait_for([&] { return count_lines(out.string() + ".journal") >= 6; }, 60));
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(30), 130) << read_file(d / "err.txt");
  EXPECT_NE(read_file(d / "err.txt").find("run the same command to resume"), std::string::npos);
  auto run = reports::read_run(out);
  EXPECT_EQ(run.status, "running");
  size_t kept = run.tasks[0].samples.size();
  EXPECT_GE(kept, 5u);
  EXPECT_LT(kept, 30u);
  for (auto& s : run.tasks[0].samples) EXPECT_EQ(s.error, "") << "an interrupted request was recorded as a sample";
  auto r = run_dsv3(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(reports::read_run(out).tasks[0].samples.size(), 30u);
}

TEST(EvalRunner, ConnectionRefusedIsAClearErrorAfterRetries) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 3);
  int port;
  {
    LoopbackServer s([](const httplib::Request&, httplib::Response&) {});
    port = s.port();
  }  // closed: nothing listens there now
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  auto r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", url, "--served-model-name", "m", "--data-dir",
                     (d / "data").string(), "--out", (d / "run.h5").string(), "--retries", "2", "--backoff", "0.01"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("onnect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 attempts"), std::string::npos) << r.err;
  EXPECT_EQ(reports::read_run(d / "run.h5").tasks[0].samples.size(), 0u);
}

TEST(EvalRunner, ServerErrorsAfterSomeSamplesKeepThoseSamples) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 10);
  std::atomic<int> calls{0};
  LoopbackServer srv([&](const httplib::Request&, httplib::Response& res) {
    if (++calls <= 4) {
      res.set_content(completion_json(" The answer is 1."), "application/json");
    } else {
      res.status = 500;
      res.set_content(R"({"error": {"message": "model crashed"}})", "application/json");
    }
  });
  auto r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", srv.url(), "--data-dir", (d / "data").string(),
                     "--out", (d / "run.h5").string(), "--retries", "2", "--backoff", "0.01", "--concurrency", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(srv.url()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HTTP 500: model crashed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 samples saved"), std::string::npos) << r.err;
  EXPECT_EQ(calls.load(), 4 + 3);  // the failing request: first try + 2 retries
  auto run = reports::read_run(d / "run.h5");
  EXPECT_EQ(run.tasks[0].samples.size(), 4u);
}

TEST(EvalRunner, MalformedJsonIsAClearError) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 3);
  std::atomic<int> calls{0};
  LoopbackServer srv([&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.set_content("{\"choices\": [ this is not json", "application/json");
  });
  auto r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", srv.url(), "--data-dir", (d / "data").string(),
                     "--out", (d / "run.h5").string(), "--retries", "1", "--backoff", "0.01", "--concurrency", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(srv.url() + "/completions: malformed JSON"), std::string::npos) << r.err;
  EXPECT_EQ(calls.load(), 2);
  // well-formed JSON of the wrong shape is named too
  LoopbackServer srv2([&](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"choices": []})", "application/json");
  });
  r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", srv2.url(), "--data-dir", (d / "data").string(),
                "--out", (d / "run2.h5").string(), "--retries", "0", "--concurrency", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("malformed answer"), std::string::npos) << r.err;
}

TEST(EvalRunner, RetryAfterIsHonoured) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 1);
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> times;
  LoopbackServer srv([&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    times.push_back(std::chrono::steady_clock::now());
    EXPECT_EQ(req.get_header_value("Authorization"), "Bearer sekret");
    if (times.size() == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"error": {"message": "slow down"}})", "application/json");
    } else {
      res.set_content(completion_json(" The answer is 1."), "application/json");
    }
  });
  setenv("DSV3_TEST_KEY", "sekret", 1);
  auto r = run_dsv3({"eval", "--tasks", "gsm8k", "--shots", "0", "--model", srv.url(), "--data-dir", (d / "data").string(),
                     "--out", (d / "run.h5").string(), "--backoff", "0.01", "--api-key-env", "DSV3_TEST_KEY", "--format",
                     "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(times.size(), 2u);
  EXPECT_GE(std::chrono::duration<double>(times[1] - times[0]).count(), 0.95);
  EXPECT_DOUBLE_EQ(json::parse(r.out)["tasks"]["gsm8k"]["score"].get<double>(), 1.0);
}

}  // namespace
}  // namespace dsv3::test
