// gpu label: the CUDA backend against HF transformers' logits (tests/data/models fixtures) and
// against the CPU backend on DeepSeek-V3-shaped random checkpoints written here (the shapes that
// take the fast MLA kernels), BF16 and FP8.
#include <gtest/gtest.h>

#if DSV3_HAVE_CUDA
#include <cuda_fp8.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "model/backend.hpp"
#include "model/dtype.hpp"
#include "model_fixture_util.hpp"
#include "support/test_support.hpp"

using namespace dsv3;
using namespace dsv3::model;

namespace {

// ||a - b|| / ||b||.
double rel(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i])) return INFINITY;
    num += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

int argmax(const float* v, int64_t n) { return static_cast<int>(std::max_element(v, v + n) - v); }

// Greedy continuation of `prompt` for `steps` tokens (prefill, then one token per step).
std::vector<int32_t> greedy(Backend& be, const std::vector<int32_t>& prompt, int steps) {
  be.reset(1, 128);
  const int64_t V = be.model().config.vocab_size;
  auto out = be.forward({{0, prompt}}, {});
  std::vector<int32_t> ids;
  for (int i = 0; i < steps; ++i) {
    ids.push_back(argmax(out[0].logits.data(), V));
    out = be.forward({{0, {ids.back()}}}, {});
  }
  return ids;
}

}  // namespace

// Stated tolerances. BF16 activations and cache on the GPU:
// - V3-shaped checkpoints against the CPU backend (FP32): logits within 2e-2 (kTolBf16), greedy
//   continuations identical (V3ShapedBf16MatchesCpuBackend);
// - the tiny HF fixtures (hidden 64 and 160, logits of order 1-10, sigmoid routing scores a few 1e-3
//   apart) against HF's own BF16 forward (golden_bf16.*, scripts/hf_bf16_reference.py). Two BF16
//   implementations differ there by 1-4% per position, and by 10-40% at a position where BF16
//   rounding sends a token to another expert in one of them (which positions changes with any
//   change of rounding order); HF's BF16 forward itself is 1.6-2.6% from the FP32 golden without
//   such a flip and up to 18% with one (golden_bf16.json's rel_vs_fp32). Held, per fixture: the
//   median position within kTolTinyMedian of HF BF16, and at most one position in ten beyond
//   kFlip (a wrong kernel puts most positions at order 100%).
constexpr double kTolBf16 = 2e-2, kTolTinyMedian = 3e-2, kFlip = 0.1;

namespace {
std::vector<float> row_of(const std::vector<float>& v, size_t t, int64_t V) {
  return std::vector<float>(v.begin() + t * V, v.begin() + (t + 1) * V);
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

TEST(CudaBackend, MatchesHFBf16LogitsOnTheFixtures) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto m = Model::load(test::fixture_dir(name));
    auto g = test::load_golden(name);
    auto b = test::load_golden_bf16(name);
    auto be = make_backend("cuda", m);
    const int64_t V = m->config.vocab_size;
    auto seqs = g.sequences();
    std::vector<double> per_position;
    for (size_t k = 0; k < seqs.size(); ++k) {
      be->reset(1, 64);
      auto out = be->forward({{0, seqs[k]}}, {.all_logits = true});
      const std::string key = "seq" + std::to_string(k) + ".logits";
      const auto ref16 = b.tensor(key), ref32 = g.tensor(key);
      std::cout << name << " seq" << k << ": vs HF BF16 " << rel(out[0].logits, ref16) << ", vs FP32 golden "
                << rel(out[0].logits, ref32) << " (HF BF16 vs FP32: " << b.meta["rel_vs_fp32"][k].get<double>()
                << ")\n  per position vs HF BF16:";
      for (size_t t = 0; t < seqs[k].size(); ++t) {
        const double e = rel(row_of(out[0].logits, t, V), row_of(ref16, t, V));
        per_position.push_back(e);
        std::cout << " " << e;
      }
      std::cout << "\n";
    }
    const double med = median(per_position);
    const auto flips = std::count_if(per_position.begin(), per_position.end(), [](double e) { return e > kFlip; });
    std::cout << name << ": median position " << med << ", " << flips << " of " << per_position.size()
              << " positions beyond " << kFlip << "\n";
    EXPECT_LT(med, kTolTinyMedian) << name;
    EXPECT_LE(flips * 10, static_cast<int64_t>(per_position.size())) << name;
    RecordProperty(std::string(name) + "_median_rel_vs_hf_bf16", std::to_string(med));
  }
}

