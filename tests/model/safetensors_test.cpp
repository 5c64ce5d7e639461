// The safetensors reader and the weight loader on real files: the fixtures, and copies of
// them broken on purpose (truncated, bad header, missing tensor, wrong shape, wrong dtype).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/cpu_matmul.hpp"
#include "model/errors.hpp"
#include "model/weights.hpp"
#include "model_fixture_util.hpp"

using namespace dsv3;
using namespace dsv3::model;
namespace fs = std::filesystem;

namespace {

// Copies a fixture into a temp folder (config.json + model.safetensors of tiny-fp8).
fs::path copy_fixture(const test::TempDir& t, const std::string& name) {
  fs::path d = t.path() / name;
  fs::create_directories(d);
  for (const auto& e : fs::directory_iterator(test::fixture_dir(name)))
    if (e.path().filename().string().rfind("golden", 0) != 0) fs::copy_file(e.path(), d / e.path().filename(), fs::copy_options::overwrite_existing);
  return d;
}

std::string load_error(const fs::path& dir) {
  try {
    Model::load(dir.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

void rewrite(const fs::path& file, const std::function<void(std::vector<test::RawTensor>&)>& edit) {
  std::vector<test::RawTensor> ts;
  {
    SafetensorsFile f(file);
    ts = test::read_all(f);
  }
  edit(ts);
  test::write_safetensors(file, ts);
}

#define EXPECT_HAS(hay, needle) EXPECT_NE((hay).find(needle), std::string::npos) << (hay)

}  // namespace

TEST(Safetensors, ReadsShardedAndSingleFixtures) {
  auto ck = Checkpoint::open(test::fixture_dir("tiny-bf16"));
  EXPECT_EQ(ck->files().size(), 2u);  // two shards listed in model.safetensors.index.json
  const auto& t = ck->get("model.layers.1.mlp.experts.3.down_proj.weight");
  EXPECT_EQ(t.dtype, DType::BF16);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(ck->get("model.layers.1.mlp.gate.e_score_correction_bias").dtype, DType::F32);
  auto fp8 = Checkpoint::open(test::fixture_dir("tiny-fp8"));
  const auto& q = fp8->get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight");
  EXPECT_EQ(q.dtype, DType::F8_E4M3);
  EXPECT_EQ(q.shape, (std::vector<int64_t>{160, 160}));
  // 160 = one full and one partial 128-block on each side.
  EXPECT_EQ(fp8->get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv").shape, (std::vector<int64_t>{2, 2}));
}

TEST(Safetensors, LoadsReleasedLayoutWithMtp) {
  auto m = Model::load(test::fixture_dir("tiny-fp8"));
  const auto& c = m->config;
  ASSERT_EQ(m->weights.layers.size(), 4u);
  EXPECT_FALSE(m->weights.layers[1].is_moe);
  EXPECT_TRUE(m->weights.layers[2].is_moe);
  EXPECT_EQ(m->weights.layers[2].moe.experts.size(), static_cast<size_t>(c.n_routed_experts));
  ASSERT_EQ(m->weights.mtp.size(), 1u);
  EXPECT_EQ(m->weights.mtp[0].eh_proj.in, 2 * c.hidden_size);
  EXPECT_EQ(m->weights.layers[0].attn.q_a.dtype, DType::F8_E4M3);
  // Without MTP when asked.
  EXPECT_TRUE(Model::load(test::fixture_dir("tiny-fp8"), false)->weights.mtp.empty());
}

TEST(Safetensors, Fp8DequantisesWithBlockScales) {
  // Element (r, c) = fp8 value x weight_scale_inv[r / 128, c / 128], partial edge blocks included.
  auto m = Model::load(test::fixture_dir("tiny-fp8"));
  const Linear& l = m->weights.layers[0].attn.kv_a;
  const auto& ck = *m->checkpoint;
  const auto& s = ck.get("model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv");
  const float* sc = reinterpret_cast<const float*>(s.data);
  for (int64_t r : {0, 127, 128, 159})
    for (int64_t c : {0, 127, 128, 159})
      EXPECT_EQ(l.at(r, c), fp8_e4m3_to_f32(l.data[r * l.in + c]) * sc[(r / 128) * 2 + c / 128]);
}

TEST(Safetensors, Fp8TableKnownValues) {
  EXPECT_EQ(fp8_e4m3_to_f32(0x00), 0.0f);
  EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);   // exponent 7 = bias
  EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);  // max finite
  EXPECT_EQ(fp8_e4m3_to_f32(0x01), 1.0f / 512);  // smallest subnormal 2^-9
  EXPECT_EQ(fp8_e4m3_to_f32(0xb8), -1.0f);
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7f)));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.5f)), 1.5f);
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
}

