#pragma once
// Added tokens (special and not): found in the raw text before pre-tokenization with
// leftmost-longest matching, honouring the single_word / lstrip / rstrip flags, as HF's
// AddedVocabulary does (tokens with normalized=false first, then normalized=true ones in
// the remaining gaps).
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsv3::model {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A byte trie over a set of token contents.
class AddedTokenMatcher {
 public:
  void add(const AddedToken& token);
  bool empty() const { return tokens_.empty(); }

  // Splits text: sink(segment, id) with id >= 0 for a matched token, -1 for the text between.
  template <class F>
  void split(std::string_view text, F&& sink) const;

 private:
  // Longest token that starts at text[pos]: its index in tokens_ and its end, or -1.
  int longest_at(std::string_view text, size_t pos, size_t& end) const;
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
    int32_t token = -1;                                   // index in tokens_
  };
  std::vector<Node> nodes_{Node{}};
  std::vector<AddedToken> tokens_;
  bool first_byte_[256] = {};
};

// Word and space tests that HF applies to the text beside a single_word / lstrip / rstrip
// token (Rust regex \w and \s, Unicode).
bool ends_with_word_char(std::string_view s);
bool starts_with_word_char(std::string_view s);
size_t trailing_space_start(std::string_view s);  // where the run of \s at the end begins
size_t leading_space_len(std::string_view s);     // bytes of the run of \s at the start

template <class F>
void AddedTokenMatcher::split(std::string_view text, F&& sink) const {
  if (tokens_.empty()) {
    if (!text.empty()) sink(text, -1);
    return;
  }
  size_t done = 0;  // text before this has been emitted
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    size_t end = 0;
    int t = longest_at(text, pos, end);
    if (t < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[static_cast<size_t>(t)];
    size_t start = pos, stop = end;
    pos = end;
    if (tok.single_word) {
      bool start_ok = start == 0 || !ends_with_word_char(text.substr(0, start));
      bool stop_ok = stop == n || !starts_with_word_char(text.substr(stop));
      if (!start_ok || !stop_ok) continue;
    }
    if (tok.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), done);
    if (tok.rstrip) stop += leading_space_len(text.substr(stop));
    if (done < start) sink(text.substr(done, start - done), -1);
    sink(text.substr(start, stop - start), tok.id);
    done = stop;
    pos = std::max(pos, stop);
  }
  if (done < n) sink(text.substr(done), -1);
}

}  // namespace dsv3::model
