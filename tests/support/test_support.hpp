#pragma once
// Helpers shared by the test programs: running the real dsv3 binary, temporary folders,
// and where the test data lives.
#include <filesystem>
#include <string>
#include <vector>

namespace dsv3::test {

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv (argv[0] found on PATH or given as a path) with stdin_text on its standard
// input; collects stdout and stderr. No shell is involved.
RunResult run(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// Runs the dsv3 binary built with these tests.
RunResult run_dsv3(const std::vector<std::string>& args, const std::string& stdin_text = "");

// A fresh folder under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path test_data_dir();       // tests/data
std::filesystem::path shared_dir();          // ../shared beside the checkout
std::filesystem::path benchmarks_dir();      // ../shared/data/benchmarks
std::filesystem::path source_dir();          // the checkout
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

// True when a CUDA GPU is visible (gpu-labelled tests skip themselves otherwise).
bool have_gpu();

}  // namespace dsv3::test
