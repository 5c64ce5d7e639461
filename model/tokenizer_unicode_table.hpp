#pragma once
// Unicode classes as HF tokenizers' regex engine sees them: the code points to add to
// PCRE2's \p{X} (PCRE2 10.42 knows Unicode 14.0; HF's Oniguruma knows later versions).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dsv3::model {

struct UnicodeClassExtra {
  std::string name;                                // "L", "M", "N", "P", "S", "Nd"
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // inclusive
};

const std::vector<UnicodeClassExtra>& unicode_class_extras();

}  // namespace dsv3::model