TEST(CudaBackend, DecodeStepsMatchAllLogitsPrefill) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  // Token by token (general absorbed path) against all positions at once, and batched decode with
  // different lengths per sequence against single-sequence runs.
  auto m = Model::load(test::fixture_dir("tiny-bf16"));
  auto g = test::load_golden("tiny-bf16");
  auto be = make_backend("cuda", m);
  const int64_t V = m->config.vocab_size;
  auto seqs = g.sequences();
  const auto& s = seqs[0];
  be->reset(1, 64);
  std::vector<float> steps;
  for (int32_t id : s) {
    auto o = be->forward({{0, {id}}}, {});
    steps.insert(steps.end(), o[0].logits.begin(), o[0].logits.end());
  }
  EXPECT_LT(rel(steps, g.tensor("seq0.logits")), kTolBf16);
  // Two sequences of different lengths decoded together.
  be->reset(2, 64);
  std::vector<int32_t> a(s.begin(), s.end() - 1), b(seqs[1].begin(), seqs[1].begin() + 3);
  be->forward({{0, a}, {1, b}}, {});
  auto both = be->forward({{0, {s.back()}}, {1, {seqs[1][3]}}}, {});
  auto ref0 = g.tensor("seq0.logits"), ref1 = g.tensor("seq1.logits");
  std::vector<float> r0(ref0.end() - V, ref0.end()), r1(ref1.begin() + 3 * V, ref1.begin() + 4 * V);
  EXPECT_LT(rel(both[0].logits, r0), kTolBf16);
  EXPECT_LT(rel(both[1].logits, r1), kTolBf16);
}

