// Pieces of the evaluation runner that need no process: stop-string cutting, the echo-logprob
// token split, replay files, batched appends to the run file and their recovery.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/model_backend.hpp"
#include "eval/native_model.hpp"
#include "reports/run_report.hpp"
#include "support/test_support.hpp"

namespace dsv3::test {
namespace {

TEST(EvalRunnerUnit, CutAtStopTakesTheEarliestStop) {
  EXPECT_EQ(eval::cut_at_stop("abc\nQ: next", {"Q:", "\n"}), "abc");
  EXPECT_EQ(eval::cut_at_stop("no stop here", {"Q:"}), "no stop here");
  EXPECT_EQ(eval::cut_at_stop("x", {""}), "x");
  EXPECT_EQ(eval::cut_at_stop("", {"a"}), "");
}

TEST(EvalRunnerUnit, ContinuationTokensStartAtTheContextLength) {
  // tokens at offsets 0, 3, 7, 9: context of 7 bytes -> continuation from token 2
  EXPECT_EQ(eval::first_continuation_token({0, 3, 7, 9}, 7), 2u);
  // a token straddling the boundary belongs to the context (as OpenAI-style clients read it)
  EXPECT_EQ(eval::first_continuation_token({0, 3, 7, 9}, 8), 3u);
  EXPECT_EQ(eval::first_continuation_token({0, 3}, 10), 2u);
}

TEST(EvalRunnerUnit, ReplayFileErrorsNameFileAndLine) {
  TempDir d;
  write_file(d / "a.jsonl", "{\"id\": \"x\", \"response\": \"r\"}\n{\"id\": \"y\"}\n");
  try {
    eval::make_model_backend("replay:" + (d / "a.jsonl").string(), {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a.jsonl:2: missing field 'response'"), std::string::npos) << e.what();
  }
  write_file(d / "b.jsonl", "{\"task_id\": \"HumanEval/0\", \"completion\": \"  return 1\\n\"}\nnot json\n");
  try {
    eval::make_model_backend("replay:" + (d / "b.jsonl").string(), {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("b.jsonl:2: not valid JSON"), std::string::npos) << e.what();
  }
  // human-eval lines are accepted as they are; repeats of an id are samples 0, 1, ...
  write_file(d / "c.jsonl",
             "{\"task_id\": \"HumanEval/0\", \"completion\": \"a\"}\n{\"task_id\": \"HumanEval/0\", \"completion\": \"b\"}\n");
  auto b = eval::make_model_backend("replay:" + (d / "c.jsonl").string(), {});
  eval::GenRequest q1, q2;
  q1.id = q2.id = "HumanEval/0";
  q1.sample_index = 1;
  q2.sample_index = 2;
  auto r = b->generate({q1, q2});
  EXPECT_EQ(r[0].text, "b");
  EXPECT_NE(r[1].error.find("no response"), std::string::npos);
  EXPECT_FALSE(b->supports_loglikelihood());
}

TEST(EvalRunnerUnit, BadModelSpecs) {
  EXPECT_THROW(eval::make_model_backend("", {}), InputError);
  EXPECT_THROW(eval::make_model_backend("/no/such/folder", {}), InputError);
}

TEST(EvalRunnerUnit, AppendManyIsReadBackAndSurvivesACrash) {
  TempDir d;
  auto file = d / "run.h5";
  reports::RunProvenance p;
  p.model_spec = "replay:x";
  reports::TaskInfo t;
  t.name = "gsm8k";
  t.metric = "em";
  t.samples_per_item = 1;
  t.n_items_planned = 5;
  {
    auto w = reports::RunWriter::create(file, p, {t});
    std::vector<reports::SampleRecord> v;
    for (int i = 0; i < 3; ++i) {
      reports::SampleRecord s;
      s.id = "item" + std::to_string(i);
      s.response = "r" + std::to_string(i);
      s.correct = i % 2;
      s.latency_s = 0.5 * i;
      s.tokens_in = 10 + i;
      v.push_back(s);
    }
    w->append_many("gsm8k", v);
    EXPECT_TRUE(w->done("gsm8k", "item2", 0));
    // the writer goes away without finish(): like a killed process
  }
  auto w = reports::RunWriter::resume(file);
  EXPECT_EQ(w->count("gsm8k"), 3u);
  reports::SampleRecord s4;
  s4.id = "item3";
  s4.correct = 1;
  w->append_many("gsm8k", {s4});
  w->finish(reports::utc_now_iso());
  auto run = reports::read_run(file);
  ASSERT_EQ(run.tasks[0].samples.size(), 4u);
  EXPECT_EQ(run.tasks[0].samples[1].response, "r1");
  EXPECT_EQ(run.tasks[0].samples[2].tokens_in, 12);
  EXPECT_DOUBLE_EQ(run.tasks[0].samples[2].latency_s, 1.0);
  EXPECT_EQ(run.tasks[0].metrics.primary.value, 0.5);
}

}  // namespace
}  // namespace dsv3::test
