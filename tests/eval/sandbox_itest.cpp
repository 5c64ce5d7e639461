// The code sandbox, for real: bubblewrap, rlimits, cgroups, an unprivileged uid, hostile
// programs. Containment is first proven at a small scale (20 processes, 200 MB) before the
// full-strength fork bomb and 10 GB allocation run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "datasets/humaneval.hpp"
#include "eval/humaneval_exec.hpp"
#include "eval/sandbox.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace dsv3;
using eval::Sandbox;
using eval::SandboxConfig;

namespace {

fs::path samples() { return test::source_dir() / "datasets" / "samples"; }

// Processes on the machine owned by uid (from /proc/*/status).
int processes_of(int uid) {
  int n = 0;
  for (auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream f(e.path() / "status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("Uid:", 0) == 0) {
        int real = -1;
        std::sscanf(line.c_str() + 4, "%d", &real);
        if (real == uid) {
          ++n;
          std::ifstream st(e.path() / "status");
          std::string l2, state;
          while (std::getline(st, l2))
            if (l2.rfind("State:", 0) == 0 || l2.rfind("Name:", 0) == 0 || l2.rfind("PPid:", 0) == 0) state += l2 + " ";
          std::cerr << "process of uid " << uid << ": " << name << " " << state << "\n";
        }
        break;
      }
  }
  return n;
}

struct Box {
  fs::path run, box, work;
};

Box make_box(const Sandbox& sb, const std::string& name, const std::string& program) {
  Box b{sb.scratch() / name, sb.scratch() / name / "box", sb.scratch() / name / "work"};
  fs::create_directories(b.box);
  fs::create_directories(b.work);
  ::chmod(b.run.c_str(), 0755);
  ::chmod(b.box.c_str(), 0755);
  test::write_file(b.box / "prog.py", program);
  ::chmod((b.box / "prog.py").c_str(), 0644);
  return b;
}

eval::SandboxResult run_py(const Sandbox& sb, const Box& b, int slot = 0) {
  eval::SandboxRun r{b.box, b.work, {sb.config().python, "-I", "/box/prog.py"}, slot, "nonce"};
  return sb.run(r);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

SandboxConfig small_limits() {
  SandboxConfig c;
  c.limits.max_processes = 20;
  c.limits.address_space_bytes = 200ull << 20;
  c.limits.memory_bytes = 150ull << 20;
  c.limits.wall_seconds = 5;
  c.limits.cpu_seconds = 5;
  return c;
}

// Small-scale proof: a capped fork bomb and a capped allocation. Returns "" when contained.
std::string small_scale_containment() {
  Sandbox sb(small_limits());
  int uid = sb.uid_for_slot(0);
  Box fb = make_box(sb, "forkbomb", R"(import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
except OSError:
    pass
open('/work/count', 'w').write(str(n))
)");
  auto r = run_py(sb, fb);
  std::string count = slurp(fb.work / "count");
  if (count.empty()) return "fork bomb wrote no count: " + r.output;
  if (std::stoi(count) >= 20) return "fork bomb made " + count + " processes with a cap of 20";
  if (::geteuid() == 0 && processes_of(uid) != 0) return "processes left behind after the fork bomb";
  Box al = make_box(sb, "alloc", R"(
try:
    b = bytearray(300 << 20)
    open('/work/out', 'w').write('allocated')
except MemoryError:
    open('/work/out', 'w').write('MemoryError')
)");
  r = run_py(sb, al);
  if (slurp(al.work / "out") != "MemoryError") return "300 MB allocation under a 200 MB limit: " + slurp(al.work / "out") + r.output;
  if (sb.cgroups_available()) {
    // the memory cgroup alone (address space allowed up to 2 GB): touching 300 MB of a 150 MB group
    SandboxConfig c = small_limits();
    c.limits.address_space_bytes = 2ull << 30;
    Sandbox sb2(c);
    Box mc = make_box(sb2, "memcg", R"(b = bytearray(300 << 20)
for i in range(0, len(b), 4096):
    b[i] = 1
open('/work/out', 'w').write('touched')
)");
    r = run_py(sb2, mc);
    if (slurp(mc.work / "out") == "touched") return "touched 300 MB in a 150 MB memory cgroup";
    if (r.exit_code == 0) return "memory cgroup: the program exited 0";
  }
  return "";
}

}  // namespace

TEST(Sandbox, SmallScaleContainment) {
  std::string why = small_scale_containment();
  EXPECT_EQ(why, "");
}

TEST(Sandbox, RunsAsUnprivilegedUserWithoutNetworkInReadOnlyRoot) {
  Sandbox sb(SandboxConfig{});
  Box b = make_box(sb, "env", R"(import os, socket
out = []
out.append('uid=%d' % os.getuid())
out.append('pid=%d' % os.getpid())
try:
    open('/usr/escape', 'w')
    out.append('rootfs-writable')
except OSError:
    out.append('rootfs-ro')
open('/tmp/private', 'w').write('x')
out.append('tmp-ok')
try:
    socket.create_connection(('1.1.1.1', 80), timeout=2)
    out.append('net')
except OSError:
    out.append('no-net')
open('/work/out', 'w').write(' '.join(out))
)");
  auto r = run_py(sb, b);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(b.work / "out"), "uid=1000 pid=1 rootfs-ro tmp-ok no-net") << r.output;
  EXPECT_FALSE(fs::exists("/tmp/private") && slurp("/tmp/private") == "x");
  if (::geteuid() == 0) {
    struct stat st;
    ASSERT_EQ(::stat((b.work / "out").c_str(), &st), 0);
    EXPECT_EQ(int(st.st_uid), sb.uid_for_slot(0));  // the real uid outside is unprivileged
    EXPECT_NE(st.st_uid, 0u);
  }
}

