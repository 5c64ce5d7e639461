#include "model/tokenizer_pretokenizer.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/core.h>
#include <pcre2.h>

#include <algorithm>
#include <stdexcept>

#include "model/errors.hpp"
#include "model/tokenizer_unicode_table.hpp"

namespace dsv3::model {

const char* const kByteLevelRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

// Per-thread match data and JIT stack, shared by every regex (only group 0 is read).
struct ThreadMatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchState() {
    md = pcre2_match_data_create(1, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (!md || !mctx || !stack) throw std::runtime_error("PCRE2: out of memory creating match data");
    pcre2_jit_stack_assign(mctx, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(mctx);
    pcre2_match_data_free(md);
  }
};

ThreadMatchState& match_state() {
  thread_local ThreadMatchState s;
  return s;
}

}  // namespace

// Oniguruma (HF's regex engine) and PCRE2 differ on a few Unicode classes: Oniguruma's \s
// is the Unicode White_Space property, PCRE2's also takes U+180E; Oniguruma's \w takes
// marks and connector punctuation; Oniguruma knows characters assigned after PCRE2's
// Unicode 14.0 (tokenizer_unicode_table.cpp). Those escapes are rewritten as explicit
// classes, so both engines split alike (checked for every code point by the unit tests).
static std::string class_extras(const std::string& name) {
  for (const auto& e : unicode_class_extras()) {
    if (e.name != name) continue;
    std::string out;
    for (auto [a, b] : e.ranges) out += a == b ? fmt::format("\\x{{{:X}}}", a) : fmt::format("\\x{{{:X}}}-\\x{{{:X}}}", a, b);
    return out;
  }
  return {};
}

std::string onig_to_pcre2(const std::string& p) {
  static const std::string space = R"(\t\n\x0B\f\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  static const std::string non_space =
      R"(\x00-\x08\x0E-\x1F\x21-\x{84}\x{86}-\x{9F}\x{A1}-\x{167F}\x{1681}-\x{1FFF}\x{200B}-\x{2027}\x{202A}-\x{202E})"
      R"(\x{2030}-\x{205E}\x{2060}-\x{2FFF}\x{3001}-\x{10FFFF})";
  static const std::string word = R"(\p{L}\p{M}\p{Nd}\p{Pc})";
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      ++i;
      if (e == 's') {
        out += in_class ? space : "[" + space + "]";
      } else if (e == 'S') {
        out += in_class ? non_space : "[" + non_space + "]";
      } else if (e == 'w') {
        out += in_class ? word : "[" + word + "]";
      } else if (e == 'W' && !in_class) {
        out += "[^" + word + "]";
      } else if ((e == 'p' || e == 'P') && i + 1 < p.size() && p[i + 1] == '{' && p.find('}', i) != std::string::npos) {
        size_t close = p.find('}', i);
        std::string name = p.substr(i + 2, close - i - 2);
        std::string extra = class_extras(name);
        std::string prop = std::string("\\") + e + "{" + name + "}";
        i = close;
        if (extra.empty())
          out += prop;
        else if (e == 'p')
          out += in_class ? prop + extra : "[" + prop + extra + "]";
        else if (!in_class)
          out += "[^\\p{" + name + "}" + extra + "]";
        else
          throw InputError(fmt::format("regex /{}/: \\P{{{}}} inside a character class is not supported", p, name));
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' (or '^]') right after '[' is a literal, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      size_t end = p.find(":]", i + 2);
      if (end != std::string::npos) {
        out.append(p, i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

SplitRegex::SplitRegex(const std::string& pattern, const std::string& where) : pattern_(pattern) {
  int err = 0;
  PCRE2_SIZE erroff = 0;
  const std::string translated = onig_to_pcre2(pattern);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &erroff, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw InputError(fmt::format("{}: regex does not compile at offset {}: {}", where, erroff,
                                 reinterpret_cast<const char*>(msg)));
  }
  code_ = code;
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
}

SplitRegex::~SplitRegex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool SplitRegex::find(std::string_view s, size_t start, size_t& match_begin, size_t& match_end) const {
  auto& st = match_state();
  auto* code = static_cast<pcre2_code*>(code_);
  auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  int rc = jit_ ? pcre2_jit_match(code, subject, s.size(), start, 0, st.md, st.mctx)
                : pcre2_match(code, subject, s.size(), start, PCRE2_NO_UTF_CHECK, st.md, st.mctx);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    throw std::runtime_error(fmt::format("PCRE2 match failed for /{}/: {}", pattern_, reinterpret_cast<const char*>(msg)));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
  match_begin = ov[0];
  match_end = ov[1];
  return true;
}

void PreTokenizer::split(std::string_view text, PieceSink sink, void* ctx) const {
  if (text.empty()) return;
  run(0, text, sink, ctx);
}

namespace {
size_t utf8_char_len(unsigned char b) { return b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2; }

struct Span {
  size_t begin, end;
  bool is_match;
};
}  // namespace

void PreTokenizer::run(size_t step_index, std::string_view piece, PieceSink sink, void* ctx) const {
  if (step_index == steps_.size()) {
    sink(ctx, piece);
    return;
  }
  const SplitStep& step = steps_[step_index];
  const size_t next = step_index + 1;

  if (step.behavior == SplitBehavior::Isolated) {
    // Matches and the gaps between them are all pieces (invert changes nothing here).
    size_t prev = 0, pos = 0, b = 0, e = 0;
    while (pos <= piece.size() && step.regex->find(piece, pos, b, e)) {
      if (b > prev) run(next, piece.substr(prev, b - prev), sink, ctx);
      if (e > b) run(next, piece.substr(b, e - b), sink, ctx);
      prev = e;
      if (e == b) {  // empty match: step over one character
        if (e >= piece.size()) break;
        pos = e + utf8_char_len(static_cast<unsigned char>(piece[e]));
      } else {
        pos = e;
      }
    }
    if (prev < piece.size()) run(next, piece.substr(prev), sink, ctx);
    return;
  }

  // The other behaviours, as HF's NormalizedString::split combines matches and gaps.
  std::vector<Span> spans;
  {
    size_t prev = 0, pos = 0, b = 0, e = 0;
    while (pos <= piece.size() && step.regex->find(piece, pos, b, e)) {
      if (b > prev) spans.push_back({prev, b, false});
      spans.push_back({b, e, true});
      prev = e;
      if (e == b) {
        if (e >= piece.size()) break;
        pos = e + utf8_char_len(static_cast<unsigned char>(piece[e]));
      } else {
        pos = e;
      }
    }
    if (prev < piece.size()) spans.push_back({prev, piece.size(), false});
  }
  if (step.invert)
    for (auto& s : spans) s.is_match = !s.is_match;

  std::vector<Span> out;
  switch (step.behavior) {
    case SplitBehavior::Isolated:
      out = spans;
      break;
    case SplitBehavior::Removed:
      for (auto& s : spans)
        if (!s.is_match) out.push_back(s);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      for (auto& s : spans) {
        if (s.is_match && !prev_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back(s);
        prev_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev_match = false;
      for (size_t i = spans.size(); i-- > 0;) {
        auto& s = spans[i];
        if (s.is_match && !prev_match && !out.empty())
          out.back().begin = s.begin;
        else
          out.push_back(s);
        prev_match = s.is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      for (auto& s : spans) {
        if (s.is_match == prev_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back(s);
        prev_match = s.is_match;
      }
      break;
    }
  }
  for (auto& s : out)
    if (s.end > s.begin) run(next, piece.substr(s.begin, s.end - s.begin), sink, ctx);
}

}  // namespace dsv3::model
