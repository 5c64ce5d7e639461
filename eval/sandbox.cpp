#include "eval/sandbox.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace dsv3::eval {
namespace fs = std::filesystem;
namespace {

std::atomic<std::uint64_t> g_run_counter{0};

std::string random_hex(int n) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s;
  while (int(s.size()) < n) s += fmt::format("{:016x}", rng());
  return s.substr(0, std::size_t(n));
}

bool write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p);
  f << s;
  f.flush();
  return bool(f);
}

// The memory cgroup (v1) this process is in, from /proc/self/cgroup ("4:memory:/a/b").
fs::path own_memory_cgroup() {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    if (ctrls == "memory") return fs::path("/sys/fs/cgroup/memory") / line.substr(b + 1).substr(1);
  }
  return {};
}

void kill_cgroup(const fs::path& cg) {
  for (int round = 0; round < 200; ++round) {
    std::ifstream f(cg / "cgroup.procs");
    if (!f) return;
    std::vector<pid_t> pids;
    pid_t p;
    while (f >> p) pids.push_back(p);
    if (pids.empty()) return;
    for (pid_t q : pids) ::kill(q, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void remove_cgroup(const fs::path& cg) {
  if (cg.empty()) return;
  kill_cgroup(cg);
  for (int k = 0; k < 100 && ::rmdir(cg.c_str()) != 0 && errno == EBUSY; ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Small async-signal-safe helpers for the child between fork and exec.
void put_num(char* buf, long v) {
  char tmp[24];
  int n = 0;
  if (v == 0) tmp[n++] = '0';
  while (v > 0) { tmp[n++] = char('0' + v % 10); v /= 10; }
  for (int k = 0; k < n; ++k) buf[k] = tmp[n - 1 - k];
  buf[n] = '\0';
}

[[noreturn]] void child_fail(int fd, const char* what) {
  if (fd >= 0) {
    const char* pre = "sandbox setup failed: ";
    (void)!::write(fd, pre, std::strlen(pre));
    (void)!::write(fd, what, std::strlen(what));
    const char* e = std::strerror(errno);  // not strictly async-signal-safe; only read here
    (void)!::write(fd, ": ", 2);
    (void)!::write(fd, e, std::strlen(e));
    (void)!::write(fd, "\n", 1);
  }
  _exit(126);
}

}  // namespace

Sandbox::Sandbox(SandboxConfig cfg) : cfg_(std::move(cfg)) {
  bool root = ::geteuid() == 0;
  if (root) base_uid_ = cfg_.uid >= 0 ? cfg_.uid : 200000 + int(::getpid() % 4096) * 64;
  scratch_ = fs::temp_directory_path() / fmt::format("dsv3-sandbox-{}-{}", ::getpid(), random_hex(8));
  fs::create_directories(scratch_);
  ::chmod(scratch_.c_str(), 0711);
  if (root && !cfg_.unsafe_no_sandbox) {
    std::string name = scratch_.filename().string();
    fs::path pids = fs::path("/sys/fs/cgroup/pids") / name;
    fs::path mem = own_memory_cgroup();
    if (!mem.empty()) mem /= name;
    if (fs::exists("/sys/fs/cgroup/pids/cgroup.procs") && !mem.empty() && ::mkdir(pids.c_str(), 0755) == 0) {
      if (::mkdir(mem.c_str(), 0755) == 0) {
        pids_root_ = pids;
        mem_root_ = mem;
      } else {
        ::rmdir(pids.c_str());
      }
    }
  }
  if (cfg_.unsafe_no_sandbox) return;
  auto why_not = [&]() -> std::string {
    if (::access(cfg_.bwrap.c_str(), X_OK) != 0) return fmt::format("{} is not an executable (install bubblewrap)", cfg_.bwrap);
    if (::access(cfg_.python.c_str(), X_OK) != 0) return fmt::format("{} is not an executable", cfg_.python);
    fs::path run = scratch_ / "probe";
    fs::create_directories(run / "box");
    fs::create_directories(run / "work");
    ::chmod(run.c_str(), 0755);
    ::chmod((run / "box").c_str(), 0755);
    SandboxRun r{run / "box", run / "work", {cfg_.python, "-I", "-c", "import os; os.write(3, os.read(4, 64))"}, 0, "probe-ok"};
    SandboxResult res = this->run(r);
    fs::remove_all(run);
    if (res.exit_code == 0 && res.result == "probe-ok") return "";
    return fmt::format("a trivial program failed in it (exit {}, signal {}): {}", res.exit_code, res.term_signal,
                       res.output.substr(0, 400));
  }();
  if (!why_not.empty()) {
    remove_cgroup(pids_root_);
    remove_cgroup(mem_root_);
    fs::remove_all(scratch_);
    throw SandboxUnavailable(fmt::format(
        "cannot set up the code sandbox: {}; refusing to run generated code (pass --unsafe-no-sandbox to run it "
        "without isolation)",
        why_not));
  }
}

Sandbox::~Sandbox() {
  remove_cgroup(pids_root_);
  remove_cgroup(mem_root_);
  std::error_code ec;
  fs::remove_all(scratch_, ec);
}

int Sandbox::uid_for_slot(int slot) const { return base_uid_ < 0 ? int(::geteuid()) : base_uid_ + slot; }

SandboxResult Sandbox::run(const SandboxRun& r) const {
  SandboxResult res;
  const SandboxLimits& L = cfg_.limits;
  bool root = ::geteuid() == 0;
  int uid = uid_for_slot(r.slot);
  if (root) {
    if (::chown(r.work.c_str(), uid_t(uid), gid_t(uid)) != 0) throw std::runtime_error("chown " + r.work.string() + " failed");
    ::chmod(r.work.c_str(), 0700);
  }
  // per-run cgroups
  fs::path pcg, mcg;
  if (!pids_root_.empty()) {
    std::string name = fmt::format("r{}-{}", r.slot, g_run_counter++);
    pcg = pids_root_ / name;
    mcg = mem_root_ / name;
    bool ok = ::mkdir(pcg.c_str(), 0755) == 0 && ::mkdir(mcg.c_str(), 0755) == 0 &&
              write_text(pcg / "pids.max", std::to_string(L.max_processes)) &&
              write_text(mcg / "memory.limit_in_bytes", std::to_string(L.memory_bytes));
    if (ok && fs::exists(mcg / "memory.memsw.limit_in_bytes"))
      write_text(mcg / "memory.memsw.limit_in_bytes", std::to_string(L.memory_bytes));
    if (!ok) {
      remove_cgroup(pcg);
      remove_cgroup(mcg);
      throw std::runtime_error("cannot create the sandbox cgroups under " + pids_root_.string());
    }
    res.used_cgroups = true;
  }
  // argv and environment, built before fork
  std::vector<std::string> args;
  std::string home;
  if (!cfg_.unsafe_no_sandbox) {
    // A fresh root holding only the system folders (read-only), /box (read-only), /work and a
    // private /tmp; the root itself is remounted read-only at the end.
    args = {cfg_.bwrap, "--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--die-with-parent",
            "--new-session", "--as-pid-1", "--hostname", "sandbox", "--tmpfs", "/"};
    for (const char* d : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"}) {
      std::error_code ec;
      if (fs::is_symlink(d, ec)) {
        args.insert(args.end(), {"--symlink", fs::read_symlink(d, ec).string(), d});
      } else if (fs::is_directory(d, ec)) {
        args.insert(args.end(), {"--ro-bind", d, d});
      }
    }
    args.insert(args.end(), {"--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", r.box.string(), "/box",
                             "--bind", r.work.string(), "/work", "--remount-ro", "/", "--chdir", "/work", "--"});
    args.insert(args.end(), r.argv.begin(), r.argv.end());
    home = "/work";
  } else {
    for (auto a : r.argv) {
      if (a.rfind("/box", 0) == 0) a = r.box.string() + a.substr(4);
      else if (a.rfind("/work", 0) == 0) a = r.work.string() + a.substr(5);
      args.push_back(a);
    }
    home = r.work.string();
  }
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8",
                                  "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0", "OMP_NUM_THREADS=1"};
  std::vector<char*> cargv, cenv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::string pcg_procs = pcg.empty() ? "" : (pcg / "cgroup.procs").string();
  std::string mcg_procs = mcg.empty() ? "" : (mcg / "cgroup.procs").string();
  std::string workdir = r.work.string();

  int out_p[2], res_p[2], nonce_p[2];
  if (::pipe2(out_p, O_CLOEXEC) || ::pipe2(res_p, O_CLOEXEC) || ::pipe2(nonce_p, O_CLOEXEC))
    throw std::runtime_error("pipe2 failed");
  if (::write(nonce_p[1], r.nonce.data(), r.nonce.size()) != ssize_t(r.nonce.size())) throw std::runtime_error("nonce write failed");
  ::close(nonce_p[1]);

  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // child: async-signal-safe calls only
    int err_fd = out_p[1];
    ::setpgid(0, 0);
    char num[24];
    put_num(num, long(::getpid()));
    for (const std::string* procs : {&pcg_procs, &mcg_procs}) {
      if (procs->empty()) continue;
      int fd = ::open(procs->c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, num, std::strlen(num)) < 0) child_fail(err_fd, "joining the cgroup");
      ::close(fd);
    }
    struct rlimit rl;
    rl.rlim_cur = rlim_t(L.cpu_seconds);
    rl.rlim_max = rlim_t(L.cpu_seconds + 1);
    if (::setrlimit(RLIMIT_CPU, &rl)) child_fail(err_fd, "RLIMIT_CPU");
    rl.rlim_cur = rl.rlim_max = rlim_t(L.address_space_bytes);
    if (::setrlimit(RLIMIT_AS, &rl)) child_fail(err_fd, "RLIMIT_AS");
    rl.rlim_cur = rl.rlim_max = rlim_t(L.file_size_bytes);
    if (::setrlimit(RLIMIT_FSIZE, &rl)) child_fail(err_fd, "RLIMIT_FSIZE");
    rl.rlim_cur = rl.rlim_max = rlim_t(L.max_processes);
    if (::setrlimit(RLIMIT_NPROC, &rl)) child_fail(err_fd, "RLIMIT_NPROC");
    rl.rlim_cur = rl.rlim_max = 0;
    ::setrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = rl.rlim_max = 256;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (root) {
      if (::setgroups(0, nullptr) || ::setgid(gid_t(uid)) || ::setuid(uid_t(uid))) child_fail(err_fd, "dropping to the sandbox uid");
      if (::setuid(0) == 0) child_fail(err_fd, "uid drop did not stick");
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after setuid, which clears it
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int hi_out = ::fcntl(out_p[1], F_DUPFD_CLOEXEC, 10);
    int hi_res = ::fcntl(res_p[1], F_DUPFD_CLOEXEC, 10);
    int hi_nonce = ::fcntl(nonce_p[0], F_DUPFD_CLOEXEC, 10);
    int hi_null = ::fcntl(devnull, F_DUPFD_CLOEXEC, 10);
    if (hi_out < 0 || hi_res < 0 || hi_nonce < 0 || hi_null < 0) child_fail(err_fd, "fcntl");
    if (::dup2(hi_null, 0) < 0 || ::dup2(hi_out, 1) < 0 || ::dup2(hi_out, 2) < 0 || ::dup2(hi_res, 3) < 0 ||
        ::dup2(hi_nonce, 4) < 0)
      child_fail(hi_out, "dup2");
    if (::syscall(SYS_close_range, 5u, ~0u, 0u) != 0)
      for (int fd = 5; fd < 1024; ++fd) ::close(fd);
    if (cfg_.unsafe_no_sandbox && ::chdir(workdir.c_str()) != 0) child_fail(2, "chdir");
    ::execve(cargv[0], cargv.data(), cenv.data());
    child_fail(2, "execve");
  }
  ::close(out_p[1]);
  ::close(res_p[1]);
  ::close(nonce_p[0]);
  int pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
  auto deadline = t0 + std::chrono::milliseconds(long(L.wall_seconds * 1000));
  bool exited = false, out_open = true, res_open = true;
  int status = 0;
  char buf[8192];
  while (out_open || res_open || !exited) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      res.timed_out = !exited;
      break;
    }
    int wait_ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
    pollfd fds[3];
    int n = 0;
    int i_out = -1, i_res = -1, i_pid = -1;
    if (out_open) { i_out = n; fds[n++] = {out_p[0], POLLIN, 0}; }
    if (res_open) { i_res = n; fds[n++] = {res_p[0], POLLIN, 0}; }
    if (!exited && pidfd >= 0) { i_pid = n; fds[n++] = {pidfd, POLLIN, 0}; }
    if (!exited && pidfd < 0) wait_ms = std::min(wait_ms, 20);
    if (exited && !out_open && !res_open) break;
    // once the program has exited, give its pipes a short grace period only
    if (exited) wait_ms = std::min(wait_ms, 2000);
    int pr = ::poll(fds, nfds_t(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    if (pr == 0 && exited) break;
    if (i_out >= 0 && (fds[i_out].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = ::read(out_p[0], buf, sizeof buf);
      if (k <= 0) out_open = false;
      else {
        res.output.append(buf, std::size_t(k));
        if (res.output.size() > 32768) res.output.erase(0, res.output.size() - 16384);
      }
    }
    if (i_res >= 0 && (fds[i_res].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = ::read(res_p[0], buf, sizeof buf);
      if (k <= 0) res_open = false;
      else if (res.result.size() < 65536) res.result.append(buf, std::size_t(k));
    }
    if (!exited && (i_pid < 0 || (fds[i_pid].revents & POLLIN))) {
      if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    }
  }
  // Kill whatever is left. On a timeout, first the sandbox's init (the child of the outer
  // bwrap): its PID namespace dies with it and bwrap reaps it, so nothing is orphaned to the
  // host's init. Then the process group, then everything still in the cgroups.
  if (!exited) {
    std::ifstream kids(fmt::format("/proc/{}/task/{}/children", pid, pid));
    pid_t k;
    while (kids >> k) ::kill(k, SIGKILL);
    for (int i = 0; i < 100 && !exited; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  if (!exited) {
    ::waitpid(pid, &status, 0);
  }
  if (!pcg.empty()) {
    remove_cgroup(pcg);
    remove_cgroup(mcg);
  }
  if (pidfd >= 0) ::close(pidfd);
  ::close(out_p[0]);
  ::close(res_p[0]);
  res.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (res.output.size() > 16384) res.output.erase(0, res.output.size() - 16384);
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  if (res.timed_out) res.exit_code = -1;
  return res;
}

}  // namespace dsv3::eval
