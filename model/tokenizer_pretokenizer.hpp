#pragma once
// Pre-tokenization: HF's Sequence of Split pre-tokenizers (regexes through PCRE2 with
// UTF-8, Unicode properties and JIT), as the Rust tokenizers crate applies them: each
// Split runs on every piece that the previous one produced, on that piece alone (a
// lookahead never sees past the piece), and empty pieces are dropped.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dsv3::model {

// HF SplitDelimiterBehavior.
enum class SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };

// One compiled regex (PCRE2 code, JIT-compiled when the platform allows).
class SplitRegex {
 public:
  // where: names the file and field for error messages.
  SplitRegex(const std::string& pattern, const std::string& where);
  ~SplitRegex();
  SplitRegex(const SplitRegex&) = delete;
  SplitRegex& operator=(const SplitRegex&) = delete;

  // Finds the next match in s at or after start; false when there is none.
  bool find(std::string_view s, size_t start, size_t& match_begin, size_t& match_end) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

struct SplitStep {
  std::unique_ptr<SplitRegex> regex;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
};

// Receives each final piece (a view into the text given to split()).
using PieceSink = void (*)(void* ctx, std::string_view piece);

class PreTokenizer {
 public:
  void add_step(SplitStep step) { steps_.push_back(std::move(step)); }
  size_t num_steps() const { return steps_.size(); }
  const SplitStep& step(size_t i) const { return steps_[i]; }

  // Splits text (valid UTF-8) and calls sink for each non-empty piece, in order.
  void split(std::string_view text, PieceSink sink, void* ctx) const;

  template <class F>
  void split(std::string_view text, F&& f) const {
    split(text, [](void* c, std::string_view p) { (*static_cast<F*>(c))(p); }, &f);
  }

 private:
  void run(size_t step, std::string_view piece, PieceSink sink, void* ctx) const;
  std::vector<SplitStep> steps_;
};

// Rewrites an Oniguruma pattern (as in tokenizer.json) for PCRE2 so that \s, \S, \w, \W
// and \p{L|M|N|P|S|Nd} take exactly the code points HF's engine gives them.
std::string onig_to_pcre2(const std::string& pattern);

// The regex HF's ByteLevel pre-tokenizer applies when use_regex is true (GPT-2's).
extern const char* const kByteLevelRegex;

}  // namespace dsv3::model