namespace {

// A DeepSeek-V3-shaped random checkpoint (the fast kernels' head shapes), written as
// config.json + model.safetensors. fp8: projections in F8_E4M3 with 128x128 weight_scale_inv.
void write_v3_shaped(const std::filesystem::path& dir, bool fp8) {
  const int H = 512, heads = 16, ql = 512, R = 512, P = 64, nope = 128, vd = 128, inter = 512, E = 8, I = 512,
            V = 1024, layers = 2;
  nlohmann::json cfg = {
      {"architectures", {"DeepseekV3ForCausalLM"}}, {"model_type", "deepseek_v3"}, {"vocab_size", V},
      {"hidden_size", H}, {"intermediate_size", inter}, {"moe_intermediate_size", I}, {"num_hidden_layers", layers},
      {"num_attention_heads", heads}, {"num_key_value_heads", heads}, {"n_shared_experts", 1},
      {"n_routed_experts", E}, {"num_experts_per_tok", 2}, {"n_group", 2}, {"topk_group", 1},
      {"first_k_dense_replace", 1}, {"moe_layer_freq", 1}, {"routed_scaling_factor", 2.5},
      {"scoring_func", "sigmoid"}, {"topk_method", "noaux_tc"}, {"norm_topk_prob", true}, {"q_lora_rank", ql},
      {"kv_lora_rank", R}, {"qk_nope_head_dim", nope}, {"qk_rope_head_dim", P}, {"v_head_dim", vd},
      {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"max_position_embeddings", 1024},
      {"rope_scaling",
       {{"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 256}, {"beta_fast", 32.0},
        {"beta_slow", 1.0}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}}},
      {"hidden_act", "silu"}, {"attention_bias", false}, {"tie_word_embeddings", false},
      {"num_nextn_predict_layers", 0}, {"bos_token_id", 0}, {"eos_token_id", 1}, {"torch_dtype", "bfloat16"}};
  if (fp8)
    cfg["quantization_config"] = {{"activation_scheme", "dynamic"}, {"fmt", "e4m3"}, {"quant_method", "fp8"},
                                  {"weight_block_size", {128, 128}}};
  test::write_file(dir / "config.json", cfg.dump(2));

  std::mt19937 rng(1234);
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  auto add = [&](const std::string& name, const std::string& dtype, std::vector<int64_t> shape, const std::string& bytes) {
    header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data += bytes;
  };
  auto bf16_tensor = [&](const std::string& name, std::vector<int64_t> shape, float stdv, float mean = 0.f) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::normal_distribution<float> nd(mean, stdv);
    std::string b(static_cast<size_t>(n * 2), '\0');
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t v = f32_to_bf16(nd(rng));
      std::memcpy(&b[i * 2], &v, 2);
    }
    add(name, "BF16", shape, b);
  };
  auto proj = [&](const std::string& name, int64_t out, int64_t in) {
    const float stdv = 1.0f / std::sqrt(static_cast<float>(in));
    if (!fp8) return bf16_tensor(name + ".weight", {out, in}, stdv);
    std::normal_distribution<float> nd(0.f, stdv);
    std::vector<float> w(static_cast<size_t>(out * in));
    for (auto& v : w) v = nd(rng);
    const int64_t rb = (out + 127) / 128, cb = (in + 127) / 128;
    std::vector<float> sc(static_cast<size_t>(rb * cb), 0.f);
    for (int64_t r = 0; r < out; ++r)
      for (int64_t c = 0; c < in; ++c) sc[(r / 128) * cb + c / 128] = std::max(sc[(r / 128) * cb + c / 128], std::fabs(w[r * in + c]));
    for (auto& s : sc) s = std::max(s, 1e-12f) / 448.0f;
    std::string q(static_cast<size_t>(out * in), '\0');
    for (int64_t r = 0; r < out; ++r)
      for (int64_t c = 0; c < in; ++c)
        q[r * in + c] = static_cast<char>(__nv_fp8_e4m3(w[r * in + c] / sc[(r / 128) * cb + c / 128]).__x);
    add(name + ".weight", "F8_E4M3", {out, in}, q);
    add(name + ".weight_scale_inv", "F32", {rb, cb}, std::string(reinterpret_cast<const char*>(sc.data()), sc.size() * 4));
  };
  bf16_tensor("model.embed_tokens.weight", {V, H}, 1.0f);
  bf16_tensor("model.norm.weight", {H}, 0.1f, 1.0f);
  bf16_tensor("lm_head.weight", {V, H}, 1.0f / std::sqrt(static_cast<float>(H)));
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    bf16_tensor(p + "input_layernorm.weight", {H}, 0.1f, 1.0f);
    bf16_tensor(p + "post_attention_layernorm.weight", {H}, 0.1f, 1.0f);
    proj(p + "self_attn.q_a_proj", ql, H);
    bf16_tensor(p + "self_attn.q_a_layernorm.weight", {ql}, 0.1f, 1.0f);
    proj(p + "self_attn.q_b_proj", heads * (nope + P), ql);
    proj(p + "self_attn.kv_a_proj_with_mqa", R + P, H);
    bf16_tensor(p + "self_attn.kv_a_layernorm.weight", {R}, 0.1f, 1.0f);
    proj(p + "self_attn.kv_b_proj", heads * (nope + vd), R);
    proj(p + "self_attn.o_proj", H, heads * vd);
    if (l == 0) {
      proj(p + "mlp.gate_proj", inter, H);
      proj(p + "mlp.up_proj", inter, H);
      proj(p + "mlp.down_proj", H, inter);
    } else {
      bf16_tensor(p + "mlp.gate.weight", {E, H}, 1.0f / std::sqrt(static_cast<float>(H)));
      std::vector<float> bias(E);
      std::normal_distribution<float> nb(0.f, 0.05f);
      for (auto& b : bias) b = nb(rng);
      add(p + "mlp.gate.e_score_correction_bias", "F32", {E}, std::string(reinterpret_cast<const char*>(bias.data()), E * 4));
      for (int e = 0; e < E; ++e) {
        const std::string q = p + "mlp.experts." + std::to_string(e) + ".";
        proj(q + "gate_proj", I, H);
        proj(q + "up_proj", I, H);
        proj(q + "down_proj", H, I);
      }
      proj(p + "mlp.shared_experts.gate_proj", I, H);
      proj(p + "mlp.shared_experts.up_proj", I, H);
      proj(p + "mlp.shared_experts.down_proj", H, I);
    }
  }
  std::string hs = header.dump();
  while ((hs.size() + 8) % 8) hs += ' ';
  std::ofstream f(dir / "model.safetensors", std::ios::binary);
  const uint64_t n = hs.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f.write(hs.data(), static_cast<std::streamsize>(hs.size()));
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// CUDA (fast MLA kernels: prefill, then decode steps) against the CPU backend (FP32).
void check_v3_shaped(bool fp8, double tol) {
  test::TempDir dir;
  write_v3_shaped(dir.path(), fp8);
  auto m = Model::load(dir.path().string());
  auto cpu = make_backend("cpu", m, {.threads = 2});
  auto gpu = make_backend("cuda", m);
  const int64_t V = m->config.vocab_size;
  std::vector<int32_t> prompt;
  std::mt19937 rng(7);
  for (int i = 0; i < 150; ++i) prompt.push_back(static_cast<int32_t>(rng() % V));
  cpu->reset(2, 256);
  gpu->reset(2, 256);
  auto pc = cpu->forward({{0, prompt}}, {.all_logits = true});
  auto pg = gpu->forward({{0, prompt}}, {.all_logits = true});
  const double ep = rel(pg[0].logits, pc[0].logits);
  EXPECT_LT(ep, tol) << (fp8 ? "fp8" : "bf16") << " prefill";
  // Decode: two sequences of different lengths in one batch, 4 steps, same tokens for both backends.
  std::vector<int32_t> p1(prompt.begin(), prompt.begin() + 70);
  cpu->forward({{1, p1}}, {});
  gpu->forward({{1, p1}}, {});
  double worst = 0;
  for (int step = 0; step < 4; ++step) {
    const int32_t t0 = static_cast<int32_t>(rng() % V), t1 = static_cast<int32_t>(rng() % V);
    auto dc = cpu->forward({{0, {t0}}, {1, {t1}}}, {});
    auto dg = gpu->forward({{0, {t0}}, {1, {t1}}}, {});
    for (int s = 0; s < 2; ++s) worst = std::max(worst, rel(dg[s].logits, dc[s].logits));
  }
  EXPECT_LT(worst, tol) << (fp8 ? "fp8" : "bf16") << " decode";
  std::cout << (fp8 ? "fp8" : "bf16") << " V3-shaped: prefill rel " << ep << ", decode rel " << worst << "\n";
  // Greedy continuations.
  const std::vector<int32_t> short_prompt(prompt.begin(), prompt.begin() + 20);
  if (!fp8) {
    EXPECT_EQ(greedy(*gpu, short_prompt, 8), greedy(*cpu, short_prompt, 8));
  }
}

}  // namespace

