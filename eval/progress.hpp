#pragma once
// Progress bars for an evaluation run, one line per task on stderr: done/total, items/s,
// ETA and the running score. Drawn only when enabled (stderr is a terminal), at most ten
// times a second; thread-safe.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dsv3::eval {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  ~Progress() { finish(); }
  // done/correct: what a resumed run already has.
  size_t add_task(const std::string& name, int64_t total, int64_t done, int64_t correct);
  void tick(size_t task, bool correct);
  void finish();

 private:
  struct Line {
    std::string name;
    int64_t total = 0, done = 0, correct = 0, done_at_start = 0;
  };
  void draw(bool force);
  std::string render(const Line& l, double elapsed) const;
  bool enabled_;
  bool finished_ = false;
  int drawn_lines_ = 0;
  std::mutex mu_;
  std::vector<Line> lines_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_draw_{};
};

}  // namespace dsv3::eval
