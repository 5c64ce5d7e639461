// gpu label: FP8 activation quantization, the cuBLASLt GEMMs (BF16, FP8 block-scaled) and our
// skinny FP8 block-scaled kernel against float64 references on the host.
#include <gtest/gtest.h>

#if DSV3_HAVE_CUDA
#include <algorithm>
#include <cmath>

#include "cuda_test_util.hpp"
#include "model/cuda/fp8_quant.hpp"
#include "model/cuda/fp8_skinny.hpp"
#include "model/cuda/gemm.hpp"
#include "model/cuda/norm_rope_swiglu.hpp"
#include "support/test_support.hpp"

namespace mc = dsv3::model::cuda;
using namespace dsv3::test::cuda;

namespace {

// Host model of quantize_act_1x128 for one row group: returns the scale, writes dequantized values.
float quant_group_host(const float* x, float* deq) {
  float amax = 0.f;
  for (int i = 0; i < 128; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float s = std::max(amax, 1e-4f) / 448.0f;
  const float inv = 1.0f / s;
  for (int i = 0; i < 128; ++i) deq[i] = static_cast<float>(fp8(x[i] * inv)) * s;
  return s;
}

}  // namespace

TEST(CudaFp8Quant, ActivationScalesAndValuesMatchTheRecipe) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(11);
  const int64_t M = 37, K = 384;
  auto x = random_bf16_values(M * K, rng, 3.0f);
  for (int i = 0; i < 128; ++i) x[5 * K + 128 + i] = 0.f;  // an all-zero group: scale clamps at 1e-4/448
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<fp8> dq(M * K);
  const int64_t Mp = mc::act_scale_rows(M);
  DeviceBuffer<float> ds(Mp * K / 128);
  ds.poison();
  mc::quantize_act_1x128(dx.get(), K, M, K, dq.get(), ds.get(), nullptr, 0, false, nullptr);
  const auto q = dq.download();
  const auto s = ds.download();
  std::vector<float> deq(128);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t kb = 0; kb < K / 128; ++kb) {
      const float hs = quant_group_host(&x[m * K + kb * 128], deq.data());
      ASSERT_EQ(s[kb * Mp + m], hs) << "scale of row " << m << " group " << kb << " (padded M-major layout)";
      for (int i = 0; i < 128; ++i)
        ASSERT_EQ(to_f(q[m * K + kb * 128 + i]) * hs, deq[i]) << "row " << m << " col " << kb * 128 + i;
    }
  EXPECT_FLOAT_EQ(s[1 * Mp + 5], 1e-4f / 448.0f);
}

TEST(CudaFp8Quant, SegmentsGetTheirOwnMMajorScaleBlocks) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(12);
  const int64_t M = 10, K = 256;
  const std::vector<int32_t> offsets = {0, 3, 3, 10};  // an empty segment in the middle
  auto x = random_bf16_values(M * K, rng);
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<fp8> dq(M * K);
  DeviceBuffer<float> ds((M + 3 * 3) * K / 128);
  DeviceBuffer<int32_t> doff(offsets);
  mc::quantize_act_1x128(dx.get(), K, M, K, dq.get(), ds.get(), doff.get(), 3, false, nullptr);
  const auto s = ds.download();
  std::vector<float> deq(128);
  for (int seg = 0; seg < 3; ++seg) {
    const int64_t o = offsets[seg], rows = offsets[seg + 1] - o;
    for (int64_t m = o; m < o + rows; ++m)
      for (int64_t kb = 0; kb < K / 128; ++kb)
        ASSERT_EQ(s[mc::act_scale_segment_base(o, seg, K / 128) + kb * mc::act_scale_rows(rows) + (m - o)],
                  quant_group_host(&x[m * K + kb * 128], deq.data()));
  }
}

TEST(CudaFp8Quant, Ue8m0ScalesArePowersOfTwo) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(13);
  const int64_t M = 4, K = 128;
  auto x = random_bf16_values(M * K, rng, 5.f);
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<fp8> dq(M * K);
  DeviceBuffer<float> ds(M);
  mc::quantize_act_1x128(dx.get(), K, M, K, dq.get(), ds.get(), nullptr, 0, true, nullptr);
  for (float v : ds.download()) {
    int e = 0;
    EXPECT_EQ(std::frexp(v, &e), 0.5f) << v;
  }
}

