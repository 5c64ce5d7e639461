#include "model/dtype.hpp"

#include <cmath>
#include <limits>

namespace dsv3::model {

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32") *out = DType::F32;
  else if (s == "BF16") *out = DType::BF16;
  else if (s == "F16") *out = DType::F16;
  else if (s == "F8_E4M3") *out = DType::F8_E4M3;
  else return false;
  return true;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
    case DType::F8_E4M3: return "F8_E4M3";
  }
  return "?";
}

int64_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::BF16:
    case DType::F16: return 2;
    case DType::F8_E4M3: return 1;
  }
  return 0;
}

float f16_to_f32(uint16_t v) {
  const int sign = (v >> 15) & 1, exp = (v >> 10) & 0x1f, man = v & 0x3ff;
  float r;
  if (exp == 0) r = std::ldexp(static_cast<float>(man), -24);
  else if (exp == 31) r = man ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else r = std::ldexp(static_cast<float>(man | 0x400), exp - 25);
  return sign ? -r : r;
}

namespace {
struct Fp8Table {
  float v[256];
  Fp8Table() {
    for (int i = 0; i < 256; ++i) {
      const int sign = (i >> 7) & 1, exp = (i >> 3) & 0xf, man = i & 7;
      float r;
      if (exp == 0xf && man == 7) r = std::numeric_limits<float>::quiet_NaN();
      else if (exp == 0) r = std::ldexp(static_cast<float>(man), -9);  // subnormal: man/8 * 2^-6
      else r = std::ldexp(static_cast<float>(8 + man), exp - 10);      // (1 + man/8) * 2^(exp-7)
      v[i] = sign ? -r : r;
    }
  }
};
}  // namespace

const float* fp8_e4m3_table() {
  static const Fp8Table t;
  return t.v;
}

}  // namespace dsv3::model
