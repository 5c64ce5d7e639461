#pragma once
// Two small RUN.h5 files written with the real RunWriter, for the table, plot and page tests.
#include <filesystem>
#include <string>

#include "reports/run_report.hpp"

namespace dsv3::test {

// model-a: mmlu 5-shot (20 items, 2 subjects), gsm8k 8-shot (10 items), humaneval pass@1 over
// 3 samples (4 problems). model-b: mmlu 0-shot (a different setting), gsm8k 8-shot on a
// different dataset file, same item ids so the two can be paired.
inline void write_fixture_runs(const std::filesystem::path& a, const std::filesystem::path& b) {
  using namespace dsv3::reports;
  auto prov = [](const std::string& name) {
    RunProvenance p;
    p.dsv3_version = "0.1.0";
    p.dsv3_git_hash = "fixture";
    p.model_spec = "replay:" + name + ".jsonl";
    p.model_name = name;
    p.backend = "replay";
    p.sampling_json = R"({"temperature":0,"max_tokens":512})";
    p.seed = 1;
    p.host = "fixture-host";
    p.command_line = "dsv3 eval --tasks mmlu,gsm8k,humaneval --model replay:" + name + ".jsonl";
    p.start_time_utc = "2024-12-27T10:00:00Z";
    return p;
  };
  auto rec = [](const std::string& id, int64_t idx, const std::string& subject, bool ok) {
    SampleRecord r;
    r.id = id;
    r.sample_index = idx;
    r.subject = subject;
    r.prompt_sha256 = "0000";
    r.response = ok ? "Answer: A" : "Answer: B";
    r.extracted = ok ? "A" : "B";
    r.gold = "A";
    r.correct = ok ? 1 : 0;
    r.latency_s = 0.5;
    r.tokens_in = 50;
    r.tokens_out = 5;
    return r;
  };
  const std::string sha1(64, '1'), sha2(64, '2'), tmpl(64, 'e');
  {
    auto w = RunWriter::create(a, prov("model-a"),
                               {{"mmlu", "mmlu test", sha1, tmpl, 5, "acc", 1, {}, 20},
                                {"gsm8k", "gsm8k test.jsonl", sha1, tmpl, 8, "em", 1, {}, 10},
                                {"humaneval", "HumanEval.jsonl.gz", sha1, tmpl, 0, "pass@1", 3, {1, 2}, 4}});
    for (int i = 0; i < 20; ++i) w->append("mmlu", rec("m" + std::to_string(i), 0, i < 10 ? "anatomy" : "law", i % 4 != 3));
    for (int i = 0; i < 10; ++i) w->append("gsm8k", rec("g" + std::to_string(i), 0, "", i < 7));
    for (int p = 0; p < 4; ++p)
      for (int s = 0; s < 3; ++s) w->append("humaneval", rec("HumanEval/" + std::to_string(p), s, "", s < p));
    w->finish("2024-12-27T10:30:00Z");
  }
  {
    auto w = RunWriter::create(b, prov("model-b"),
                               {{"mmlu", "mmlu test", sha1, tmpl, 0, "acc", 1, {}, 20},
                                {"gsm8k", "gsm8k other.jsonl", sha2, tmpl, 8, "em", 1, {}, 10}});
    for (int i = 0; i < 20; ++i) w->append("mmlu", rec("m" + std::to_string(i), 0, i < 10 ? "anatomy" : "law", i % 2 == 0));
    for (int i = 0; i < 10; ++i) w->append("gsm8k", rec("g" + std::to_string(i), 0, "", i < 9));
    w->finish("2024-12-27T11:00:00Z");
  }
}

}  // namespace dsv3::test
