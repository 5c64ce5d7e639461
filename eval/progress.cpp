#include "eval/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace dsv3::eval {

size_t Progress::add_task(const std::string& name, int64_t total, int64_t done, int64_t correct) {
  std::lock_guard lock(mu_);
  lines_.push_back({name, total, done, correct, done});
  return lines_.size() - 1;
}

void Progress::tick(size_t task, bool correct) {
  std::lock_guard lock(mu_);
  auto& l = lines_.at(task);
  l.done += 1;
  l.correct += correct ? 1 : 0;
  draw(l.done == l.total);
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  draw(true);
  finished_ = true;
}

std::string Progress::render(const Line& l, double elapsed) const {
  constexpr int kWidth = 24;
  double frac = l.total > 0 ? static_cast<double>(l.done) / static_cast<double>(l.total) : 1.0;
  int fill = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(fill), '#');
  bar.resize(kWidth, '.');
  int64_t new_done = l.done - l.done_at_start;
  double rate = elapsed > 0 ? static_cast<double>(new_done) / elapsed : 0.0;
  std::string eta = "--:--";
  if (rate > 0 && l.done < l.total) {
    auto s = static_cast<int64_t>(static_cast<double>(l.total - l.done) / rate);
    eta = fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  } else if (l.done >= l.total) {
    eta = "done";
  }
  std::string score = l.done > 0 ? fmt::format("{:.3f}", static_cast<double>(l.correct) / static_cast<double>(l.done)) : "-";
  return fmt::format("{:<14} [{}] {:>6}/{:<6} {:>8.1f} it/s  ETA {:>8}  score {}", l.name, bar, l.done, l.total, rate, eta,
                     score);
}

void Progress::draw(bool force) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string s;
  if (drawn_lines_ > 0) s += fmt::format("\x1b[{}A", drawn_lines_);
  for (auto& l : lines_) s += "\r\x1b[2K" + render(l, elapsed) + "\n";
  drawn_lines_ = static_cast<int>(lines_.size());
  std::fputs(s.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace dsv3::eval
