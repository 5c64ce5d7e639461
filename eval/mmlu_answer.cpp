#include "eval/mmlu_answer.hpp"

#include <cctype>
#include <vector>

namespace dsv3::eval {
namespace {

bool is_letter(char c) { return c >= 'A' && c <= 'D'; }
bool boundary(const std::string& s, std::size_t i) {  // s[i] is not part of a longer word
  return i >= s.size() || !std::isalnum(static_cast<unsigned char>(s[i]));
}

// Letter following position p, skipping spaces, '*', '$', '(', '[', '{', "\text{", "\boxed{".
std::optional<char> letter_after(const std::string& s, std::size_t p) {
  for (;;) {
    while (p < s.size() && (s[p] == ' ' || s[p] == '*' || s[p] == '$' || s[p] == '(' || s[p] == '[' || s[p] == '{' ||
                            s[p] == ':' || s[p] == '\t'))
      ++p;
    bool skipped = false;
    for (const char* w : {"\\text{", "\\boxed{", "\\textbf{", "\\mathrm{", "option ", "Option "}) {
      std::size_t n = std::char_traits<char>::length(w);
      if (s.compare(p, n, w) == 0) { p += n; skipped = true; }
    }
    if (!skipped) break;
  }
  if (p < s.size() && is_letter(s[p]) && boundary(s, p + 1)) return s[p];
  return std::nullopt;
}

}  // namespace

ChoiceScore score_choices(const std::array<double, 4>& ll, const std::array<int, 4>& len, int gold) {
  ChoiceScore r;
  double best = 0, best_n = 0;
  for (int k = 0; k < 4; ++k) {
    double n = ll[std::size_t(k)] / std::max(1, len[std::size_t(k)]);
    if (r.pred < 0 || ll[std::size_t(k)] > best) { best = ll[std::size_t(k)]; r.pred = k; }
    if (r.pred_norm < 0 || n > best_n) { best_n = n; r.pred_norm = k; }
  }
  r.acc = r.pred == gold;
  r.acc_norm = r.pred_norm == gold;
  return r;
}

std::optional<char> mmlu_extract_letter(const std::string& s) {
  // 1. the last "Answer:" / "answer is" / "Answer" marker followed by a letter
  std::optional<char> found;
  for (const char* key : {"Answer:", "answer:", "ANSWER:", "answer is", "Answer is", "answer would be", "correct option is",
                          "correct choice is"}) {
    std::size_t p = 0, klen = std::char_traits<char>::length(key);
    while ((p = s.find(key, p)) != std::string::npos) {
      if (auto c = letter_after(s, p + klen)) found = c;
      p += klen;
    }
    if (found) return found;
  }
  // 2. \boxed{C}
  std::size_t b = s.rfind("\\boxed{");
  if (b != std::string::npos) if (auto c = letter_after(s, b + 7)) return c;
  // 3. the response starts with the letter: "C", "C.", "C)", "(C)", "**C**" (not the article "A lot")
  if (auto c = letter_after(s, 0)) {
    std::size_t p = s.find(*c);
    char next = p + 1 < s.size() ? s[p + 1] : '\n';
    if (next == '\n' || next == '.' || next == ')' || next == ':' || next == '*' || next == '$' || next == '}' ||
        next == ',' || next == '\r')
      return c;
  }
  return std::nullopt;
}

}  // namespace dsv3::eval
