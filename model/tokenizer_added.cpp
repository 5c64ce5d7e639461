#include "model/tokenizer_added.hpp"

#include "model/tokenizer_pretokenizer.hpp"

namespace dsv3::model {

void AddedTokenMatcher::add(const AddedToken& token) {
  if (token.content.empty()) return;
  int32_t node = 0;
  for (unsigned char b : token.content) {
    auto& next = nodes_[static_cast<size_t>(node)].next;
    auto it = std::lower_bound(next.begin(), next.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
    if (it != next.end() && it->first == b) {
      node = it->second;
    } else {
      int32_t child = static_cast<int32_t>(nodes_.size());
      next.insert(it, {b, child});
      nodes_.push_back(Node{});
      node = child;
    }
  }
  first_byte_[static_cast<unsigned char>(token.content[0])] = true;
  auto& slot = nodes_[static_cast<size_t>(node)].token;
  if (slot >= 0) {
    tokens_[static_cast<size_t>(slot)] = token;  // the same content twice: the later one wins
  } else {
    slot = static_cast<int32_t>(tokens_.size());
    tokens_.push_back(token);
  }
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t& end) const {
  int32_t node = 0;
  int best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto& next = nodes_[static_cast<size_t>(node)].next;
    auto b = static_cast<unsigned char>(text[i]);
    auto it = std::lower_bound(next.begin(), next.end(), b, [](const auto& p, unsigned char v) { return p.first < v; });
    if (it == next.end() || it->first != b) break;
    node = it->second;
    if (int32_t t = nodes_[static_cast<size_t>(node)].token; t >= 0) {
      best = t;
      end = i + 1;
    }
  }
  return best;
}

namespace {
const SplitRegex& regex_ends_with_word() {
  static const SplitRegex r(R"(\w\z)", "added-token word test");
  return r;
}
const SplitRegex& regex_starts_with_word() {
  static const SplitRegex r(R"(\A\w)", "added-token word test");
  return r;
}
const SplitRegex& regex_trailing_space() {
  static const SplitRegex r(R"(\s*\z)", "added-token space test");
  return r;
}
const SplitRegex& regex_leading_space() {
  static const SplitRegex r(R"(\A\s*)", "added-token space test");
  return r;
}
}  // namespace

bool ends_with_word_char(std::string_view s) {
  size_t b, e;
  return regex_ends_with_word().find(s, 0, b, e);
}
bool starts_with_word_char(std::string_view s) {
  size_t b, e;
  return regex_starts_with_word().find(s, 0, b, e);
}
size_t trailing_space_start(std::string_view s) {
  size_t b = s.size(), e;
  return regex_trailing_space().find(s, 0, b, e) ? b : s.size();
}
size_t leading_space_len(std::string_view s) {
  size_t b, e = 0;
  return regex_leading_space().find(s, 0, b, e) ? e : 0;
}

}  // namespace dsv3::model
