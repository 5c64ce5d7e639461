// Unit tests of the tokenizer on the real DeepSeek-V3 tokenizer.json (installed by
// scripts/setup.sh). Golden parity with HF tokenizers is in tokenizer_golden_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "model/tokenizer.hpp"
#include "model/tokenizer_bpe.hpp"
#include "model/tokenizer_bytes.hpp"
#include "support/test_support.hpp"

using dsv3::InputError;
using dsv3::model::Detokenizer;
using dsv3::model::Tokenizer;
namespace bytes = dsv3::model::bytes;

namespace {
const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::load(dsv3::model::default_tokenizer_path());
  return t;
}
std::vector<int32_t> ids(std::initializer_list<int32_t> l) { return l; }
}  // namespace

// Model facts §6.4 (cross-checked with HF tokenizers).
TEST(Tokenizer, PublishedVectors) {
  EXPECT_EQ(tok().encode("Hello, world!"), ids({19923, 14, 2058, 3}));
  EXPECT_EQ(tok().encode("The year 2024 has 12345678 digits."),
            ids({671, 1141, 223, 939, 22, 769, 223, 6895, 18009, 2597, 10923, 16}));
  EXPECT_EQ(tok().encode("你好，世界！こんにちは"), ids({30594, 303, 3427, 1175, 4549, 7245, 2298, 12457, 2841}));
  EXPECT_EQ(tok().encode("  leading spaces\n\nnew lines\r\n"), ids({223, 6646, 13564, 271, 2839, 6243, 204, 201}));
  EXPECT_EQ(tok().encode("def f(x):\n    return x**2"), ids({3465, 285, 4042, 3395, 361, 1354, 1527, 666, 20}));
}

TEST(Tokenizer, SpecialTokensAndBos) {
  EXPECT_EQ(tok().bos_id(), 0);
  EXPECT_EQ(tok().eos_id(), 1);
  EXPECT_EQ(tok().vocab_size(), 128815);
  EXPECT_EQ(tok().encode("<｜User｜>Hi<｜Assistant｜>", true), ids({0, 128803, 23166, 128804}));
  EXPECT_EQ(tok().encode("Hi<｜end▁of▁sentence｜>"), ids({23166, 1}));
  EXPECT_EQ(tok().token_to_id("<｜tool▁sep｜>"), 128814);
  EXPECT_EQ(tok().token_to_id("Ġworld"), 2058);
  EXPECT_FALSE(tok().token_to_id("no such token").has_value());
  EXPECT_EQ(tok().id_to_token(2058), "Ġworld");
  EXPECT_EQ(tok().token_bytes(2058), " world");
  EXPECT_TRUE(tok().is_special(0));
  EXPECT_TRUE(tok().is_special(128805));   // <|EOT|>
  EXPECT_FALSE(tok().is_special(128803));  // <｜User｜> is added but not special
  EXPECT_TRUE(tok().is_added(128803));
  // A broken special token is plain text.
  auto broken = tok().encode("<｜User｜");
  EXPECT_EQ(std::find(broken.begin(), broken.end(), 128803), broken.end());
}

TEST(Tokenizer, DecodeRoundTripAndSkipSpecial) {
  for (std::string s : {"Hello, world!", "  two  spaces\t\ttabs\r\n", "数学 العربية кириллица 🤖🎉", "x\u0301\u0302",
                        "<｜begin▁of▁sentence｜>a<｜User｜>b", ""}) {
    EXPECT_EQ(tok().decode(tok().encode(s)), s);
  }
  auto v = tok().encode("<｜begin▁of▁sentence｜>a<｜User｜>b<|EOT|>");
  EXPECT_EQ(tok().decode(v, /*skip_special=*/true), "a<｜User｜>b");  // <｜User｜> is not special
  EXPECT_THROW(tok().decode(ids({5, 999999})), InputError);
  EXPECT_THROW(tok().decode(ids({-1})), InputError);
}

