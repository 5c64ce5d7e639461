// The Chrome trace of one simulated step: its spans add up to the simulator's step time, ops sit
// inside their chunks, and every schedule (DualPipe, 1F1B, ZB1P) is drawn.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/simulate.hpp"
#include "sim/trace.hpp"

using namespace dsv3::sim;
using nlohmann::json;

namespace {

SimResult run(std::vector<std::string> sets = {}) {
  Scenario s = load_scenario(default_scenario_path());
  for (auto& a : sets) apply_set(s, a);
  return simulate(s);
}

struct Span {
  std::string name, cat;
  int tid;
  double ts, dur;
};

std::vector<Span> spans(const json& t) {
  std::vector<Span> v;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == "X") v.push_back({e["name"], e["cat"], e["tid"], e["ts"], e["dur"]});
  return v;
}

void check(const SimResult& r, const std::string& what) {
  const json t = chrome_trace(r);
  const StepResult& st = r.phases[static_cast<size_t>(r.pretrain)].step;
  const auto v = spans(t);
  ASSERT_FALSE(v.empty()) << what;
  double chunks = 0, end = 0, bubble = 0, dp = 0;
  std::vector<const Span*> chunk_spans;
  for (const auto& s : v) {
    EXPECT_GE(s.ts, 0) << what << " " << s.name;
    EXPECT_GT(s.dur, 0) << what << " " << s.name;
    end = std::max(end, s.ts + s.dur);
    if (s.cat == "chunk") {
      chunks += s.dur;
      chunk_spans.push_back(&s);
    }
    if (s.cat == "bubble") bubble += s.dur;
    if (s.cat == "dp" || s.cat == "optimizer") dp += s.dur;
  }
  // The chunks are the rank's own work; with the bubble, DP and optimizer they make the step.
  EXPECT_NEAR(chunks * 1e-6, st.pipeline_s - st.bubble_s, 1e-9 * st.total_s + 1e-9) << what;
  EXPECT_NEAR(bubble * 1e-6, st.bubble_s, 1e-9) << what;
  EXPECT_NEAR(dp * 1e-6, st.dp_exposed_s + st.optimizer_s, 1e-9) << what;
  EXPECT_NEAR(end * 1e-6, st.total_s, 1e-9 * st.total_s) << what;
  EXPECT_NEAR(t["otherData"]["step_time_s"].get<double>(), r.step_time_s, 1e-9) << what;
  // Every op on the compute track lies inside a chunk (spans are laid out in time order).
  size_t c = 0, ops = 0;
  for (const auto& s : v) {
    if (s.tid != 1 || s.cat == "chunk" || s.cat == "bubble") continue;
    while (c < chunk_spans.size() && chunk_spans[c]->ts + chunk_spans[c]->dur < s.ts + 1e-6) ++c;
    ASSERT_LT(c, chunk_spans.size()) << what << " " << s.name;
    EXPECT_GE(s.ts, chunk_spans[c]->ts - 1e-6) << what << " " << s.name;
    EXPECT_LE(s.ts + s.dur, chunk_spans[c]->ts + chunk_spans[c]->dur + 1e-3) << what << " " << s.name;
    ++ops;
  }
  EXPECT_GT(ops, chunk_spans.size()) << what;
  // Named tracks.
  std::map<int, std::string> names;
  for (const auto& e : t["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") names[e["tid"]] = e["args"]["name"];
  EXPECT_EQ(names.size(), 3u) << what;
}

}  // namespace

TEST(SimTrace, DualPipeStepAddsUpToTheStepTime) {
  const SimResult r = run();
  check(r, "dualpipe");
  // DualPipe's overlapped forward&backward pairs and their hidden all-to-all are drawn.
  const auto v = spans(chrome_trace(r));
  const auto pairs = std::count_if(v.begin(), v.end(), [](const Span& s) { return s.name.find(" & B+W ") != std::string::npos; });
  EXPECT_EQ(pairs, r.phases[static_cast<size_t>(r.pretrain)].step.overlapped_pairs);
  EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](const Span& s) { return s.name.find("overlapped") != std::string::npos; }));
}

TEST(SimTrace, OneFOneBAndZeroBubbleSchedules) {
  check(run({"parallel.schedule=1f1b"}), "1f1b");
  check(run({"parallel.schedule=zb1p"}), "zb1p");
}
