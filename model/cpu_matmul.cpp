#include "model/cpu_matmul.hpp"

#include <immintrin.h>

#include <Eigen/Core>
#include <algorithm>
#include <vector>

namespace dsv3::model {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int64_t kSmallN = 4;  // up to this many input rows: fused convert-and-dot

// ---- portable kernels ----------------------------------------------------------------
// dot of one weight row (cols [c0, c1)) with n input rows; adds into acc[n], times `s`.
void row_dot_portable(const Linear& W, int64_t r, int64_t c0, int64_t c1, const float* x, int64_t n, float s,
                      float* acc) {
  float buf[128];
  for (int64_t c = c0; c < c1; c += 128) {
    const int64_t e = std::min(c1, c + 128), len = e - c;
    switch (W.dtype) {
      case DType::F32: std::copy_n(reinterpret_cast<const float*>(W.data) + r * W.in + c, len, buf); break;
      case DType::BF16:
        for (int64_t i = 0; i < len; ++i) buf[i] = bf16_to_f32(reinterpret_cast<const uint16_t*>(W.data)[r * W.in + c + i]);
        break;
      case DType::F16:
        for (int64_t i = 0; i < len; ++i) buf[i] = f16_to_f32(reinterpret_cast<const uint16_t*>(W.data)[r * W.in + c + i]);
        break;
      case DType::F8_E4M3:
        for (int64_t i = 0; i < len; ++i) buf[i] = fp8_e4m3_to_f32(W.data[r * W.in + c + i]);
        break;
    }
    for (int64_t j = 0; j < n; ++j) {
      const float* xr = x + j * W.in + c;
      float a = 0;
      for (int64_t i = 0; i < len; ++i) a += buf[i] * xr[i];
      acc[j] += a * s;
    }
  }
}

// ---- AVX2 kernels ---------------------------------------------------------------------
__attribute__((target("avx2,fma,f16c"))) inline __m256 load8(const Linear& W, const uint8_t* p) {
  switch (W.dtype) {
    case DType::F32: return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
    case DType::BF16: {
      __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
    case DType::F16: return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    case DType::F8_E4M3: {
      // e4m3 -> f16 bit pattern (exponent bias 7 -> 15 differs by 2^8, subnormals included),
      // then f16 -> f32, which yields value * 2^-8; the 2^8 goes into the block scale.
      __m128i b = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
      __m128i h = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(b, _mm_set1_epi16(0x7f)), 7),
                               _mm_slli_epi16(_mm_and_si128(b, _mm_set1_epi16(0x80)), 8));
      return _mm256_cvtph_ps(h);
    }
  }
  return _mm256_setzero_ps();
}

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}

template <int N>
__attribute__((target("avx2,fma,f16c"))) void row_dot_avx2_n(const Linear& W, int64_t r, int64_t c0, int64_t c1,
                                                             const float* x, float s, float* acc) {
  const int64_t es = dtype_size(W.dtype);
  const uint8_t* row = W.data + (r * W.in) * es;
  __m256 a[N], b[N];
  for (int j = 0; j < N; ++j) a[j] = b[j] = _mm256_setzero_ps();
  int64_t c = c0;
  for (; c + 16 <= c1; c += 16) {
    __m256 w0 = load8(W, row + c * es), w1 = load8(W, row + (c + 8) * es);
    for (int j = 0; j < N; ++j) {
      a[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j * W.in + c), a[j]);
      b[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + j * W.in + c + 8), b[j]);
    }
  }
  for (; c + 8 <= c1; c += 8) {
    __m256 w0 = load8(W, row + c * es);
    for (int j = 0; j < N; ++j) a[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j * W.in + c), a[j]);
  }
  float tail[N] = {};
  for (; c < c1; ++c) {
    float w = W.at(r, c);
    if (W.dtype == DType::F8_E4M3) w = fp8_e4m3_to_f32(W.data[r * W.in + c]) * (1.0f / 256.0f);
    for (int j = 0; j < N; ++j) tail[j] += w * x[j * W.in + c];
  }
  for (int j = 0; j < N; ++j) acc[j] += (hsum(_mm256_add_ps(a[j], b[j])) + tail[j]) * s;
}