TEST(Tokenizer, BatchOnManyThreadsEqualsOneByOne) {
  // The golden corpus's lines (JSON text, escapes and all) as documents.
  std::string text = dsv3::test::read_file(dsv3::test::test_data_dir() / "tokenizer" / "corpus.jsonl");
  std::vector<std::string_view> docs;
  for (size_t s = 0; s < text.size();) {
    size_t e = text.find('\n', s);
    e = e == std::string::npos ? text.size() : e + 1;
    docs.emplace_back(text.data() + s, e - s);
    s = e;
  }
  auto batch = tok().encode_batch(docs, true, 4);
  ASSERT_EQ(batch.size(), docs.size());
  for (size_t i = 0; i < docs.size(); ++i) ASSERT_EQ(batch[i], tok().encode(docs[i], true)) << "doc " << i;
  std::vector<std::string_view> bad = {"ok", std::string_view("\xff", 1)};
  EXPECT_THROW(tok().encode_batch(bad, false, 2), InputError);
}

TEST(Tokenizer, InvalidUtf8IsAnInputError) {
  EXPECT_THROW(tok().encode(std::string("ab\xff", 3)), InputError);
  EXPECT_THROW(tok().encode(std::string("\xe4\xbd", 2)), InputError);
}

TEST(TokenizerBytes, LossyDecodingLikeRust) {
  std::string out;
  bytes::append_utf8_lossy(out, std::string("a\xe4\xbd" "b\xff\xc0\xaf" "c\xf0\x9f\x98", 11));
  // Rust: "a" FFFD "b" FFFD FFFD FFFD "c" FFFD (maximal subparts).
  EXPECT_EQ(out, "a\uFFFDb\uFFFD\uFFFD\uFFFDc\uFFFD");
  out.clear();
  bytes::append_utf8_lossy(out, std::string("\xed\xa0\x80", 3));  // a surrogate: 3 subparts
  EXPECT_EQ(out, "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(bytes::map_byte_level(" \n"), "ĠĊ");
  EXPECT_EQ(bytes::unmap_byte_level("ĠĊ"), std::optional<std::string>(" \n"));
  EXPECT_FALSE(bytes::unmap_byte_level("｜").has_value());
}

TEST(Detokenizer, StreamingEqualsWholeDecode) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(0, 128814);
  const std::string text = "Streaming 数学 🤖🎉 العربية\n  code();";
  auto v = tok().encode(text);
  for (int round = 0; round < 50; ++round) {
    std::vector<int32_t> seq = v;
    if (round > 0)  // random ids, byte tokens included, so sequences break anywhere
      for (auto& id : seq) id = round % 2 ? any(rng) : static_cast<int32_t>(any(rng) % 400);
    for (bool skip : {false, true}) {
      Detokenizer d(tok(), skip);
      std::string streamed;
      for (int32_t id : seq) {
        std::string piece = d.push(id);
        EXPECT_FALSE(bytes::find_invalid_utf8(piece).has_value());
        streamed += piece;
      }
      streamed += d.finish();
      EXPECT_EQ(streamed, tok().decode(seq, skip));
      if (round == 0) {
        EXPECT_EQ(streamed, text);
      }
    }
  }
}

TEST(Detokenizer, HoldsPartialCharacters) {
  // "🤖" is 4 bytes; its byte tokens arrive one by one.
  Detokenizer d(tok());
  std::string robot = "\xF0\x9F\xA4\x96";
  std::string got;
  for (unsigned char b : robot) {
    auto id = tok().token_to_id(bytes::map_byte_level(std::string(1, static_cast<char>(b))));
    ASSERT_TRUE(id.has_value());
    std::string piece = d.push(*id);
    if (got.size() + piece.size() < robot.size()) {
      EXPECT_EQ(piece, "");
    }
    got += piece;
  }
  EXPECT_EQ(got, robot);
  EXPECT_EQ(d.finish(), "");
}

