// gpu label: RMSNorm, RoPE (interleaved, YaRN), SwiGLU, embedding lookup and the MoE router on
// the GPU against host references (the router against model/moe_gate's CPU implementation).
#include <gtest/gtest.h>

#if DSV3_HAVE_CUDA
#include <cmath>
#include <numeric>

#include "cuda_test_util.hpp"
#include "model/cuda/mla_latent_attention.hpp"
#include "model/cuda/moe.hpp"
#include "model/cuda/norm_rope_swiglu.hpp"
#include "model/moe_gate.hpp"
#include "support/test_support.hpp"

namespace mc = dsv3::model::cuda;
using namespace dsv3::test::cuda;

TEST(CudaYarn, InverseFrequenciesMatchDeepSeekV3) {
  // DeepSeek-V3: rope dim 64, theta 1e4, factor 40, original 4096, beta 32 / 1 (no GPU needed).
  const auto f = mc::yarn_inv_freq(64, 10000.0, 40.0, 4096, 32.0, 1.0);
  ASSERT_EQ(f.size(), 32u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_NEAR(f[10], 0.0562341f, 1e-6);  // i < low = 10: unchanged
  EXPECT_NEAR(f[31], 3.3338e-6f, 1e-9);  // i >= high = 23: divided by 40
  const double base16 = std::pow(10000.0, -32.0 / 64), g16 = (16.0 - 10) / (23 - 10);
  EXPECT_NEAR(f[16], base16 / 40 * g16 + base16 * (1 - g16), 1e-8);
  const auto plain = mc::yarn_inv_freq(64, 10000.0, 1.0, 4096, 32.0, 1.0);
  EXPECT_NEAR(plain[16], base16, 1e-9);
}

TEST(CudaLayerOps, RmsNormWithFusedResidual) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(51);
  const int64_t rows = 7, n = 2048;
  auto x = random_bf16_values(rows * n, rng), r = random_bf16_values(rows * n, rng), w = random_bf16_values(n, rng);
  DeviceBuffer<bf16> dx(to_bf16(x)), dr(to_bf16(r)), dw(to_bf16(w)), dy(rows * n);
  dy.poison();
  mc::rmsnorm(dx.get(), n, dr.get(), n, dw.get(), dy.get(), n, rows, n, 1e-6f, nullptr);
  const auto xs = to_float(dx.download()), y = to_float(dy.download());
  std::vector<double> ref(rows * n);
  for (int64_t i = 0; i < rows; ++i) {
    double ss = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float h = round_bf16(x[i * n + j] + r[i * n + j]);
      ASSERT_EQ(xs[i * n + j], h) << "residual stream written back";
      ss += static_cast<double>(h) * h;
    }
    const double inv = 1.0 / std::sqrt(ss / n + 1e-6);
    for (int64_t j = 0; j < n; ++j) ref[i * n + j] = xs[i * n + j] * inv * w[j];
  }
  EXPECT_LT(rel_error(y, ref), 8e-3);
}

TEST(CudaLayerOps, InterleavedRopeOnAStridedSlice) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(52);
  const int64_t T = 5;
  const int heads = 3, ld_head = 192, offset = 128, dim = 64;
  const int64_t ld_tok = heads * ld_head;
  auto x = random_bf16_values(T * ld_tok, rng);
  const std::vector<int32_t> pos = {0, 1, 17, 4095, 70000};
  const auto freq = mc::yarn_inv_freq(dim, 10000.0, 40.0, 4096, 32.0, 1.0);
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<int32_t> dp(pos);
  DeviceBuffer<float> df(freq);
  mc::rope_interleaved(dx.get(), T, heads, ld_tok, ld_head, offset, dim, dp.get(), df.get(), 1.0f, nullptr);
  const auto y = to_float(dx.download());
  std::vector<double> ref(x.begin(), x.end());
  for (int64_t t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < dim / 2; ++i) {
        const int64_t at = t * ld_tok + h * ld_head + offset + 2 * i;
        const double ang = static_cast<double>(static_cast<float>(pos[t]) * freq[i]);  // fp32 angle
        ref[at] = x[at] * std::cos(ang) - x[at + 1] * std::sin(ang);
        ref[at + 1] = x[at] * std::sin(ang) + x[at + 1] * std::cos(ang);
      }
  EXPECT_LT(rel_error(y, ref), 5e-3);
  for (int64_t t = 0; t < T; ++t)  // the nope part is untouched
    for (int j = 0; j < offset; ++j) ASSERT_EQ(y[t * ld_tok + j], x[t * ld_tok + j]);
}