namespace {

// Gemm::bf16 on X [M, K] (row stride ldx) and W [N, K] into F32, and accumulated into BF16 d0,
// against float64 products.
void check_bf16_product(mc::Gemm& gemm, int64_t M, int64_t N, int64_t K, int64_t ldx, std::mt19937& rng) {
  auto x = random_bf16_values(M * ldx, rng), w = random_bf16_values(N * K, rng, 0.05f);
  auto d0 = random_bf16_values(M * N, rng);
  DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w)), dd(to_bf16(d0));
  DeviceBuffer<float> df(M * N);
  df.poison();
  gemm.bf16(dx.get(), ldx, dw.get(), df.get(), N, mc::OutType::F32, M, N, K, 0.f, nullptr);
  gemm.bf16(dx.get(), ldx, dw.get(), dd.get(), N, mc::OutType::BF16, M, N, K, 1.f, nullptr);
  std::vector<double> ref(M * N), ref_acc(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[m * ldx + k]) * w[n * K + k];
      ref[m * N + n] = acc;
      ref_acc[m * N + n] = acc + d0[m * N + n];
    }
  EXPECT_LT(rel_error(df.download(), ref), 1e-5) << M << "x" << N << "x" << K;
  EXPECT_LT(rel_error(to_float(dd.download()), ref_acc), 8e-3) << M << "x" << N << "x" << K;
}

}  // namespace

TEST(CudaGemm, Bf16MatchesFloat64ReferenceAndAccumulates) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(21);
  mc::Gemm gemm;
  check_bf16_product(gemm, 19, 200, 256, 256, rng);
}

// Decode-sized products (M <= 8) take the GEMV kernel: every rows-per-warp variant (N), a K that is
// not a multiple of the 2048-wide slab, a row stride over K, F32 out and BF16 accumulate.
TEST(CudaGemm, Bf16DecodeSizedProductsMatchFloat64Reference) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(23);
  mc::Gemm gemm;
  for (int64_t M : {1, 3, 8})
    for (int64_t N : {200, 4500, 9000})
      for (int64_t K : {256, 1408, 2568}) check_bf16_product(gemm, M, N, K, K + 64, rng);
}

// Decode-sized products with the input RMSNorm inside the GEMV kernel (the layer's input norm and
// q_a's norm at decode): the same values as the norm kernel followed by the product, and the same
// declines (false, nothing launched) where the GEMV kernel does not take the product.
TEST(CudaGemm, Bf16NormedGemvMatchesNormThenProduct) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(31);
  mc::Gemm gemm;
  for (int64_t M : {1, 5, 8})
    for (int64_t K : {1536, 2048, 4096}) {
      const int64_t N = 2112, ldx = K + 576;  // a strided slice, as q_a inside [q_a | kv_a]
      auto x = random_bf16_values(M * ldx, rng, 3.f), w = random_bf16_values(N * K, rng, 0.05f),
           g = random_bf16_values(K, rng, 1.f), d0 = random_bf16_values(M * N, rng);
      for (auto& v : g) v += 1.f;
      DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w)), dg(to_bf16(g)), dn(M * K), dref(to_bf16(d0)), dd(to_bf16(d0));
      for (float beta : {0.f, 1.f}) {
        mc::rmsnorm(dx.get(), ldx, nullptr, 0, dg.get(), dn.get(), K, M, K, 1e-6f, nullptr);
        gemm.bf16(dn.get(), K, dw.get(), dref.get(), N, mc::OutType::BF16, M, N, K, beta, nullptr);
        ASSERT_TRUE(gemm.bf16_normed(dx.get(), ldx, dg.get(), 1e-6f, dw.get(), dd.get(), N, mc::OutType::BF16, M, N, K,
                                     beta, nullptr))
            << "M=" << M << " K=" << K;
        const auto got = to_float(dd.download()), want = to_float(dref.download());
        std::vector<double> ref(want.begin(), want.end());
        EXPECT_LT(rel_error(got, ref), 2e-3) << "M=" << M << " K=" << K << " beta=" << beta;
      }
    }
  // Nine rows, or 8 x 7168 activations (over the GEMV's shared memory): declined.
  DeviceBuffer<bf16> dx(9 * 256), dw(64 * 256), dg(256), dd(9 * 64);
  EXPECT_FALSE(gemm.bf16_normed(dx.get(), 256, dg.get(), 1e-6f, dw.get(), dd.get(), 64, mc::OutType::BF16, 9, 64, 256,
                                0.f, nullptr));
  DeviceBuffer<bf16> dx2(8 * 7168), dw2(64 * 7168), dg2(7168), dd2(8 * 64);
  EXPECT_FALSE(gemm.bf16_normed(dx2.get(), 7168, dg2.get(), 1e-6f, dw2.get(), dd2.get(), 64, mc::OutType::BF16, 8, 64,
                                7168, 0.f, nullptr));
}