TEST(TokenizerBpe, LinearAndHeapMergeAgree) {
  // A random merge table over bytes 'a'..'d' (ids 0..3) with chained merged ids; the
  // short-word path and HF's priority-queue path must agree on every word.
  std::mt19937 rng(3);
  std::array<int32_t, 256> byte_ids;
  byte_ids.fill(-1);
  for (int b = 0; b < 4; ++b) byte_ids['a' + b] = b;
  std::vector<dsv3::model::BpeModel::Merge> merges;
  int32_t next_id = 4;
  for (int i = 0; i < 300; ++i) {
    int32_t l = static_cast<int32_t>(rng() % next_id), r = static_cast<int32_t>(rng() % next_id);
    merges.push_back({l, r, next_id++});
  }
  dsv3::model::BpeModel bpe(byte_ids, merges, -1, false);
  for (int i = 0; i < 2000; ++i) {
    std::string w;
    size_t n = 1 + rng() % 40;
    for (size_t k = 0; k < n; ++k) w += static_cast<char>('a' + rng() % 4);
    std::vector<int32_t> a, b, c;
    bpe.tokenize_uncached(w, a, false);
    bpe.tokenize_uncached(w, b, true);
    bpe.tokenize(w, c);
    ASSERT_EQ(a, b) << w;
    ASSERT_EQ(a, c) << w;
  }
}

namespace {
std::string minimal_json(const std::string& pre, const std::string& extra = "") {
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,)"
         R"("pre_tokenizer":)" + pre + R"(,"post_processor":null,"decoder":{"type":"ByteLevel"},)" + extra +
         R"("model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]}})";
}
std::string subst(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}
void expect_load_error(const std::string& json, const std::string& needle) {
  try {
    Tokenizer::from_json(json, "", "tok.json");
    FAIL() << "no error; wanted " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tok.json"), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(TokenizerLoad, MinimalByteLevelBpe) {
  auto t = Tokenizer::from_json(minimal_json(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})"), "",
                                "tok.json");
  EXPECT_EQ(t.encode("ab ab"), ids({2, 3, 2}));  // GPT-2 regex: "ab", " ab" -> Ġ then ab
  EXPECT_EQ(t.decode(ids({2, 3, 2})), "ab ab");
  EXPECT_EQ(t.encode("abc"), ids({2}));  // 'c' has no symbol and no unk: dropped, as HF does
  // Merges written as pairs (the newer tokenizer.json form) load the same.
  std::string pairs = minimal_json(R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":true})");
  pairs.replace(pairs.find(R"(["a b"])"), 7, R"([["a","b"]])");
  EXPECT_EQ(Tokenizer::from_json(pairs, "", "tok.json").encode("ab ab"), ids({2, 3, 2}));
}

TEST(TokenizerLoad, UnsupportedComponentsAreClearErrors) {
  const std::string bl = R"({"type":"ByteLevel","add_prefix_space":false,"use_regex":false})";
  expect_load_error(minimal_json(R"({"type":"Whitespace"})"), "pre-tokenizer 'Whitespace' is not supported");
  expect_load_error(minimal_json(R"({"type":"ByteLevel","add_prefix_space":true})"), "add_prefix_space");
  expect_load_error(minimal_json("null"), "only byte-level BPE");
  expect_load_error(minimal_json(R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(["},)"
                                 R"("behavior":"Isolated"},)" + bl + "]}"),
                    "regex does not compile");
  expect_load_error(subst(minimal_json(bl), R"("normalizer":null)", R"("normalizer":{"type":"NFKC"})"),
                    "normalizer 'NFKC' is not supported");
  expect_load_error(subst(minimal_json(bl), R"("merges":["a b"])", R"("merges":["a x"])"), "model.merges[0]");
  expect_load_error(subst(minimal_json(bl), R"("type":"BPE")", R"("type":"WordPiece")"), "only BPE");
  expect_load_error(subst(minimal_json(bl), R"({"type":"ByteLevel"})", R"({"type":"WordPiece"})"), "decoder");
  expect_load_error("{not json", "not valid JSON");
  expect_load_error(subst(minimal_json(bl), R"("ab":2)", R"("ab":"x")"), R"(model.vocab["ab"])");
  expect_load_error(subst(minimal_json(bl), R"(["a b"])", R"(["a b", {"x":1}])"), "model.merges[1]");
  expect_load_error(subst(minimal_json(bl), R"(["a b"])", R"(["a b", ["a"]])"), "model.merges[1]");
  expect_load_error(subst(minimal_json(bl), R"(["a b"])", R"(["ab"])"), "model.merges[0]");
  expect_load_error(subst(minimal_json(bl), R"("merges":["a b"])", R"("merges_x":[])"), "model.merges");
}

TEST(TokenizerLoad, MissingFileIsAnInputError) {
  EXPECT_THROW(Tokenizer::load("/nonexistent/tokenizer.json"), InputError);
}
