#include "eval/gsm8k_answer.hpp"

#include <cctype>
#include <vector>

namespace dsv3::eval {
namespace {

bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

struct NumSpan {
  std::size_t begin, end;
  std::string text;  // digits, '-', '.', commas removed
};

// Numbers in text: -?$?d+ with ",ddd" groups and an optional ".d+" fraction.
std::vector<NumSpan> find_numbers(const std::string& s) {
  std::vector<NumSpan> out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (!digit(s[i])) { ++i; continue; }
    std::size_t b = i;
    std::string t;
    while (i < s.size() && digit(s[i])) t += s[i++];
    while (i + 3 < s.size() + 0 && s[i] == ',' && digit(s[i + 1]) && digit(s[i + 2]) && digit(s[i + 3]) &&
           (i + 4 >= s.size() || !digit(s[i + 4]))) {
      t += s.substr(i + 1, 3);
      i += 4;
    }
    if (i + 1 < s.size() && s[i] == '.' && digit(s[i + 1])) {
      t += '.';
      ++i;
      while (i < s.size() && digit(s[i])) t += s[i++];
    }
    // sign: "-5", "-$5", "$-5"
    std::size_t k = b;
    if (k > 0 && s[k - 1] == '$') --k;
    if (k > 0 && s[k - 1] == '-' && (k < 2 || !std::isalnum(static_cast<unsigned char>(s[k - 2])))) {
      t = "-" + t;
      b = k - 1;
    }
    out.push_back({b, i, t});
  }
  return out;
}

}  // namespace

std::optional<std::string> canonical_number(const std::string& s) {
  auto nums = find_numbers(s);
  if (nums.empty()) return std::nullopt;
  std::string t = nums.front().text;
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t = t.substr(1);
  std::size_t dot = t.find('.');
  if (dot != std::string::npos) {
    while (!t.empty() && t.back() == '0') t.pop_back();
    if (!t.empty() && t.back() == '.') t.pop_back();
  }
  std::size_t nz = 0;
  while (nz + 1 < t.size() && t[nz] == '0' && t[nz + 1] != '.') ++nz;
  t = t.substr(nz);
  if (t.empty() || t == "0") return std::string("0");
  return neg ? "-" + t : t;
}

std::optional<std::string> gsm8k_gold(const std::string& solution) {
  std::size_t p = solution.find("#### ");
  if (p == std::string::npos) return std::nullopt;
  std::string rest = solution.substr(p + 5);
  std::size_t i = rest.find_first_not_of(" \t");
  if (i == std::string::npos) return std::nullopt;
  char c = rest[i];
  if (!(digit(c) || c == '-' || c == '$' || c == '.')) return std::nullopt;
  return canonical_number(rest.substr(i));
}

Gsm8kPrediction gsm8k_extract(const std::string& response) {
  Gsm8kPrediction out;
  for (const char* key : {"The answer is", "the answer is", "#### "}) {
    std::size_t p = response.find(key);
    if (p == std::string::npos) continue;
    std::string rest = response.substr(p + std::char_traits<char>::length(key));
    std::size_t i = rest.find_first_not_of(" \t:*$");
    if (i == std::string::npos) continue;
    if (!(digit(rest[i]) || (rest[i] == '-' && i + 1 < rest.size() && (digit(rest[i + 1]) || rest[i + 1] == '$'))))
      continue;
    out.strict = canonical_number(rest.substr(i));
    if (out.strict) break;
  }
  if (out.strict) {
    out.flexible = out.strict;
  } else {
    auto nums = find_numbers(response);
    if (!nums.empty()) out.flexible = canonical_number(nums.back().text);
  }
  return out;
}

}  // namespace dsv3::eval
