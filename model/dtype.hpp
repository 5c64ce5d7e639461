#pragma once
// Element types of checkpoint tensors (the safetensors dtype strings) and their conversion
// to float. FP8 is float8_e4m3fn: 1 sign, 4 exponent bits (bias 7), 3 mantissa bits, max 448,
// no infinities, NaN = S.1111.111.
#include <cstdint>
#include <cstring>
#include <string>

namespace dsv3::model {

enum class DType { F32, BF16, F16, F8_E4M3 };

// "F32", "BF16", "F16", "F8_E4M3"; false for any other safetensors dtype.
bool parse_dtype(const std::string& s, DType* out);
const char* dtype_name(DType t);
int64_t dtype_size(DType t);

inline float bf16_to_f32(uint16_t v) {
  uint32_t u = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even (NaN kept NaN).
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float f16_to_f32(uint16_t v);

// The 256 values of float8_e4m3fn.
const float* fp8_e4m3_table();
inline float fp8_e4m3_to_f32(uint8_t v) { return fp8_e4m3_table()[v]; }

}  // namespace dsv3::model
