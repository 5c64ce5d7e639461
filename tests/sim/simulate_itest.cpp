// dsv3 simulate end to end: the built binary, its outputs, sweeps, HDF5 and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "reports/h5_file.hpp"
#include "support/test_support.hpp"

using dsv3::test::run_dsv3;

TEST(SimulateCli, DefaultScenarioPrintsSummary) {
  auto r = run_dsv3({"simulate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"Summary", "pre-training GPU-hours", "total cost", "MFU", "step time", "exposed communication",
                        "pipeline bubble", "Calibration and hardware constants", "DeepGEMM"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST(SimulateCli, JsonFollowsTheContract) {
  auto r = run_dsv3({"simulate", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"total_params", "activated_params", "kv_cache_bytes_per_token", "train_flops_per_token"})
    EXPECT_TRUE(j["model"][k].is_number()) << k;
  EXPECT_TRUE(j["step"]["time_s"].is_number());
  EXPECT_TRUE(j["step"]["tokens"].is_number());
  for (const char* k : {"tokens_per_day", "tflops_per_gpu", "mfu_bf16"}) EXPECT_TRUE(j["throughput"][k].is_number()) << k;
  for (const char* k : {"gpu_hours_per_trillion_tokens", "pretrain_gpu_hours", "total_gpu_hours", "total_usd"})
    EXPECT_TRUE(j["cost"][k].is_number()) << k;
  ASSERT_TRUE(j["calibration"].is_array());
  EXPECT_GT(j["calibration"].size(), 10u);
  for (auto& c : j["calibration"]) EXPECT_FALSE(c["source"].get<std::string>().empty()) << c["name"];
  EXPECT_EQ(j["model"]["kv_cache_bytes_per_token"].get<double>(), 70272.0);
}

TEST(SimulateCli, SweepsRunOverPlanAndPrecision) {
  auto r = run_dsv3({"simulate", "--format", "csv", "--set", "memory.check=false", "--sweep", "parallel.pp=8,16",
                     "--sweep", "parallel.ep=32,64", "--sweep", "parallel.dp=64,128", "--sweep",
                     "parallel.micro_batch=1,2", "--sweep", "precision=fp8,bf16"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Header + 32 points.
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 33) << r.out;
  EXPECT_NE(r.out.find("parallel.pp,parallel.ep,parallel.dp,parallel.micro_batch,precision,step_time_s"), std::string::npos)
      << r.out;
  auto t = run_dsv3({"simulate", "--sweep", "parallel.ep=32,48,64"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("error:"), std::string::npos) << t.out;  // EP 48 does not divide 256 experts
}

TEST(SimulateCli, BadInputIsExitTwoWithOneClearLine) {
  dsv3::test::TempDir d;
  auto scen = d / "bad.yaml";
  dsv3::test::write_file(scen, dsv3::test::read_file(dsv3::test::source_dir() / "sim/scenarios/deepseek-v3-h800.yaml") +
                                   "\nbogus_key: 1\n");
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  std::vector<Case> cases = {
      {{"simulate", scen.string()}, "bogus_key': unknown key"},
      {{"simulate", "--set", "parallel.ep=48"}, "EP=48 does not divide the 256 routed experts"},
      {{"simulate", "--set", "parallel.pp=5"}, "PP=5 does not divide the 64 pipeline slots"},
      {{"simulate", "--set", "parallel.micro_batch=2"}, "does not fit in GPU memory"},
      {{"simulate", "--set", "parallel.pp=2"}, "DualPipe needs an even number of micro-batches"},
      {{"simulate", "--set", "nope=1"}, "--set nope=1: key 'nope': unknown key"},
      {{"simulate", (d / "missing.yaml").string()}, "file not found"},
  };
  for (auto& c : cases) {
    auto r = run_dsv3(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back() << "\n" << r.err;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto r = run_dsv3({"simulate", scen.string()});
  EXPECT_NE(r.err.find("bad.yaml"), std::string::npos) << r.err;
}

TEST(SimulateCli, Hdf5OutputReadsBackInCppAndH5py) {
  dsv3::test::TempDir d;
  auto out = d / "sim.h5";
  auto r = run_dsv3({"simulate", "--format", "json", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  namespace h5 = dsv3::reports::h5;
  h5::Handle f = h5::open_file(out, false);
  EXPECT_EQ(h5::attr_str(f.id(), "schema"), "dsv3.simulation");
  EXPECT_EQ(h5::attr_int(f.id(), "schema_version"), 1);
  EXPECT_FALSE(h5::attr_str(f.id(), "dsv3_git_hash").empty());
  h5::Handle cost = h5::open_group(f.id(), "cost");
  EXPECT_DOUBLE_EQ(h5::attr_double(cost.id(), "pretrain_gpu_hours"), j["cost"]["pretrain_gpu_hours"].get<double>());
  h5::Handle model = h5::open_group(f.id(), "model");
  EXPECT_EQ(h5::attr_double(model.id(), "kv_cache_bytes_per_token"), 70272.0);
  h5::Handle phases = h5::open_group(f.id(), "phases");
  EXPECT_EQ(h5::read_strings(phases.id(), "name").size(), 4u);
  h5::Handle cal = h5::open_group(f.id(), "calibration");
  auto sources = h5::read_strings(cal.id(), "source");
  EXPECT_EQ(sources.size(), j["calibration"].size());
  h5::Handle moe = h5::open_group(f.id(), "moe");
  size_t rows = 0, cols = 0;
  h5::read_matrix(moe.id(), "ib_tokens", rows, cols);
  EXPECT_EQ(rows, 64u);
  EXPECT_EQ(cols, 64u);

  std::string py =
      "import h5py,sys\n"
      "f=h5py.File(sys.argv[1],'r')\n"
      "assert f.attrs['schema']=='dsv3.simulation'\n"
      "print(round(float(f['cost'].attrs['pretrain_gpu_hours'])), len(f['step/ops/name']), f['moe/ib_tokens'].shape)\n";
  std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  auto p = dsv3::test::run({python, "-c", py, out.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.out.find(std::to_string(static_cast<long long>(std::llround(j["cost"]["pretrain_gpu_hours"].get<double>())))),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("(64, 64)"), std::string::npos) << p.out;
}

TEST(SimulateCli, TraceFileOpensAsChromeTraceJson) {
  dsv3::test::TempDir d;
  const auto path = (d.path() / "step.json").string();
  auto r = run_dsv3({"simulate", "--trace", path, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto t = nlohmann::json::parse(dsv3::test::read_file(path));
  ASSERT_TRUE(t["traceEvents"].is_array());
  EXPECT_GT(t["traceEvents"].size(), 1000u);
  const double step = nlohmann::json::parse(r.out)["step"]["time_s"].get<double>();
  EXPECT_NEAR(t["otherData"]["trace_end_s"].get<double>(), step, 1e-6 * step);
  // With a sweep there is no single step to draw: an error, nothing written.
  const auto bad = (d.path() / "sweep.json").string();
  auto s = run_dsv3({"simulate", "--trace", bad, "--sweep", "precision=fp8,bf16"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("--trace"), std::string::npos) << s.err;
  EXPECT_FALSE(std::filesystem::exists(bad));
  // An unwritable path names the option and the file.
  auto w = run_dsv3({"simulate", "--trace", (d.path() / "no" / "such" / "dir.json").string()});
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find("--trace"), std::string::npos) << w.err;
}
