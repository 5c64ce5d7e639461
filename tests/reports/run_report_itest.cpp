// RUN.h5 written with RunWriter, read back with read_run and with python3 h5py; resume after
// SIGKILL and after a damaged file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "model/errors.hpp"
#include "reports/run_report.hpp"
#include "support/test_support.hpp"

using namespace dsv3::reports;
namespace fs = std::filesystem;

namespace {

RunProvenance prov() {
  RunProvenance p;
  p.dsv3_version = "0.1.0";
  p.dsv3_git_hash = "test";
  p.model_spec = "replay:answers.jsonl";
  p.model_name = "replay model";
  p.backend = "replay";
  p.sampling_json = R"({"temperature":0})";
  p.seed = 1234;
  p.host = "testhost";
  p.command_line = "dsv3 eval --tasks mmlu,humaneval";
  p.start_time_utc = "2024-12-27T10:00:00Z";
  return p;
}

std::vector<TaskInfo> tasks() {
  TaskInfo mmlu{"mmlu", "mmlu test", std::string(64, 'a'), std::string(64, 'b'), 5, "acc", 1, {}, 6};
  TaskInfo he{"humaneval", "HumanEval.jsonl.gz", std::string(64, 'c'), std::string(64, 'd'), 0, "pass@1", 3, {1, 2}, 2};
  return {mmlu, he};
}

SampleRecord rec(const std::string& id, int64_t idx, const std::string& subject, int64_t correct) {
  SampleRecord r;
  r.id = id;
  r.sample_index = idx;
  r.subject = subject;
  r.prompt_sha256 = "p" + id;
  r.response = "Answer: B — ünïcode";
  r.extracted = "B";
  r.gold = correct == 1 ? "B" : "C";
  r.correct = correct;
  r.latency_s = 0.25;
  r.tokens_in = 100;
  r.tokens_out = 3;
  if (correct < 0) r.error = "timeout";
  return r;
}

std::string qid(size_t i) { return std::string("q").append(std::to_string(i)); }

void write_mmlu(RunWriter& w) {
  // anatomy: 2 of 3 right; law: 1 of 3 right (one error).
  w.append("mmlu", rec("a1", 0, "anatomy", 1));
  w.append("mmlu", rec("a2", 0, "anatomy", 1));
  w.append("mmlu", rec("a3", 0, "anatomy", 0));
  w.append("mmlu", rec("l1", 0, "law", 1));
  w.append("mmlu", rec("l2", 0, "law", 0));
  w.append("mmlu", rec("l3", 0, "law", -1));
}

void write_humaneval(RunWriter& w) {
  // HumanEval/0: 2 of 3 samples pass; HumanEval/1: 0 of 3.
  for (int i = 0; i < 3; ++i) w.append("humaneval", rec("HumanEval/0", i, "", i < 2 ? 1 : 0));
  for (int i = 0; i < 3; ++i) w.append("humaneval", rec("HumanEval/1", i, "", 0));
}

}  // namespace

TEST(RunReport, WriteFinishReadBack) {
  dsv3::test::TempDir tmp;
  auto file = tmp / "RUN.h5";
  auto w = RunWriter::create(file, prov(), tasks());
  write_mmlu(*w);
  write_humaneval(*w);
  EXPECT_TRUE(fs::exists(file.string() + ".journal"));
  w->finish("2024-12-27T11:00:00Z");
  EXPECT_FALSE(fs::exists(file.string() + ".journal"));

  auto r = read_run(file);
  EXPECT_EQ(r.status, "complete");
  EXPECT_EQ(r.schema_version, kEvalRunSchemaVersion);
  EXPECT_EQ(r.provenance.model_name, "replay model");
  EXPECT_EQ(r.provenance.end_time_utc, "2024-12-27T11:00:00Z");
  ASSERT_NE(r.task("mmlu"), nullptr);
  auto& m = r.task("mmlu")->metrics;
  EXPECT_TRUE(r.task("mmlu")->metrics_stored);
  EXPECT_DOUBLE_EQ(m.primary.value, 3.0 / 6.0);
  EXPECT_EQ(m.n_errors, 1);
  ASSERT_EQ(m.subjects.size(), 2u);
  EXPECT_EQ(m.subjects[0].subject, "anatomy");
  EXPECT_DOUBLE_EQ(m.subjects[0].estimate.value, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*m.micro, 0.5);
  EXPECT_DOUBLE_EQ(*m.macro, (2.0 / 3.0 + 1.0 / 3.0) / 2);
  auto& h = r.task("humaneval")->metrics;
  EXPECT_DOUBLE_EQ(h.primary.value, (2.0 / 3.0 + 0.0) / 2);
  EXPECT_NEAR(h.pass_at_k.at(2), (1.0 + 0.0) / 2, 1e-12);  // 2 of 3 correct: pass@2 = 1
  EXPECT_EQ(r.task("humaneval")->samples.size(), 6u);
  EXPECT_EQ(r.task("mmlu")->samples[0].response, "Answer: B — ünïcode");

  // The same file through h5py, with no plugin.
  auto py = tmp / "check.py";
  dsv3::test::write_file(py, R"(import sys, h5py
f = h5py.File(sys.argv[1], "r")
t = f["tasks/mmlu"]
print(f.attrs["schema"], int(f.attrs["schema_version"]), f.attrs["status"])
print(len(t["samples/id"]), t["samples/response"].asstr()[0], int(t["samples/correct"][5]))
print("%.6f %.6f %s" % (t["metrics"].attrs["score"], t["metrics"].attrs["macro"], t["metrics/subjects/subject"].asstr()[1]))
print("%.6f" % f["tasks/humaneval/metrics"].attrs["pass@2"], f["provenance"].attrs["seed"])
)");
  auto res = dsv3::test::run({"/usr/bin/python3", py.string(), file.string()});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out,
            "dsv3.eval_run 1 complete\n"
            "6 Answer: B — ünïcode -1\n"
            "0.500000 0.500000 law\n"
            "0.500000 1234\n");
}