TEST(CudaBackend, V3ShapedBf16MatchesCpuBackend) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  check_v3_shaped(false, kTolBf16);
}

TEST(CudaBackend, V3ShapedFp8MatchesCpuBackend) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  // Stated FP8 tolerance: the GPU runs W8A8 (1x128 e4m3 activation quantization before every FP8
  // GEMM, ~3% relative error each), the CPU backend W8A16 in FP32 on the same dequantized weights.
  // Measured on this random 2-layer model: 13% (prefill, 150 positions) and 5% (decode); bound 20%.
  // Wrong scales or layouts give errors of order 100%.
  check_v3_shaped(true, 0.2);
}

// Decode steps replayed from CUDA graphs (the default) against the same steps run eagerly
// (DSV3_CUDA_GRAPHS=0), with the argmax on the device (greedy_only) against the host's argmax of
// the logits. cuBLASLt's heuristic choice (no autotuning) keeps both backends on the same
// kernels, so the logits agree up to rounding noise at most.
TEST(CudaBackend, GraphReplayAndDeviceArgmaxMatchEagerSteps) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  test::TempDir dir;
  write_v3_shaped(dir.path(), false);
  auto m = Model::load(dir.path().string());
  setenv("DSV3_CUDA_AUTOTUNE", "0", 1);
  auto graphs = make_backend("cuda", m);
  setenv("DSV3_CUDA_GRAPHS", "0", 1);
  auto eager = make_backend("cuda", m);
  unsetenv("DSV3_CUDA_GRAPHS");
  unsetenv("DSV3_CUDA_AUTOTUNE");
  const int64_t V = m->config.vocab_size;
  std::mt19937 rng(11);
  std::vector<int32_t> p0, p1;
  for (int i = 0; i < 90; ++i) p0.push_back(static_cast<int32_t>(rng() % V));
  for (int i = 0; i < 30; ++i) p1.push_back(static_cast<int32_t>(rng() % V));
  for (auto* be : {graphs.get(), eager.get()}) {
    be->reset(2, 160);
    be->forward({{0, p0}, {1, p1}}, {});
  }
  double worst = 0;
  int agree = 0;
  for (int step = 0; step < 12; ++step) {  // crosses a 64-position page of sequence 0
    const int32_t t0 = static_cast<int32_t>(rng() % V), t1 = static_cast<int32_t>(rng() % V);
    const bool greedy_step = step % 3 == 2;
    auto g = graphs->forward({{0, {t0}}, {1, {t1}}}, {.greedy_only = greedy_step});
    auto e = eager->forward({{0, {t0}}, {1, {t1}}}, {});
    for (int s = 0; s < 2; ++s) {
      if (greedy_step) {
        ASSERT_EQ(g[s].argmax.size(), 1u);
        EXPECT_TRUE(g[s].logits.empty());
        EXPECT_EQ(g[s].argmax[0], argmax(e[s].logits.data(), V)) << "step " << step << " seq " << s;
        ++agree;
      } else {
        worst = std::max(worst, rel(g[s].logits, e[s].logits));
      }
    }
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(agree, 8);
  EXPECT_EQ(graphs->length(0), 102);
  EXPECT_EQ(eager->length(1), 42);
}