// FP8 row with its block scales, 16 values per step; block sums scaled in registers.
template <int N>
__attribute__((target("avx2,fma,f16c"))) void row_dot_fp8_avx2(const Linear& W, int64_t r, const float* x, float* acc) {
  const uint8_t* row = W.data + r * W.in;
  const float* sc = W.scale + (r / W.block_n) * W.scale_cols;
  const __m256i lo7 = _mm256_set1_epi16(0x7f), sign = _mm256_set1_epi16(0x80);
  __m256 tot[N];
  float tail[N] = {};
  for (int j = 0; j < N; ++j) tot[j] = _mm256_setzero_ps();
  for (int64_t c0 = 0; c0 < W.in; c0 += W.block_k) {
    const int64_t c1 = std::min(W.in, c0 + W.block_k);
    const float s = sc[c0 / W.block_k];
    __m256 a[N], b[N];
    for (int j = 0; j < N; ++j) a[j] = b[j] = _mm256_setzero_ps();
    int64_t c = c0;
    for (; c + 16 <= c1; c += 16) {
      __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c)));
      __m256i h = _mm256_or_si256(_mm256_slli_epi16(_mm256_and_si256(v, lo7), 7),
                                  _mm256_slli_epi16(_mm256_and_si256(v, sign), 8));
      const __m256 w0 = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
      const __m256 w1 = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
      for (int j = 0; j < N; ++j) {
        a[j] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j * W.in + c), a[j]);
        b[j] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + j * W.in + c + 8), b[j]);
      }
    }
    for (; c < c1; ++c)
      for (int j = 0; j < N; ++j) tail[j] += fp8_e4m3_to_f32(row[c]) * s * x[j * W.in + c];
    const __m256 sv = _mm256_set1_ps(s * 256.0f);  // the f16 reinterpretation is 2^-8 of the e4m3 value
    for (int j = 0; j < N; ++j) tot[j] = _mm256_fmadd_ps(_mm256_add_ps(a[j], b[j]), sv, tot[j]);
  }
  for (int j = 0; j < N; ++j) acc[j] += hsum(tot[j]) + tail[j];
}

bool detect_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
const bool kAvx2 = detect_avx2();

// One weight row against n <= kSmallN input rows: y[j * out + r].
void small_row(const Linear& W, int64_t r, const float* x, int64_t n, float* y) {
  float acc[kSmallN] = {};
  const bool fp8 = W.dtype == DType::F8_E4M3;
  if (fp8 && kAvx2) {
    switch (n) {
      case 1: row_dot_fp8_avx2<1>(W, r, x, acc); break;
      case 2: row_dot_fp8_avx2<2>(W, r, x, acc); break;
      case 3: row_dot_fp8_avx2<3>(W, r, x, acc); break;
      default: row_dot_fp8_avx2<4>(W, r, x, acc); break;
    }
    for (int64_t j = 0; j < n; ++j) y[j * W.out + r] = acc[j];
    return;
  }
  const int64_t step = fp8 ? W.block_k : W.in;
  for (int64_t c0 = 0; c0 < W.in; c0 += step) {
    const int64_t c1 = std::min(W.in, c0 + step);
    float s = fp8 ? W.scale[(r / W.block_n) * W.scale_cols + c0 / W.block_k] : 1.0f;
    if (kAvx2) {
      if (fp8) s *= 256.0f;  // the f16 reinterpretation is 2^-8 of the e4m3 value
      switch (n) {
        case 1: row_dot_avx2_n<1>(W, r, c0, c1, x, s, acc); break;
        case 2: row_dot_avx2_n<2>(W, r, c0, c1, x, s, acc); break;
        case 3: row_dot_avx2_n<3>(W, r, c0, c1, x, s, acc); break;
        default: row_dot_avx2_n<4>(W, r, c0, c1, x, s, acc); break;
      }
    } else {
      row_dot_portable(W, r, c0, c1, x, n, s, acc);
    }
  }
  for (int64_t j = 0; j < n; ++j) y[j * W.out + r] = acc[j];
}

}  // namespace

bool cpu_has_avx2_kernels() { return kAvx2; }

void matmul(const Linear& W, const float* x, int64_t n, float* y, ThreadPool* pool) {
  if (n <= 0 || W.out == 0) return;
  if (n <= kSmallN) {
    // Rows in chunks; ~64 KiB of weights per chunk keeps scheduling overhead low.
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, W.in * dtype_size(W.dtype)));
    auto body = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) small_row(W, r, x, n, y);
    };
    if (pool) pool->parallel_for(W.out, grain, body);
    else body(0, W.out);
    return;
  }
  // Tiles of weight rows (aligned to FP8 scale blocks), converted, then Eigen GEMM.
  const int64_t tile = 128;
  Eigen::Map<const RowMat> X(x, n, W.in);
  Eigen::Map<RowMat> Y(y, n, W.out);
  auto body = [&](int64_t t0, int64_t t1) {
    thread_local std::vector<float> buf;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r0 = t * tile, r1 = std::min(W.out, r0 + tile);
      buf.resize(static_cast<size_t>((r1 - r0) * W.in));
      W.rows_to_float(r0, r1, buf.data());
      Eigen::Map<const RowMat> T(buf.data(), r1 - r0, W.in);
      Y.middleCols(r0, r1 - r0).noalias() = X * T.transpose();
    }
  };
  const int64_t tiles = (W.out + tile - 1) / tile;
  if (pool) pool->parallel_for(tiles, 1, body);
  else body(0, tiles);
}

}  // namespace dsv3::model