// The fused decode pieces against the unfused kernels, bit for bit: latent_to_cache = rmsnorm of
// the latent + RoPE of k_pe + the cache write; rope_interleaved_to = rope in place + a copy.
TEST(CudaLayerOps, FusedLatentCacheWriteAndOutOfPlaceRopeMatchTheUnfusedKernels) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(53);
  const int64_t T = 4, ld = 1536 + 576, slots = 3, cap = 64;
  const int R = 512, P = 64;
  auto x = random_bf16_values(T * ld, rng), w = random_bf16_values(R, rng);
  const std::vector<int32_t> pos = {0, 5, 63, 40}, slot = {2, 0, 1, 0};
  const auto freq = mc::yarn_inv_freq(P, 10000.0, 40.0, 4096, 32.0, 1.0);
  DeviceBuffer<bf16> a(to_bf16(x)), b(to_bf16(x)), dw(to_bf16(w)), ca(slots * cap * (R + P)), cb(slots * cap * (R + P));
  DeviceBuffer<int32_t> dp(pos), ds(slot);
  DeviceBuffer<float> df(freq);
  DSV3_CUDA_CHECK(cudaMemset(ca.get(), 0, ca.size() * sizeof(bf16)));
  DSV3_CUDA_CHECK(cudaMemset(cb.get(), 0, cb.size() * sizeof(bf16)));
  bf16* xa = a.get() + 1536;  // the latent part of a [q_a | kv_a] row
  bf16* xb = b.get() + 1536;
  mc::latent_to_cache(xa, ld, T, R, P, dw.get(), 1e-6f, dp.get(), df.get(), 1.0f, ca.get(), cap, ds.get(), nullptr);
  mc::rmsnorm(xb, ld, nullptr, 0, dw.get(), xb, ld, T, R, 1e-6f, nullptr);
  mc::rope_interleaved(xb, T, 1, ld, 0, R, P, dp.get(), df.get(), 1.0f, nullptr);
  mc::write_latent_cache(xb, ld, T, R + P, cb.get(), cap, ds.get(), dp.get(), nullptr);
  EXPECT_EQ(to_float(a.download()), to_float(b.download()));
  EXPECT_EQ(to_float(ca.download()), to_float(cb.download()));
  // q's rope slice of 3 heads (192 wide) into the 576-wide absorbed rows at offset 512.
  const int heads = 3;
  auto q = random_bf16_values(T * heads * 192, rng);
  DeviceBuffer<bf16> dq(to_bf16(q)), dq2(to_bf16(q)), out(T * heads * 576);
  DSV3_CUDA_CHECK(cudaMemset(out.get(), 0, out.size() * sizeof(bf16)));
  mc::rope_interleaved_to(dq.get(), heads * 192, 192, 128, out.get(), heads * 576, 576, 512, T, heads, P, dp.get(),
                          df.get(), 1.0f, nullptr);
  mc::rope_interleaved(dq2.get(), T, heads, heads * 192, 192, 128, P, dp.get(), df.get(), 1.0f, nullptr);
  const auto o = to_float(out.download()), r = to_float(dq2.download()), qin = to_float(dq.download());
  EXPECT_EQ(qin, q);  // the source is untouched
  for (int64_t t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h)
      for (int j = 0; j < P; ++j)
        ASSERT_EQ(o[(t * heads + h) * 576 + 512 + j], r[(t * heads + h) * 192 + 128 + j]) << t << " " << h << " " << j;
}

