#pragma once
// Test helpers for the evaluation runner: a real OpenAI-style HTTP server on 127.0.0.1 inside
// the test process (cpp-httplib) whose answers the test scripts, child processes of the dsv3
// binary that the test can signal, and tiny benchmark data that fits the fixture models.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace dsv3::test {

// A loopback HTTP server with a handler for POST /v1/completions and /v1/chat/completions
// and a fixed /v1/models. Stops (and joins) when destroyed.
class LoopbackServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit LoopbackServer(Handler h) {
    svr_.Get("/v1/models", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"object":"list","data":[{"id":"fake","object":"model"}]})", "application/json");
    });
    svr_.Post("/v1/completions", h);
    svr_.Post("/v1/chat/completions", h);
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 500 && !svr_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~LoopbackServer() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

// The dsv3 binary as a child process with stdout and stderr going to files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::filesystem::path& out, const std::filesystem::path& err) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* o = std::freopen(out.c_str(), "w", stdout);
      FILE* e = std::freopen(err.c_str(), "w", stderr);
      (void)o;
      (void)e;
      std::vector<char*> argv;
      std::string bin = DSV3_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }
  // Exit code (128 + signal when killed); -1 when it did not end in time (then killed).
  int wait(double seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
    return -1;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Waits (bounded) until pred() holds.
inline bool wait_for(const std::function<bool()>& pred, double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// Lines in a file (0 when absent).
inline size_t count_lines(const std::filesystem::path& p) {
  if (!std::filesystem::exists(p)) return 0;
  std::string s = read_file(p);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

// Short MMLU and GSM8K items in the official layouts, so prompts fit the tiny fixture
// models' 256 positions: <dir>/mmlu/data/{dev,test}/<subject>_<split>.csv, <dir>/gsm8k/test.jsonl.
inline void write_tiny_benchmarks(const std::filesystem::path& dir, int gsm8k_items = 6) {
  std::filesystem::create_directories(dir / "mmlu/data/test");
  std::filesystem::create_directories(dir / "mmlu/data/dev");
  write_file(dir / "mmlu/data/test/arithmetic_test.csv",
             "1+1=?,1,2,3,4,B\n2+2=?,4,5,6,7,A\n3*3=?,6,8,9,12,C\n10-4=?,5,6,7,8,B\n");
  write_file(dir / "mmlu/data/test/colors_test.csv",
             "Sky color?,red,blue,green,pink,B\nGrass color?,green,gray,red,blue,A\nSnow color?,black,red,white,tan,C\n");
  write_file(dir / "mmlu/data/dev/arithmetic_dev.csv", "0+1=?,0,1,2,3,B\n");
  write_file(dir / "mmlu/data/dev/colors_dev.csv", "Coal color?,black,white,red,blue,A\n");
  std::filesystem::create_directories(dir / "gsm8k");
  std::string g;
  for (int i = 0; i < gsm8k_items; ++i)
    g += "{\"question\": \"Tom has " + std::to_string(i + 2) + " apples and eats 1. How many are left?\", \"answer\": \"" +
         std::to_string(i + 2) + " - 1 = " + std::to_string(i + 1) + "\\n#### " + std::to_string(i + 1) + "\"}\n";
  write_file(dir / "gsm8k/test.jsonl", g);
}

}  // namespace dsv3::test