// Greedy continuations on the HF fixtures against HF's BF16 greedy continuation, teacher-forced
// (each step gets HF's token). How far two BF16 implementations' logits may differ is measured on
// the prompts (delta: the median over positions of the largest absolute logit difference to HF's
// BF16 logits). Steps where our top-1/top-2 margin exceeds 2 delta are clear of a near tie: there
// nine in ten must pick HF's token (a routing flip at an earlier position, see above, can still
// move a later step's logits by more than delta), and they must be at least a third of all steps.
// The device argmax (greedy_only) must equal the host's at every step.
TEST(CudaBackend, GreedyContinuationsMatchHFBf16AwayFromNearTies) {
  if (!test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  int checked = 0, agreed = 0, steps = 0;
  for (const char* name : {"tiny-bf16", "tiny-fp8"}) {
    auto m = Model::load(test::fixture_dir(name));
    auto g = test::load_golden(name);
    auto b = test::load_golden_bf16(name);
    const int64_t V = m->config.vocab_size;
    auto gpu = make_backend("cuda", m);
    auto seqs = g.sequences();
    std::vector<double> dev;
    for (size_t k = 0; k < seqs.size(); ++k) {
      gpu->reset(1, 64);
      auto out = gpu->forward({{0, seqs[k]}}, {.all_logits = true});
      const auto ref16 = b.tensor("seq" + std::to_string(k) + ".logits");
      for (size_t t = 0; t < seqs[k].size(); ++t)
        dev.push_back(test::max_abs_diff(row_of(out[0].logits, t, V), row_of(ref16, t, V)));
    }
    const double delta = median(dev);
    for (size_t k = 0; k < seqs.size(); ++k) {
      const auto ref = b.meta["greedy"][k].get<std::vector<int32_t>>();
      gpu->reset(1, 64);
      auto out = gpu->forward({{0, seqs[k]}}, {});
      for (size_t i = 0; i < ref.size(); ++i, ++steps) {
        std::vector<float> l = out[0].logits;
        const int top = argmax(l.data(), V);
        const float first = l[top];
        l[top] = -INFINITY;
        const double margin = first - l[argmax(l.data(), V)];
        if (margin > 2 * delta) {
          ++checked;
          if (top == ref[i])
            ++agreed;
          else
            std::cout << name << " seq" << k << " step " << i << ": " << top << " against HF's " << ref[i]
                      << " (margin " << margin << ", delta " << delta << ")\n";
        }
        // The same step again with the argmax on the device.
        gpu->truncate(0, gpu->length(0) - 1);
        const int32_t last = i == 0 ? seqs[k].back() : ref[i - 1];
        auto d = gpu->forward({{0, {last}}}, {.greedy_only = true});
        EXPECT_EQ(d[0].argmax.at(0), top) << name << " seq" << k << " step " << i;
        out = gpu->forward({{0, {ref[i]}}}, {});
      }
    }
    std::cout << name << ": delta " << delta << "\n";
  }
  std::cout << checked << " of " << steps << " greedy steps clear of a near tie, " << agreed << " of them HF's token\n";
  EXPECT_GE(checked * 3, steps);
  EXPECT_GE(agreed * 10, checked * 9);
}

#endif