TEST(Sandbox, SampleSolutionsPassAndEmptyBodiesFail) {
  Sandbox sb(SandboxConfig{});
  auto problems = datasets::load_humaneval(samples());
  std::vector<eval::CodeJob> jobs;
  for (auto& p : problems) jobs.push_back({&p, eval::humaneval_program(p, p.canonical_solution)});
  for (auto& p : problems) jobs.push_back({&p, eval::humaneval_program(p, "    pass\n")});
  auto res = eval::run_humaneval_jobs(sb, jobs, 2);
  for (std::size_t i = 0; i < problems.size(); ++i) {
    EXPECT_EQ(res[i].status, "passed") << problems[i].task_id << ": " << res[i].detail;
    EXPECT_GT(res[i].calls, 0);
    EXPECT_EQ(res[problems.size() + i].status, "failed") << problems[i].task_id;
  }
}

TEST(Sandbox, HostilePrograms) {
  ASSERT_EQ(small_scale_containment(), "") << "containment not proven at small scale; not running full strength";
  SandboxConfig cfg;
  cfg.limits.wall_seconds = 5;
  Sandbox sb(cfg);
  auto problems = datasets::load_humaneval(samples());
  const auto& add = problems[0];  // def add(a, b)
  // a loopback listener on the host: the sandbox must not reach it
  int lsock = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lsock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(lsock, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(lsock, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  fs::path outside = test::source_dir() / "build-sandbox-escape";
  fs::path outside_tmp = sb.scratch() / "escape";

  struct Hostile {
    const char* name;
    std::string body;  // the whole program: it must define add(a, b)
  };
  std::vector<Hostile> hostile = {
      {"fork bomb", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"},
      {"infinite loop", "def add(a, b):\n    while True:\n        pass\n"},
      {"10 GB allocation", "def add(a, b):\n    x = bytearray(10 * 2**30)\n    x[-1] = 1\n    return a + b\n"},
      {"write outside the work folder",
       "def add(a, b):\n    for p in ['/etc/dsv3-escape', '/box/escape', '" + outside.string() + "', '" + outside_tmp.string() +
           "']:\n        open(p, 'w').write('escaped')\n    return a + b\n"},
      {"open a socket", "import socket\ndef add(a, b):\n    socket.create_connection(('127.0.0.1', " + std::to_string(port) +
                            "), timeout=2).sendall(b'hi')\n    return a + b\n"},
      {"kill the parent",
       "import os, signal\ndef add(a, b):\n    for p in (os.getppid(), 1, -1):\n        for s in (signal.SIGKILL, signal.SIGTERM, "
       "signal.SIGINT):\n            try:\n                os.kill(p, s)\n            except OSError:\n                pass\n"
       "    print('passed')\n"},
      {"exit 0 at import", "import sys\nprint('passed')\nsys.exit(0)\n"},
      {"os._exit(0) in the function", "import os\ndef add(a, b):\n    print('passed')\n    os._exit(0)\n"},
      {"__eq__ override",
       "class Yes:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"
       "def add(a, b):\n    return Yes()\n"},
      {"int subclass with __eq__", "class I(int):\n    def __eq__(self, o):\n        return True\n"
                                   "    __hash__ = int.__hash__\ndef add(a, b):\n    return I(0)\n"},
      {"forge the verdict",
       "import os, json\ndef add(a, b):\n    v = json.dumps({'nonce': 'x', 'status': 'passed', 'calls': 3})\n"
       "    print(v)\n    for fd in (3, 4):\n        try:\n            os.write(fd, v.encode())\n        except OSError:\n            pass\n"
       "    for p in ('/proc/1/fd/3', '/proc/1/mem'):\n        try:\n            open(p, 'w').write(v)\n        except OSError:\n"
       "            pass\n    return None\n"},
      {"replace the checker's check", "import builtins\nbuiltins.check = lambda c: None\ndef check(c):\n    pass\n"
                                      "def add(a, b):\n    return None\n"},
  };
  std::vector<eval::CodeJob> jobs;
  for (auto& h : hostile) jobs.push_back({&add, h.body});
  jobs.push_back({&add, eval::humaneval_program(add, add.canonical_solution)});  // the harness still works after
  auto t0 = std::chrono::steady_clock::now();
  auto res = eval::run_humaneval_jobs(sb, jobs, 2);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t i = 0; i < hostile.size(); ++i)
    EXPECT_NE(res[i].status, "passed") << hostile[i].name << ": " << res[i].detail;
  EXPECT_EQ(res[1].status, "timeout");
  EXPECT_EQ(res.back().status, "passed") << res.back().detail;
  EXPECT_FALSE(fs::exists(outside));
  EXPECT_FALSE(fs::exists(outside_tmp));
  EXPECT_FALSE(fs::exists("/etc/dsv3-escape"));
  EXPECT_EQ(::accept(lsock, nullptr, nullptr), -1);  // nobody connected
  ::close(lsock);
  if (::geteuid() == 0) {
    EXPECT_EQ(processes_of(sb.uid_for_slot(0)) + processes_of(sb.uid_for_slot(1)), 0);
  }
  EXPECT_LT(took, 60.0);
}

TEST(Sandbox, RefusesWhenItCannotBeSetUp) {
  SandboxConfig c;
  c.bwrap = "/nonexistent/bwrap";
  try {
    Sandbox sb(c);
    FAIL() << "expected SandboxUnavailable";
  } catch (const eval::SandboxUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("--unsafe-no-sandbox"), std::string::npos) << e.what();
  }
  auto r = test::run_dsv3({"eval", "run-code", "--data-dir", samples().string(), "--canonical", "--bwrap", "/nonexistent/bwrap"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("refusing to run generated code"), std::string::npos) << r.err;
  r = test::run_dsv3({"eval", "run-code", "--data-dir", samples().string(), "--canonical", "--bwrap", "/nonexistent/bwrap",
                      "--unsafe-no-sandbox", "--format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"passed\": 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"sandbox\": \"none\""), std::string::npos) << r.out;
}

TEST(RealHumanEval, CanonicalSolutionsPassAndEmptyBodiesFail) {
  auto dir = test::benchmarks_dir() / "humaneval";
  if (!fs::exists(dir)) GTEST_SKIP() << "real benchmark files not present: " << dir;
  auto problems = datasets::load_humaneval(test::benchmarks_dir());
  ASSERT_EQ(problems.size(), 164u);
  Sandbox sb(SandboxConfig{});
  std::vector<eval::CodeJob> jobs;
  for (auto& p : problems) jobs.push_back({&p, eval::humaneval_program(p, p.canonical_solution)});
  for (auto& p : problems) jobs.push_back({&p, eval::humaneval_program(p, "    pass\n")});
  auto res = eval::run_humaneval_jobs(sb, jobs, 2);
  int pass_ok = 0, fail_ok = 0;
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (res[i].status == "passed") ++pass_ok;
    else ADD_FAILURE() << problems[i].task_id << " canonical: " << res[i].status << " " << res[i].detail;
    if (res[problems.size() + i].status == "failed") ++fail_ok;
    else ADD_FAILURE() << problems[i].task_id << " with `pass`: " << res[problems.size() + i].status;
  }
  EXPECT_EQ(pass_ok, 164);
  EXPECT_EQ(fail_ok, 164);
}
