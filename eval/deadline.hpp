#pragma once
// A per-call time budget checked by the code itself (no signals, no threads): safe to use
// from any number of threads at once.
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace dsv3::eval {

struct DeadlineExceeded : std::runtime_error {
  DeadlineExceeded() : std::runtime_error("time limit exceeded") {}
};

class Deadline {
 public:
  explicit Deadline(std::chrono::microseconds budget)
      : end_(std::chrono::steady_clock::now() + budget) {}
  // Cheap: reads the clock every 64 calls. Throws DeadlineExceeded once the budget is spent.
  void tick() {
    if ((++n_ & 63) == 0 && std::chrono::steady_clock::now() > end_) throw DeadlineExceeded();
  }

 private:
  std::chrono::steady_clock::time_point end_;
  std::uint64_t n_ = 0;
};

}  // namespace dsv3::eval