TEST(Safetensors, MatmulKernelsAgreeWithElementwiseDequantisation) {
  // Every dtype of the fixtures, 1..6 input rows (fused decode kernel and tiled GEMM).
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto m = Model::load(test::fixture_dir(name));
    ThreadPool pool(2);
    const auto& L = m->weights.layers.back();
    for (const Linear* l : std::vector<const Linear*>{&L.attn.kv_a, &L.attn.kv_b, &L.moe.router, &L.moe.experts[0].down, &m->weights.lm_head}) {
      for (int64_t n : {1, 3, 4, 6}) {
        std::vector<float> x(static_cast<size_t>(n * l->in)), y(static_cast<size_t>(n * l->out));
        for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
        matmul(*l, x.data(), n, y.data(), &pool);
        double worst = 0;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t r = 0; r < l->out; ++r) {
            double a = 0;
            for (int64_t c = 0; c < l->in; ++c) a += static_cast<double>(l->at(r, c)) * x[j * l->in + c];
            worst = std::max(worst, std::abs(a - y[j * l->out + r]));
          }
        EXPECT_LT(worst, 1e-4) << l->name << " n=" << n;
      }
    }
  }
}

TEST(Safetensors, TruncatedFileNamesFile) {
  test::TempDir t;
  fs::path d = copy_fixture(t, "tiny-fp8");
  fs::resize_file(d / "model.safetensors", fs::file_size(d / "model.safetensors") - 1000);
  auto err = load_error(d);
  EXPECT_HAS(err, "model.safetensors");
  EXPECT_HAS(err, "truncated");
  fs::resize_file(d / "model.safetensors", 5);
  EXPECT_HAS(load_error(d), "truncated");
}

TEST(Safetensors, BadHeaderNamesFile) {
  test::TempDir t;
  fs::path d = copy_fixture(t, "tiny-fp8");
  std::string bytes = test::read_file(d / "model.safetensors");
  std::string broken = bytes;
  broken[8] = '[';  // not a JSON object
  test::write_file(d / "model.safetensors", broken);
  auto err = load_error(d);
  EXPECT_HAS(err, "model.safetensors");
  EXPECT_HAS(err, "bad safetensors header");
  broken = bytes;
  broken[20] = '\x01';  // invalid JSON inside the header
  test::write_file(d / "model.safetensors", broken);
  EXPECT_HAS(load_error(d), "invalid JSON");
  broken = bytes;
  broken[7] = '\x7f';  // absurd header size
  test::write_file(d / "model.safetensors", broken);
  EXPECT_HAS(load_error(d), "header size");
  test::write_file(d / "model.safetensors", "GGUF....not safetensors at all");
  EXPECT_HAS(load_error(d), "model.safetensors");
}

TEST(Safetensors, MissingTensorNamesTensorAndCheckpoint) {
  test::TempDir t;
  fs::path d = copy_fixture(t, "tiny-fp8");
  rewrite(d / "model.safetensors", [](auto& ts) {
    std::erase_if(ts, [](const auto& x) { return x.name == "model.layers.2.mlp.experts.4.up_proj.weight"; });
  });
  auto err = load_error(d);
  EXPECT_HAS(err, "missing tensor 'model.layers.2.mlp.experts.4.up_proj.weight'");
  EXPECT_HAS(err, d.string());
  // An FP8 weight without its scale.
  d = copy_fixture(t, "tiny-bf16");
  fs::path d2 = copy_fixture(t, "tiny-fp8");
  rewrite(d2 / "model.safetensors", [](auto& ts) {
    std::erase_if(ts, [](const auto& x) { return x.name == "model.layers.1.self_attn.o_proj.weight_scale_inv"; });
  });
  err = load_error(d2);
  EXPECT_HAS(err, "'model.layers.1.self_attn.o_proj.weight_scale_inv' is missing");
  // A shard listed in the index that is not there.
  fs::remove(d / "model-00002-of-00002.safetensors");
  err = load_error(d);
  EXPECT_HAS(err, "model-00002-of-00002.safetensors");
  EXPECT_HAS(err, "model.safetensors.index.json");
}

TEST(Safetensors, WrongShapeAndDtypeNameTensorAndFile) {
  test::TempDir t;
  fs::path d = copy_fixture(t, "tiny-fp8");
  rewrite(d / "model.safetensors", [](auto& ts) {
    for (auto& x : ts)
      if (x.name == "model.layers.0.self_attn.kv_b_proj.weight") x.shape = {x.shape[1], x.shape[0]};
  });
  auto err = load_error(d);
  EXPECT_HAS(err, "model.safetensors");
  EXPECT_HAS(err, "'model.layers.0.self_attn.kv_b_proj.weight' has shape [144, 256], expected [256, 144]");
  d = copy_fixture(t, "tiny-bf16");
  rewrite(d / "model-00001-of-00002.safetensors", [](auto& ts) {
    for (auto& x : ts)
      if (x.name == "model.embed_tokens.weight") x.dtype = "I16";
  });
  err = load_error(d);
  EXPECT_HAS(err, "model-00001-of-00002.safetensors");
  EXPECT_HAS(err, "'model.embed_tokens.weight' has dtype I16");
  // Byte count that does not match dtype x shape.
  d = copy_fixture(t, "tiny-fp8");
  rewrite(d / "model.safetensors", [](auto& ts) {
    for (auto& x : ts)
      if (x.name == "model.norm.weight") x.dtype = "F32";
  });
  err = load_error(d);
  EXPECT_HAS(err, "tensor 'model.norm.weight'");
  EXPECT_HAS(err, "needs");
}
