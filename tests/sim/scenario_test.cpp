// Scenario files and --set overrides: every key checked, unknown keys rejected with file and key.
#include <gtest/gtest.h>

#include "model/errors.hpp"
#include "sim/scenario.hpp"
#include "support/test_support.hpp"

using namespace dsv3::sim;

namespace {
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const dsv3::InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Scenario, BundledScenarioLoads) {
  Scenario s = load_scenario(default_scenario_path());
  EXPECT_EQ(s.gpus, 2048);
  EXPECT_EQ(s.parallel.pp, 16);
  EXPECT_EQ(s.parallel.ep, 64);
  EXPECT_EQ(s.parallel.comm_sms, 20);
  EXPECT_EQ(s.parallel.schedule, Schedule::DualPipe);
  EXPECT_EQ(s.precision, Precision::FP8);
  ASSERT_EQ(s.phases.size(), 4u);
  EXPECT_EQ(s.phases[0].name, "pre-training");
  EXPECT_DOUBLE_EQ(s.phases[0].tokens, 14.8e12);
  EXPECT_EQ(s.phases[0].ramp_from, 3072);
  EXPECT_DOUBLE_EQ(s.phases[0].ramp_tokens, 469e9);
  EXPECT_EQ(*s.phases[2].overrides.cp, 32);
  EXPECT_TRUE(s.phases[3].given_gpu_hours.has_value());
}

TEST(Scenario, UnknownKeyNamesFileAndKey) {
  dsv3::test::TempDir d;
  dsv3::test::write_file(d / "s.yaml", "hardware: {gpus: 8}\nparallel:\n  ppp: 4\n");
  std::string e = error_of([&] { load_scenario(d / "s.yaml"); });
  EXPECT_NE(e.find("s.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("parallel.ppp"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(Scenario, SetOverridesAndRejects) {
  Scenario s = load_scenario(default_scenario_path());
  apply_set(s, "precision=bf16");
  apply_set(s, "parallel.pp=8");
  apply_set(s, "phases.pre-training.tokens=1e12");
  apply_set(s, "phases.1.steps=10");
  EXPECT_EQ(s.precision, Precision::BF16);
  EXPECT_EQ(s.parallel.pp, 8);
  EXPECT_DOUBLE_EQ(s.phases[0].tokens, 1e12);
  EXPECT_EQ(s.phases[1].steps, 10);
  EXPECT_NE(error_of([&] { apply_set(s, "parallel.nope=1"); }).find("--set parallel.nope=1: key 'parallel.nope': unknown key"),
            std::string::npos);
  EXPECT_NE(error_of([&] { apply_set(s, "precision=fp4"); }).find("expected fp8 or bf16"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_set(s, "parallel.pp=0"); }).find("at least 1"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_set(s, "parallel.pp=two"); }).find("expected a number"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_set(s, "phases.nosuch.tokens=1"); }).find("no phase named 'nosuch'"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_set(s, "novalue"); }).find("expected key=value"), std::string::npos);
}

TEST(Scenario, EveryKeyIsDocumented) {
  std::string doc = dsv3::test::read_file(dsv3::test::source_dir() / "sim/scenarios/README.md");
  for (auto& [k, help] : scenario_keys()) {
    std::string key = k.substr(k.rfind('.') == std::string::npos ? 0 : 0);
    std::string leaf = k.rfind("phases.<name or index>.", 0) == 0 ? k.substr(23) : k;
    EXPECT_NE(doc.find("`" + leaf + "`"), std::string::npos) << "undocumented key " << k;
    EXPECT_FALSE(help.empty());
  }
}
