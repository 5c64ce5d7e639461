// The pre-tokenizer's Unicode classes equal HF's (Oniguruma's) for every code point:
// tests/data/tokenizer/onig_unicode_sets.json was read from HF tokenizers itself
// (scripts/tokenizer/onig_unicode_sets.js).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/tokenizer_bytes.hpp"
#include "model/tokenizer_pretokenizer.hpp"
#include "support/test_support.hpp"

using dsv3::model::SplitRegex;

TEST(TokenizerUnicode, ClassesMatchHf) {
  auto j = nlohmann::json::parse(dsv3::test::read_file(dsv3::test::test_data_dir() / "tokenizer/onig_unicode_sets.json"));
  // Every code point once, in order (surrogates are not characters).
  std::string all;
  std::vector<uint32_t> offset_cp;  // byte offset -> code point (only at starts)
  std::vector<size_t> starts;
  for (uint32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    starts.push_back(all.size());
    dsv3::model::bytes::append_utf8(all, c);
  }
  auto cp_at = [&](size_t off) {
    std::string_view s(all.data() + off, all.size() - off);
    auto b = static_cast<unsigned char>(s[0]);
    uint32_t c = b < 0x80 ? b : b < 0xE0 ? (b & 0x1F) : b < 0xF0 ? (b & 0x0F) : (b & 0x07);
    size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    for (size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
    return c;
  };
  ASSERT_GE(j["classes"].size(), 7u);
  for (auto it = j["classes"].begin(); it != j["classes"].end(); ++it) {
    std::vector<std::pair<uint32_t, uint32_t>> want;
    for (const auto& r : it.value()) want.emplace_back(r[0].get<uint32_t>(), r[1].get<uint32_t>());
    SplitRegex re(it.key() + "+", "test");
    std::vector<std::pair<uint32_t, uint32_t>> got;
    size_t pos = 0, b = 0, e = 0;
    while (re.find(all, pos, b, e)) {
      uint32_t first = cp_at(b);
      // the last code point of the run: step back to its lead byte
      size_t last = e - 1;
      while ((static_cast<unsigned char>(all[last]) & 0xC0) == 0x80) --last;
      uint32_t lastc = cp_at(last);
      if (first == 0xE000 && !got.empty() && got.back().second == 0xD7FF) first = 0xD800;  // runs across surrogates
      if (!got.empty() && got.back().second + 1 == first)
        got.back().second = lastc;
      else
        got.emplace_back(first, lastc);
      pos = e;
    }
    // HF's ranges skip surrogates the same way: merge them across the gap too.
    std::vector<std::pair<uint32_t, uint32_t>> want_merged;
    for (auto r : want) {
      if (!want_merged.empty() && want_merged.back().second == 0xD7FF && r.first == 0xE000) r.first = 0xD800;
      if (!want_merged.empty() && want_merged.back().second + 1 == r.first)
        want_merged.back().second = r.second;
      else
        want_merged.push_back(r);
    }
    EXPECT_EQ(got, want_merged) << it.key() << " as PCRE2: " << dsv3::model::onig_to_pcre2(it.key());
  }
}

TEST(TokenizerUnicode, TranslatesEscapesOutsideAndInsideClasses) {
  using dsv3::model::onig_to_pcre2;
  EXPECT_EQ(onig_to_pcre2(R"(\\s)"), R"(\\s)");  // an escaped backslash followed by 's'
  EXPECT_NE(onig_to_pcre2(R"(\s)").find("[\\t"), std::string::npos);
  EXPECT_EQ(onig_to_pcre2(R"([^\r\n\p{Lu}])"), R"([^\r\n\p{Lu}])");  // no table for Lu: unchanged
  EXPECT_NE(onig_to_pcre2(R"([\p{L}x])").find(R"([\p{L}\x{)"), std::string::npos);
  EXPECT_EQ(onig_to_pcre2(R"([]\s])").substr(0, 4), R"([]\t)");  // ']' first in a class is literal
}