namespace {

// The MLA absorptions: per head h, q~ = q_nope[h] · W_UK[h] (W [K, N]) and o = o_lat[h] · W_UV[h]^T (W [N, K]).
void check_batched(int64_t M, int64_t heads, int64_t K, int64_t N, uint32_t seed) {
  std::mt19937 rng(seed);
  auto x = random_bf16_values(M * heads * K, rng), w = random_bf16_values(heads * N * K, rng, 0.1f);
  DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w)), dd(M * heads * N);
  mc::Gemm gemm;
  for (bool w_nk : {true, false}) {
    dd.poison();
    // X row stride heads*K, head stride K; W per head N*K elements; D row stride heads*N, head stride N.
    gemm.bf16_batched(dx.get(), heads * K, K, dw.get(), w_nk ? K : N, N * K, w_nk, dd.get(), heads * N, N, M, N, K,
                      heads, nullptr);
    std::vector<double> ref(M * heads * N);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double acc = 0;
          for (int64_t k = 0; k < K; ++k) {
            const float wv = w_nk ? w[h * N * K + n * K + k] : w[h * N * K + k * N + n];
            acc += static_cast<double>(x[m * heads * K + h * K + k]) * wv;
          }
          ref[m * heads * N + h * N + n] = acc;
        }
    EXPECT_LT(rel_error(to_float(dd.download()), ref), 8e-3) << (w_nk ? "W [N, K]" : "W [K, N]") << " M=" << M
                                                              << " K=" << K << " N=" << N;
  }
}

}  // namespace

TEST(CudaGemm, Bf16StridedBatchedBothOrientations) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  check_batched(24, 3, 64, 96, 22);  // cuBLASLt
  check_batched(5, 3, 64, 96, 25);   // decode sizes (M <= 8): the batched GEMV kernels, a partial column tile
  check_batched(1, 16, 128, 512, 26);  // MLA decode's W_UK absorption (mid model shapes)
  check_batched(3, 16, 512, 128, 27);  // and its W_UV
  check_batched(7, 4, 16, 32, 23);   // small shapes (the fixtures' W_UK): the plain kernel
  check_batched(7, 4, 32, 24, 24);   // (W_UV)
}

TEST(CudaGemm, Bf16SmallShapesAccumulate) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(25);
  const int64_t M = 9, N = 24, K = 48;
  auto x = random_bf16_values(M * K, rng), w = random_bf16_values(N * K, rng, 0.1f), d0 = random_bf16_values(M * N, rng);
  DeviceBuffer<bf16> dx(to_bf16(x)), dw(to_bf16(w)), dd(to_bf16(d0));
  mc::Gemm gemm;
  gemm.bf16(dx.get(), K, dw.get(), dd.get(), N, mc::OutType::BF16, M, N, K, 1.f, nullptr);
  std::vector<double> ref(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = d0[m * N + n];
      for (int64_t k = 0; k < K; ++k) acc += static_cast<double>(x[m * K + k]) * w[n * K + k];
      ref[m * N + n] = acc;
    }
  EXPECT_LT(rel_error(to_float(dd.download()), ref), 8e-3);
}

