#pragma once
// A sandbox for untrusted programs: bubblewrap with no network, a read-only root, a private
// /tmp, new PID/IPC/UTS/user/cgroup namespaces, --die-with-parent and --as-pid-1; rlimits on CPU
// seconds, address space, processes and file size; a wall-clock timeout after which the whole
// process group and the cgroups are killed. When started as root, the program runs under an
// unprivileged uid (so RLIMIT_NPROC binds) and, where cgroup v1 `pids`/`memory` are mounted,
// inside fresh pids and memory cgroups.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/errors.hpp"

namespace dsv3::eval {

struct SandboxLimits {
  double wall_seconds = 10;
  int cpu_seconds = 10;
  std::uint64_t address_space_bytes = 1ull << 30;  // per process
  std::uint64_t memory_bytes = 768ull << 20;       // memory cgroup, whole sandbox
  int max_processes = 32;                          // RLIMIT_NPROC and pids.max
  std::uint64_t file_size_bytes = 16ull << 20;
};

struct SandboxConfig {
  SandboxLimits limits;
  bool unsafe_no_sandbox = false;  // run without bubblewrap (rlimits and timeouts still apply)
  std::string bwrap = "/usr/bin/bwrap";
  std::string python = "/usr/bin/python3";
  int uid = -1;  // when root: first unprivileged uid for the sandboxed programs (-1: pick one)
};

// The sandbox cannot be set up: the message says why and names --unsafe-no-sandbox.
class SandboxUnavailable : public InputError {
 public:
  using InputError::InputError;
};

struct SandboxRun {
  std::filesystem::path box;        // host folder bound read-only at /box
  std::filesystem::path work;       // host folder bound read-write at /work (the cwd)
  std::vector<std::string> argv;    // inside the sandbox (paths under /box, /work)
  int slot = 0;                     // worker slot: picks the uid and cgroup names
  std::string nonce;                // written to fd 4 of the program; its fd 3 is `result`
};

struct SandboxResult {
  int exit_code = -1;     // -1 when killed by a signal
  int term_signal = 0;
  bool timed_out = false;
  std::string result;     // what the program wrote to fd 3
  std::string output;     // stdout+stderr, last 16 KiB
  double wall_seconds = 0;
  bool used_cgroups = false;
};

class Sandbox {
 public:
  // Probes the sandbox once (a trivial program); throws SandboxUnavailable when it cannot be
  // set up and unsafe_no_sandbox is not set.
  explicit Sandbox(SandboxConfig cfg);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs one program; thread-safe (use distinct slots for concurrent runs).
  SandboxResult run(const SandboxRun& r) const;

  const SandboxConfig& config() const { return cfg_; }
  bool isolated() const { return !cfg_.unsafe_no_sandbox; }
  bool cgroups_available() const { return !pids_root_.empty(); }
  // uid the programs of a slot run as (when started as root), and where the run folders live.
  int uid_for_slot(int slot) const;
  const std::filesystem::path& scratch() const { return scratch_; }

 private:
  SandboxConfig cfg_;
  std::filesystem::path scratch_;     // 0711 folder for per-run folders
  std::filesystem::path pids_root_;   // cgroup v1 pids folder we create per-run groups in
  std::filesystem::path mem_root_;    // cgroup v1 memory folder
  int base_uid_ = -1;
};

}  // namespace dsv3::eval