TEST(RunReport, ReaderComputesMetricsOfARunningFile) {
  dsv3::test::TempDir tmp;
  auto file = tmp / "RUN.h5";
  auto w = RunWriter::create(file, prov(), tasks());
  write_mmlu(*w);
  auto r = read_run(file);  // while the writer still holds it open
  EXPECT_EQ(r.status, "running");
  EXPECT_FALSE(r.task("mmlu")->metrics_stored);
  EXPECT_DOUBLE_EQ(r.task("mmlu")->metrics.primary.value, 0.5);
  EXPECT_EQ(r.task("humaneval")->metrics.n_items, 0);
}

TEST(RunReport, RefusesExistingAndForeignFiles) {
  dsv3::test::TempDir tmp;
  auto file = tmp / "RUN.h5";
  RunWriter::create(file, prov(), tasks())->finish("x");
  EXPECT_THROW(RunWriter::create(file, prov(), tasks()), dsv3::InputError);
  try {
    RunWriter::resume(file);
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("complete"), std::string::npos);
  }
  dsv3::test::write_file(tmp / "x.h5", "not hdf5");
  try {
    read_run(tmp / "x.h5");
    FAIL();
  } catch (const dsv3::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.h5: not an HDF5 file"), std::string::npos) << e.what();
  }
}

TEST(RunReport, ResumesAfterSigkill) {
  dsv3::test::TempDir tmp;
  auto file = tmp / "RUN.h5";
  auto journal = file.string() + ".journal";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: write forever; the parent kills it with SIGKILL at an arbitrary moment.
    auto w = RunWriter::create(file, prov(), tasks());
    for (int i = 0;; ++i) w->append("mmlu", rec(qid(i), 0, i % 2 ? "law" : "anatomy", i % 3 == 0));
  }
  // Wait until some samples are journalled, then kill mid-stream.
  for (int tries = 0; tries < 2000; ++tries) {
    std::ifstream in(journal);
    int lines = 0;
    std::string l;
    while (std::getline(in, l)) ++lines;
    if (lines > 60) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto w = RunWriter::resume(file);
  size_t have = w->count("mmlu");
  EXPECT_GT(have, 50u);
  // Every resumed sample is there, in order, with no gap: q0..q(have-1).
  for (size_t i = 0; i < have; ++i) EXPECT_TRUE(w->done("mmlu", qid(i), 0)) << i;
  EXPECT_FALSE(w->done("mmlu", qid(have), 0));
  for (size_t i = have; i < have + 5; ++i) w->append("mmlu", rec(qid(i), 0, "law", 1));
  w->finish("end");
  auto r = read_run(file);
  EXPECT_EQ(r.task("mmlu")->samples.size(), have + 5);
  EXPECT_EQ(r.task("mmlu")->metrics.n_items, static_cast<int64_t>(have + 5));
  auto res = dsv3::test::run({"/usr/bin/python3", "-c",
                              "import sys,h5py; f=h5py.File(sys.argv[1]); print(len(f['tasks/mmlu/samples/id']))",
                              file.string()});
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, std::to_string(have + 5) + "\n");
}

TEST(RunReport, RebuildsADamagedFileFromTheJournal) {
  dsv3::test::TempDir tmp;
  auto file = tmp / "RUN.h5";
  {
    auto w = RunWriter::create(file, prov(), tasks());
    write_mmlu(*w);
    write_humaneval(*w);
  }  // dropped without finish: like a crash
  // Damage the HDF5 file and tear the journal's last line.
  fs::resize_file(file, fs::file_size(file) / 3);
  {
    std::ofstream j(file.string() + ".journal", std::ios::app);
    j << R"({"t":"mmlu","id":"tor)";
  }
  auto w = RunWriter::resume(file);
  EXPECT_EQ(w->count("mmlu"), 6u);
  EXPECT_EQ(w->count("humaneval"), 6u);
  w->append("mmlu", rec("x1", 0, "law", 1));
  w->finish("end");
  auto r = read_run(file);
  EXPECT_EQ(r.task("mmlu")->samples.size(), 7u);
  EXPECT_DOUBLE_EQ(r.task("mmlu")->metrics.primary.value, 4.0 / 7.0);
}