namespace {

// Block-scaled FP8 GEMM against float64 over exactly the dequantized operands; D has row stride
// ldd (0: N) and starts at d0 = 0.5 (beta = 1 adds into it). Called `calls` times (the split-K
// counters must be back at zero after each call), on a non-blocking stream (as the backend's).
// splits > 0: our kernel called directly with that K split (uneven and short splits), its scratch
// zeroed on the same stream.
void check_fp8_block(int64_t M, int64_t N, int64_t K, uint32_t seed,
                     mc::Gemm::Fp8BlockImpl impl = mc::Gemm::Fp8BlockImpl::CublasLt, int64_t ldd = 0, float beta = 0.f,
                     int calls = 1, int splits = 0) {
  if (ldd == 0) ldd = N;
  std::mt19937 rng(seed);
  auto x = random_bf16_values(M * K, rng, 2.0f);
  std::vector<float> w(N * K);
  std::normal_distribution<float> nd(0.f, 0.02f);
  for (int64_t n = 0; n < N; ++n)  // different magnitudes per 128-row block exercise the scales
    for (int64_t k = 0; k < K; ++k) w[n * K + k] = nd(rng) * static_cast<float>(1 + (n / 128) + 3 * (k / 128));
  DeviceBuffer<bf16> dx(to_bf16(x));
  DeviceBuffer<float> dw(w);
  DeviceBuffer<fp8> dxq(M * K), dwq(N * K);
  const int64_t nb = (N + 127) / 128, kb = K / 128;
  const int64_t Mp = mc::act_scale_rows(M);
  DeviceBuffer<float> dxs(Mp * kb), dws(nb * kb);
  const std::vector<bf16> d0(M * ldd, bf16(0.5f));
  DeviceBuffer<bf16> dd(d0);
  if (beta == 0.f) dd.poison();
  mc::quantize_act_1x128(dx.get(), K, M, K, dxq.get(), dxs.get(), nullptr, 0, false, nullptr);
  mc::quantize_weight_128x128(dw.get(), N, K, dwq.get(), dws.get(), nullptr);
  DSV3_CUDA_CHECK(cudaDeviceSynchronize());
  cudaStream_t stream = nullptr;
  DSV3_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  mc::Gemm gemm;
  gemm.set_fp8_block_impl(impl);
  mc::Fp8SkinnyArgs sk;
  sk.X = dxq.get();
  sk.x_scales = dxs.get();
  sk.W = dwq.get();
  sk.w_scales = dws.get();
  sk.D = dd.get();
  sk.ldd = ldd;
  sk.M = static_cast<int>(M);
  sk.N = N;
  sk.K = K;
  sk.beta = beta;
  sk.splits = splits;
  DeviceBuffer<float> part(splits > 0 ? std::max<size_t>(mc::fp8_skinny_partial_bytes(sk) / 4, 1) : 1);
  DeviceBuffer<int> cnt(splits > 0 ? mc::fp8_skinny_counter_bytes(sk) / 4 : 1);
  if (splits > 0) DSV3_CUDA_CHECK(cudaMemsetAsync(cnt.get(), 0, mc::fp8_skinny_counter_bytes(sk), stream));
  std::vector<float> got, first;
  for (int c = 0; c < calls; ++c) {
    if (c > 0) dd.upload(d0);
    if (splits > 0)
      mc::fp8_skinny_gemm(sk, part.get(), cnt.get(), stream);
    else
      gemm.fp8_block(dxq.get(), dxs.get(), dwq.get(), dws.get(), dd.get(), ldd, M, N, K, beta, stream);
    DSV3_CUDA_CHECK(cudaStreamSynchronize(stream));
    const auto all = to_float(dd.download());
    got.clear();
    for (int64_t m = 0; m < M; ++m) got.insert(got.end(), all.begin() + m * ldd, all.begin() + m * ldd + N);
    if (c == 0) first = got;
    else EXPECT_EQ(got, first) << "call " << c << " differs from the first (M=" << M << " N=" << N << " K=" << K << ")";
  }
  const auto xq = dxq.download(), wq = dwq.download();
  const auto xs = dxs.download(), ws = dws.download();
  std::vector<double> ref(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<double>(to_f(xq[m * K + k])) * xs[(k / 128) * Mp + m] * to_f(wq[n * K + k]) *
               ws[(n / 128) * kb + k / 128];
      ref[m * N + n] = acc + beta * 0.5;
    }
  const double err = rel_error(got, ref);
  EXPECT_LT(err, 5e-3) << "M=" << M << " N=" << N << " K=" << K << " splits=" << splits;
  DSV3_CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace

TEST(CudaGemm, Fp8BlockScaledMatchesDequantizedReference) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  if (!mc::Gemm::block_scaling_supported()) GTEST_SKIP() << "cuBLASLt " << mc::Gemm::cublaslt_version()
                                                         << " has no VEC128/BLK128x128 scaling on this GPU";
  check_fp8_block(64, 256, 512, 31);
  check_fp8_block(1, 384, 512, 32);
  check_fp8_block(128, 576, 1024, 33);  // kv_a's ragged last 64-row block
  check_fp8_block(200, 128, 1536, 34);
  check_fp8_block(15, 2112, 512, 35);  // M not a multiple of 4: padded internally
  check_fp8_block(6, 256, 512, 36);
}

// Our skinny kernel (fp8_skinny.hpp), forced: every row-tile width (M up to 8, 16, 32, 64, 128),
// split K (K = 7168 over 9 or 33 tiles) and whole K, a ragged last 128-row scale block (N = 576),
// a row stride wider than N, beta = 1, repeated calls (split-K counters reset, same result).
TEST(CudaGemm, Fp8BlockOwnKernelMatchesDequantizedReference) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  if (!mc::fp8_skinny_supported(1, 64, 128)) GTEST_SKIP() << "no wgmma (sm_90) here";
  const auto own = mc::Gemm::Fp8BlockImpl::Own;
  check_fp8_block(1, 576, 7168, 41, own, 0, 0.f, 3);
  check_fp8_block(6, 256, 512, 42, own);
  check_fp8_block(15, 2112, 512, 43, own, 2200, 1.f);
  check_fp8_block(32, 576, 2048, 44, own, 0, 1.f, 2);
  check_fp8_block(64, 2112, 7168, 45, own, 0, 0.f, 2);
  check_fp8_block(100, 640, 1536, 46, own);
  check_fp8_block(128, 576, 7168, 47, own, 600, 1.f, 2);
  // Forced splits, the kernel called directly: uneven (13 K-blocks over 3: 5, 5, 3) and shorter
  // than the pipeline (12 over 7: six of 2); K = 1664 is outside cuBLASLt's K % 512.
  check_fp8_block(8, 192, 1664, 48, own, 0, 0.f, 3, 3);
  check_fp8_block(40, 128, 1536, 49, own, 0, 1.f, 2, 7);
  EXPECT_FALSE(mc::fp8_skinny_supported(129, 64, 128));
  EXPECT_FALSE(mc::fp8_skinny_supported(8, 100, 128));
}