TEST(CudaLayerOps, SwigluAndEmbedding) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(53);
  const int64_t T = 6, I = 1408, V = 50, H = 256;
  auto gu = random_bf16_values(T * 2 * I, rng, 2.f);
  DeviceBuffer<bf16> dgu(to_bf16(gu)), dout(T * I);
  dout.poison();
  mc::swiglu(dgu.get(), T, I, dout.get(), nullptr);
  std::vector<double> ref(T * I);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < I; ++i) {
      const double g = gu[t * 2 * I + i], u = gu[t * 2 * I + I + i];
      ref[t * I + i] = g / (1 + std::exp(-g)) * u;
    }
  EXPECT_LT(rel_error(to_float(dout.download()), ref), 8e-3);

  auto table = random_bf16_values(V * H, rng);
  const std::vector<int32_t> ids = {3, 0, 49, 3};
  DeviceBuffer<bf16> dt(to_bf16(table)), de(ids.size() * H);
  DeviceBuffer<int32_t> di(ids);
  mc::embedding(dt.get(), di.get(), static_cast<int64_t>(ids.size()), H, de.get(), nullptr);
  const auto e = to_float(de.download());
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t j = 0; j < H; ++j) ASSERT_EQ(e[t * H + j], table[ids[t] * H + j]);
}

namespace {

void check_router(int E, int G, int TG, int K, float scale, bool with_bias, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t T = 300;
  std::normal_distribution<float> nd(0.f, 2.f);
  std::vector<float> logits(T * E), bias(E);
  for (auto& v : logits) v = nd(rng);
  for (auto& v : bias) v = 0.1f * nd(rng);
  dsv3::model::GateParams gp;
  gp.n_experts = E;
  gp.n_group = G;
  gp.topk_group = TG;
  gp.top_k = K;
  gp.routed_scaling_factor = scale;
  std::vector<int32_t> ce(T * K);
  std::vector<float> cw(T * K);
  dsv3::model::route_tokens(gp, logits.data(), with_bias ? bias.data() : nullptr, T, ce.data(), cw.data());

  mc::RouterParams rp;
  rp.n_experts = E;
  rp.n_group = G;
  rp.topk_group = TG;
  rp.top_k = K;
  rp.routed_scaling_factor = scale;
  DeviceBuffer<float> dl(logits), db(bias), dw(T * K);
  DeviceBuffer<int32_t> de(T * K);
  mc::route(rp, dl.get(), with_bias ? db.get() : nullptr, T, de.get(), dw.get(), nullptr);
  const auto ge = de.download();
  const auto gw = dw.download();
  int mismatched_tokens = 0;
  for (int64_t t = 0; t < T; ++t) {
    bool same = true;
    for (int k = 0; k < K; ++k) same = same && ge[t * K + k] == ce[t * K + k];
    if (!same) {
      ++mismatched_tokens;
      continue;
    }
    for (int k = 0; k < K; ++k) EXPECT_NEAR(gw[t * K + k], cw[t * K + k], 1e-5f * scale) << "token " << t;
  }
  // The GPU's expf may differ from the host's in the last bit; a flip needs a near-exact tie.
  EXPECT_EQ(mismatched_tokens, 0) << "E=" << E << " G=" << G;
}

}  // namespace

TEST(CudaRouter, MatchesTheCpuGateOnV3AndMidShapes) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  check_router(256, 8, 4, 8, 2.5f, true, 61);   // DeepSeek-V3
  check_router(64, 8, 4, 6, 2.5f, true, 62);    // the mid model
  check_router(64, 1, 1, 6, 1.0f, false, 63);   // no groups
}
#endif