// Auto: whichever of our kernel and cuBLASLt timed faster at the first call; same numbers.
TEST(CudaGemm, Fp8BlockAutoChoiceMatchesDequantizedReference) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  if (!mc::Gemm::block_scaling_supported()) GTEST_SKIP() << "no cuBLASLt block scaling here";
  const auto aut = mc::Gemm::Fp8BlockImpl::Auto;
  check_fp8_block(64, 2112, 7168, 51, aut, 0, 0.f, 2);
  check_fp8_block(5, 576, 1024, 52, aut, 0, 1.f, 2);
  check_fp8_block(256, 512, 512, 53, aut);
}

TEST(CudaGemm, Fp8BlockScaledRejectsKBlocksNotAMultipleOfFour) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  if (!mc::Gemm::block_scaling_supported()) GTEST_SKIP() << "no cuBLASLt block scaling here";
  mc::Gemm gemm;
  EXPECT_THROW(gemm.fp8_block(nullptr, nullptr, nullptr, nullptr, nullptr, 128, 64, 128, 384, 0.f, nullptr),
               std::invalid_argument);
}

TEST(CudaGemm, WeightDequantizationInvertsQuantization) {
  if (!dsv3::test::have_gpu()) GTEST_SKIP() << "no CUDA GPU here";
  std::mt19937 rng(41);
  const int64_t N = 200, K = 256;
  std::vector<float> w(N * K);
  std::normal_distribution<float> nd(0.f, 0.1f);
  for (auto& v : w) v = nd(rng);
  DeviceBuffer<float> dw(w);
  DeviceBuffer<fp8> dq(N * K);
  DeviceBuffer<float> ds(2 * 2);
  DeviceBuffer<bf16> db(N * K);
  mc::quantize_weight_128x128(dw.get(), N, K, dq.get(), ds.get(), nullptr);
  mc::dequantize_weight_128x128(dq.get(), ds.get(), N, K, db.get(), nullptr);
  const auto b = to_float(db.download());
  std::vector<double> ref(w.begin(), w.end());
  EXPECT_LT(rel_error(b, ref), 0.04);  // e4m3 has 3 mantissa bits
  const auto s = ds.download();
  float amax = 0.f;
  for (int64_t n = 0; n < 128; ++n)
    for (int64_t k = 0; k < 128; ++k) amax = std::max(amax, std::fabs(w[n * K + k]));
  EXPECT_FLOAT_EQ(s[0], amax / 448.0f);
}
#endif
