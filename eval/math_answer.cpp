#include "eval/math_answer.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "eval/deadline.hpp"
#include "eval/math_expr.hpp"

namespace dsv3::eval {
namespace {

// ------------------------------------------------------------------ string helpers
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::size_t p = 0;
  while ((p = s.find(from, p)) != std::string::npos) {
    s.replace(p, from.size(), to);
    p += to.size();
  }
}

// Replaces the command \name when it is not the prefix of a longer command name.
void replace_cmd(std::string& s, const std::string& name, const std::string& to) {
  std::string pat = "\\" + name;
  std::size_t p = 0;
  while ((p = s.find(pat, p)) != std::string::npos) {
    std::size_t e = p + pat.size();
    if (e < s.size() && std::isalpha(static_cast<unsigned char>(s[e]))) { p = e; continue; }
    s.replace(p, pat.size(), to);
    p += to.size();
  }
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Index of the '}' matching the '{' at i, or npos.
std::size_t match_brace(const std::string& s, std::size_t i) {
  int depth = 0;
  for (std::size_t k = i; k < s.size(); ++k) {
    if (s[k] == '\\' && k + 1 < s.size() && (s[k + 1] == '{' || s[k + 1] == '}')) { ++k; continue; }
    if (s[k] == '{') ++depth;
    else if (s[k] == '}' && --depth == 0) return k;
  }
  return std::string::npos;
}

std::string remove_spaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); }), s.end());
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "\cmd{X}" -> "X" for every occurrence (text-like wrappers).
void unwrap_cmd(std::string& s, const std::string& name) {
  std::string pat = "\\" + name + "{";
  std::size_t p;
  while ((p = s.find(pat)) != std::string::npos) {
    std::size_t open = p + pat.size() - 1, close = match_brace(s, open);
    if (close == std::string::npos) { s.erase(p, pat.size()); continue; }
    s = s.substr(0, p) + s.substr(open + 1, close - open - 1) + s.substr(close + 1);
  }
}

bool is_unit_word(const std::string& w) {
  static const std::vector<std::string> units = {
      "cm", "centimeter", "centimeters", "m", "meter", "meters", "km", "kilometers", "mm", "inch", "inches", "in",
      "ft", "foot", "feet", "yard", "yards", "mile", "miles", "mph", "unit", "units", "square", "sq", "cubic",
      "degree", "degrees", "dollar", "dollars", "cent", "cents", "hour", "hours", "minute", "minutes", "second",
      "seconds", "day", "days", "week", "weeks", "month", "months", "year", "years", "pound", "pounds", "lb", "lbs",
      "ounce", "ounces", "gallon", "gallons", "liter", "liters", "ml", "g", "kg", "gram", "grams", "people",
      "students", "ways", "points", "times", "percent", "and", "of", "per", "a", "an", "the", "radians", "rad"};
  std::string l = lower(w);
  while (!l.empty() && (l.back() == '.' || l.back() == ',')) l.pop_back();
  if (l.rfind("^", 0) == 0) return true;
  return std::find(units.begin(), units.end(), l) != units.end();
}

// Drops trailing "\text{ cm}^2", " square units" and similar after a numeric-looking answer.
std::string strip_units(std::string s) {
  for (int guard = 0; guard < 8; ++guard) {
    std::string t = trim(s);
    // "...\text{...}" or "...\text{...}^2" at the end, with something before it
    std::size_t p = t.rfind("\\text{");
    if (p != std::string::npos && p > 0) {
      std::size_t close = match_brace(t, p + 5);
      if (close != std::string::npos) {
        std::string rest = trim(t.substr(close + 1));
        if (rest.empty() || rest == "^2" || rest == "^3" || rest == "^{2}" || rest == "^{3}") {
          std::string inner = trim(t.substr(p + 6, close - p - 6));
          bool wordy = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
            return std::isalpha(static_cast<unsigned char>(c)) || c == ' ' || c == '.' || c == '^' ||
                   std::isdigit(static_cast<unsigned char>(c));
          });
          std::string before = trim(t.substr(0, p));
          if (wordy && !before.empty() && before.back() != '=' && before.back() != ',') {
            s = before;
            continue;
          }
        }
      }
    }
    // plain unit words at the end: "5 cm", "12 square units"
    std::size_t sp = t.find_last_of(' ');
    if (sp != std::string::npos && sp > 0) {
      std::string word = t.substr(sp + 1);
      std::string before = trim(t.substr(0, sp));
      if (is_unit_word(word) && !before.empty() &&
          (std::isdigit(static_cast<unsigned char>(before.back())) || before.back() == '}' || before.back() == ')' ||
           is_unit_word(before.substr(before.find_last_of(' ') == std::string::npos ? 0 : before.find_last_of(' ') + 1)))) {
        s = before;
        continue;
      }
    }
    return t;
  }
  return trim(s);
}

// \frac12 -> \frac{1}{2}, \frac1{72} -> \frac{1}{72}, \sqrt3 -> \sqrt{3}
std::string fix_short_args(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto starts = [&](const char* w) { return s.compare(i, std::char_traits<char>::length(w), w) == 0; };
    if (starts("\\frac") && !(i + 5 < s.size() && std::isalpha(static_cast<unsigned char>(s[i + 5])))) {
      out += "\\frac";
      i += 5;
      for (int a = 0; a < 2; ++a) {
        while (i < s.size() && s[i] == ' ') ++i;
        if (i >= s.size()) break;
        if (s[i] == '{') {
          std::size_t c = match_brace(s, i);
          if (c == std::string::npos) { out += s.substr(i); return out; }
          out += s.substr(i, c - i + 1);
          i = c + 1;
        } else if (s[i] == '\\') {
          std::size_t j = i + 1;
          while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
          out += "{" + s.substr(i, j - i) + "}";
          i = j;
        } else {
          out += std::string("{") + s[i] + "}";
          ++i;
        }
      }
      continue;
    }
    if (starts("\\sqrt") && i + 5 < s.size() && s[i + 5] != '{' && s[i + 5] != '[' &&
        !std::isalpha(static_cast<unsigned char>(s[i + 5]))) {
      std::size_t j = i + 5;
      while (j < s.size() && s[j] == ' ') ++j;
      if (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j]))) {
        out += "\\sqrt{" + std::string(1, s[j]) + "}";
        i = j + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

bool is_thousands_number(const std::string& s) {
  // -?d{1,3}(,ddd)+(.d+)?
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  std::size_t d = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) { ++i; ++d; }
  if (d == 0 || d > 3) return false;
  int groups = 0;
  while (i < s.size() && s[i] == ',') {
    for (int k = 1; k <= 3; ++k)
      if (i + std::size_t(k) >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i + std::size_t(k)]))) return false;
    i += 4;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size()) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

// ------------------------------------------------------------------ structure
struct Ans {
  enum Kind { Expr, Seq, List, Set, Matrix, Eq, Rel, Union, Text } kind = Expr;
  std::string text;             // Expr, Text
  char open = 0, close = 0;     // Seq
  std::string op;               // Rel
  std::vector<Ans> items;       // Seq, List, Set, Union, Eq (lhs, rhs), Rel (lhs, rhs)
  std::vector<std::vector<Ans>> rows;  // Matrix
};

bool is_open(char c) { return c == '(' || c == '[' || c == '{'; }
bool is_close(char c) { return c == ')' || c == ']' || c == '}'; }

// Splits at top level (bracket depth 0) on the separator string.
std::vector<std::string> split_top(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      depth += s[i + 1] == '{' ? 1 : -1;
      ++i;
      continue;
    }
    if (is_open(c)) ++depth;
    else if (is_close(c)) --depth;
    else if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
      if (sep[0] == '\\' && i + sep.size() < s.size() && std::isalpha(static_cast<unsigned char>(s[i + sep.size()]))) continue;
      out.push_back(s.substr(start, i - start));
      start = i + sep.size();
      i += sep.size() - 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// True when s[0] opens a bracket whose partner is the last character (any bracket types).
bool wrapped(const std::string& s) {
  if (s.size() < 2 || !(s[0] == '(' || s[0] == '[') || !(s.back() == ')' || s.back() == ']')) return false;
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) { ++i; continue; }
    if (is_open(s[i])) ++depth;
    else if (is_close(s[i]) && --depth == 0 && i + 1 != s.size()) return false;
  }
  return depth == 0;
}

bool wordy_text(const std::string& s) {
  int run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {  // skip a command name
      while (i + 1 < s.size() && std::isalpha(static_cast<unsigned char>(s[i + 1]))) ++i;
      run = 0;
      continue;
    }
    run = std::isalpha(static_cast<unsigned char>(s[i])) ? run + 1 : 0;
    if (run >= 3) return true;
  }
  return false;
}

Ans parse_answer(const std::string& raw, int depth = 0);

std::vector<Ans> parse_items(const std::vector<std::string>& parts, int depth) {
  std::vector<Ans> v;
  for (auto& p : parts) v.push_back(parse_answer(trim(p), depth + 1));
  return v;
}

Ans parse_answer(const std::string& raw, int depth) {
  Ans a;
  std::string s = trim(raw);
  a.text = s;
  if (depth > 12) { a.kind = Ans::Text; return a; }
  // matrix
  for (const char* env : {"pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix"}) {
    std::string b = std::string("\\begin{") + env + "}", e = std::string("\\end{") + env + "}";
    if (s.rfind(b, 0) == 0 && s.size() >= b.size() + e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0) {
      a.kind = Ans::Matrix;
      std::string body = s.substr(b.size(), s.size() - b.size() - e.size());
      for (auto& row : split_top(body, "\\\\")) {
        if (trim(row).empty()) continue;
        a.rows.push_back(parse_items(split_top(row, "&"), depth));
      }
      return a;
    }
  }
  // union of intervals
  auto uparts = split_top(s, "\\cup");
  if (uparts.size() > 1) {
    a.kind = Ans::Union;
    a.items = parse_items(uparts, depth);
    return a;
  }
  // relations
  for (const char* op : {"\\leq", "\\geq", "\\le", "\\ge", "\\neq", "\\ne", "<", ">"}) {
    auto parts = split_top(s, op);
    if (parts.size() == 2) {
      a.kind = Ans::Rel;
      std::string o = op;
      a.op = o == "\\leq" ? "\\le" : o == "\\geq" ? "\\ge" : o == "\\neq" ? "\\ne" : o;
      a.items = parse_items(parts, depth);
      return a;
    }
  }
  // equation (chains a=b=c keep the last two sides)
  auto eparts = split_top(s, "=");
  if (eparts.size() >= 2) {
    a.kind = Ans::Eq;
    a.items = parse_items({eparts[eparts.size() - 2], eparts.back()}, depth);
    return a;
  }
  // set
  if (s.rfind("\\{", 0) == 0 && s.size() >= 4 && s.compare(s.size() - 2, 2, "\\}") == 0) {
    a.kind = Ans::Set;
    a.items = parse_items(split_top(s.substr(2, s.size() - 4), ","), depth);
    return a;
  }
  // bracketed sequence: tuple / interval
  if (wrapped(s)) {
    auto parts = split_top(s.substr(1, s.size() - 2), ",");
    if (parts.size() >= 2) {
      a.kind = Ans::Seq;
      a.open = s[0];
      a.close = s.back();
      a.items = parse_items(parts, depth);
      return a;
    }
  }
  auto parts = split_top(s, ",");
  if (parts.size() >= 2) {
    a.kind = Ans::List;
    a.items = parse_items(parts, depth);
    return a;
  }
  a.kind = wordy_text(s) ? Ans::Text : Ans::Expr;
  return a;
}

bool is_simple_var(const Ans& a) {
  if (a.kind != Ans::Expr) return false;
  const std::string& t = a.text;
  if (t.size() == 1 && std::isalpha(static_cast<unsigned char>(t[0]))) return true;
  if (t.size() >= 3 && std::isalpha(static_cast<unsigned char>(t[0])) && t[1] == '_') return true;
  static const std::vector<std::string> greek = {"\\theta", "\\alpha", "\\beta", "\\phi", "\\lambda", "\\omega"};
  return std::find(greek.begin(), greek.end(), t) != greek.end();
}

struct Checker {
  Deadline& dl;
  std::string method;

  bool leaf(const std::string& x, const std::string& y) {
    dl.tick();
    std::string a = remove_spaces(x), b = remove_spaces(y);
    if (a == b) return true;
    if (lower(a) == lower(b)) return true;
    if (wordy_text(a) || wordy_text(b)) return false;
    ExprPtr ea = parse_expr(x, dl), eb = parse_expr(y, dl);  // spaces separate tokens (\log_2 8)
    if (!ea || !eb) return false;
    return expr_equal(ea, eb, dl);
  }

  bool proportional(const Ans& e1, const Ans& e2) {
    ExprPtr d1 = parse_expr("(" + e1.items[0].text + ")-(" + e1.items[1].text + ")", dl);
    ExprPtr d2 = parse_expr("(" + e2.items[0].text + ")-(" + e2.items[1].text + ")", dl);
    if (!d1 || !d2) return false;
    std::set<std::string> vars = expr_variables(d1);
    for (auto& v : expr_variables(d2)) vars.insert(v);
    if (vars.empty()) return false;
    static const long double pts[] = {0.5377L, 1.8339L, -2.2588L, 0.8622L, 0.3188L, -1.3077L, -0.4336L};
    std::complex<long double> ratio;
    bool have = false;
    int valid = 0;
    for (int k = 0; k < 6; ++k) {
      std::map<std::string, std::complex<long double>> env;
      int j = 0;
      for (auto& v : vars) env[v] = pts[(j++ * 3 + k) % 7];
      ExprValue a = eval_expr(d1, env, dl), b = eval_expr(d2, env, dl);
      if (a.overflow || b.overflow) return false;
      if (std::abs(b.z) < 1e-12L) {
        if (std::abs(a.z) < 1e-12L) continue;
        return false;
      }
      auto r = a.z / b.z;
      if (!have) { ratio = r; have = true; }
      else if (!numbers_close(r, ratio)) return false;
      ++valid;
    }
    return valid >= 2 && std::abs(ratio) > 1e-12L;
  }

  bool unordered(const std::vector<Ans>& a, const std::vector<Ans>& b) {
    if (a.size() != b.size()) return false;
    std::vector<bool> used(b.size(), false);
    for (auto& x : a) {
      bool found = false;
      for (std::size_t k = 0; k < b.size(); ++k)
        if (!used[k] && same(x, b[k])) { used[k] = true; found = true; break; }
      if (!found) return false;
    }
    return true;
  }

  bool same(const Ans& g, const Ans& p) {
    dl.tick();
    using K = Ans::Kind;
    if (remove_spaces(g.text) == remove_spaces(p.text)) return true;
    if ((g.kind == K::Expr || g.kind == K::Text) && (p.kind == K::Expr || p.kind == K::Text)) {
      method = "expression";
      return leaf(g.text, p.text);
    }
    // "x = 5" against "5" (either side)
    if (g.kind == K::Eq && p.kind != K::Eq && is_simple_var(g.items[0])) return same(g.items[1], p);
    if (p.kind == K::Eq && g.kind != K::Eq && is_simple_var(p.items[0])) return same(g, p.items[1]);
    if (g.kind == K::Eq && p.kind == K::Eq) {
      method = "equation";
      if (same(g.items[0], p.items[0]) && same(g.items[1], p.items[1])) return true;
      if (same(g.items[0], p.items[1]) && same(g.items[1], p.items[0])) return true;
      return proportional(g, p);
    }
    if (g.kind == K::Rel && p.kind == K::Rel) {
      method = "relation";
      auto mirror = [](const std::string& o) {
        return o == "<" ? std::string(">") : o == ">" ? std::string("<") : o == "\\le" ? std::string("\\ge")
               : o == "\\ge" ? std::string("\\le") : o;
      };
      if (g.op == p.op && same(g.items[0], p.items[0]) && same(g.items[1], p.items[1])) return true;
      return mirror(g.op) == p.op && same(g.items[0], p.items[1]) && same(g.items[1], p.items[0]);
    }
    if (g.kind == K::Seq && p.kind == K::Seq) {
      method = (g.open == '[' || g.close == ']' || p.open == '[' || p.close == ']') ? "interval" : "tuple";
      if (g.open != p.open || g.close != p.close || g.items.size() != p.items.size()) return false;
      for (std::size_t k = 0; k < g.items.size(); ++k)
        if (!same(g.items[k], p.items[k])) return false;
      return true;
    }
    if ((g.kind == K::Set || g.kind == K::List) && (p.kind == K::Set || p.kind == K::List)) {
      method = g.kind == K::Set ? "set" : "list";
      return unordered(g.items, p.items);
    }
    if (g.kind == K::Union && p.kind == K::Union) {
      method = "interval";
      return unordered(g.items, p.items);
    }
    if (g.kind == K::Matrix && p.kind == K::Matrix) {
      method = "matrix";
      if (g.rows.size() != p.rows.size()) return false;
      for (std::size_t r = 0; r < g.rows.size(); ++r) {
        if (g.rows[r].size() != p.rows[r].size()) return false;
        for (std::size_t c = 0; c < g.rows[r].size(); ++c)
          if (!same(g.rows[r][c], p.rows[r][c])) return false;
      }
      return true;
    }
    return false;
  }
};

// Expands the first top-level "\pm" into a two-element list "a+b, a-b".
std::string expand_pm(const std::string& s) {
  std::size_t p = s.find("\\pm");
  if (p == std::string::npos || s.find("\\pm", p + 3) != std::string::npos) return s;
  if (s.find(',') != std::string::npos || s.find('=') != std::string::npos) return s;
  return s.substr(0, p) + "+" + s.substr(p + 3) + "," + s.substr(0, p) + "-" + s.substr(p + 3);
}

}  // namespace

// ------------------------------------------------------------------ extraction
std::optional<std::string> last_boxed(const std::string& text) {
  std::size_t pb = text.rfind("\\boxed"), pf = text.rfind("\\fbox");
  std::size_t p;
  std::size_t len;
  if (pb == std::string::npos && pf == std::string::npos) return std::nullopt;
  if (pb == std::string::npos || (pf != std::string::npos && pf > pb)) { p = pf; len = 5; }
  else { p = pb; len = 6; }
  std::size_t i = p + len;
  if (i < text.size() && text[i] == '{') {
    std::size_t c = match_brace(text, i);
    if (c == std::string::npos) return std::nullopt;
    return text.substr(i + 1, c - i - 1);
  }
  if (i < text.size() && text[i] == ' ') {  // "\boxed 5"
    std::size_t j = i + 1;
    std::size_t e = text.find_first_of("$\n", j);
    std::string v = trim(text.substr(j, e == std::string::npos ? std::string::npos : e - j));
    if (!v.empty()) return v;
  }
  return std::nullopt;
}

std::optional<std::string> minerva_final_answer(const std::string& text) {
  const std::string key = "final answer is";
  std::size_t p = text.rfind(key);
  if (p == std::string::npos) return std::nullopt;
  std::size_t s = p + key.size();
  std::size_t e = text.find("I hope it is correct", s);
  std::size_t nl = text.find('\n', s);
  if (e == std::string::npos || (nl != std::string::npos && nl < e)) e = nl;
  std::string v = trim(text.substr(s, e == std::string::npos ? std::string::npos : e - s));
  while (!v.empty() && (v.back() == '.' || v.back() == ' ')) v.pop_back();
  if (v.size() >= 2 && v.front() == '$' && v.back() == '$') v = trim(v.substr(1, v.size() - 2));
  if (v.empty()) return std::nullopt;
  return v;
}

std::optional<std::string> extract_math_answer(const std::string& response) {
  if (auto b = last_boxed(response)) return b;
  if (auto m = minerva_final_answer(response)) return m;
  std::size_t p = response.rfind("answer is");
  if (p == std::string::npos) return std::nullopt;
  std::size_t s = p + 9, e = response.find('\n', s);
  std::string v = trim(response.substr(s, e == std::string::npos ? std::string::npos : e - s));
  if (!v.empty() && v[0] == ':') v = trim(v.substr(1));
  while (!v.empty() && v.back() == '.') v.pop_back();
  v = trim(v);
  if (v.size() >= 2 && v.front() == '$' && v.back() == '$') v = trim(v.substr(1, v.size() - 2));
  if (v.empty()) return std::nullopt;
  return v;
}

// ------------------------------------------------------------------ normalisation
std::string normalize_math_answer(const std::string& answer) {
  std::string s = trim(answer);
  if (auto b = last_boxed(s); b && s.rfind("\\boxed", 0) == 0) s = *b;
  replace_all(s, "\n", " ");
  replace_all(s, "\r", " ");
  // math delimiters
  for (auto [b, e] : {std::pair<const char*, const char*>{"\\(", "\\)"}, {"\\[", "\\]"}}) {
    std::string t = trim(s);
    if (t.rfind(b, 0) == 0 && t.size() >= 4 && t.compare(t.size() - 2, 2, e) == 0) s = t.substr(2, t.size() - 4);
  }
  // unicode
  replace_all(s, "\xe2\x88\x92", "-");         // minus sign
  replace_all(s, "\xe2\x88\x9e", "\\infty");   // infinity
  replace_all(s, "\xcf\x80", "\\pi");          // pi
  replace_all(s, "\xc2\xb0", "");              // degree sign
  replace_all(s, "\xc2\xb7", "\\cdot ");
  replace_all(s, "\xc3\x97", "\\times ");
  // spacing commands (a LaTeX line break "\\\\" is protected first)
  replace_all(s, "\\\\", "\x01");
  replace_all(s, "\\!", "");
  replace_all(s, "\\,", " ");
  replace_all(s, "\\;", " ");
  replace_all(s, "\\:", " ");
  replace_all(s, "\\ ", " ");
  replace_all(s, "~", " ");
  replace_cmd(s, "displaystyle", "");
  replace_cmd(s, "quad", " ");
  replace_cmd(s, "qquad", " ");
  replace_all(s, "\x01", "\\\\");
  // fractions and sizing
  replace_cmd(s, "dfrac", "\\frac");
  replace_cmd(s, "tfrac", "\\frac");
  replace_cmd(s, "dbinom", "\\binom");
  replace_cmd(s, "tbinom", "\\binom");
  for (const char* c : {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "big", "Big", "bigg"})
    replace_cmd(s, c, "");
  replace_all(s, "\\lbrace", "\\{");
  replace_all(s, "\\rbrace", "\\}");
  replace_cmd(s, "lvert", "|");
  replace_cmd(s, "rvert", "|");
  replace_cmd(s, "vert", "|");
  replace_cmd(s, "leqslant", "\\le");
  replace_cmd(s, "geqslant", "\\ge");
  replace_cmd(s, "neq", "\\ne");
  replace_cmd(s, "leq", "\\le");
  replace_cmd(s, "geq", "\\ge");
  // degrees, percent, dollars
  for (const char* d : {"^{\\circ}", "^\\circ", "\\circ", "\\degree"}) replace_all(s, d, "");
  replace_all(s, "\\%", "");
  replace_all(s, "%", "");
  replace_all(s, "\\$", "");
  replace_all(s, "$", "");
  // text-like wrappers become \text, units after a number go, the rest is unwrapped
  for (const char* c : {"mbox", "textbf", "textrm", "textit", "mathrm", "mathbf", "mathit", "operatorname", "rm"}) {
    std::string from = std::string("\\") + c + "{";
    replace_all(s, from, "\\text{");
  }
  replace_all(s, "\\text{ and }", ",");
  replace_all(s, "\\text{and}", ",");
  replace_all(s, "\\text{ or }", ",");
  replace_all(s, "\\text{or}", ",");
  s = trim(s);
  while (!s.empty() && s.back() == '.' && !(s.size() >= 2 && s[s.size() - 2] == '\\')) s = trim(s.substr(0, s.size() - 1));
  s = strip_units(s);
  unwrap_cmd(s, "text");
  unwrap_cmd(s, "boxed");
  s = trim(s);
  // trailing full stops
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) {
    if (s.size() >= 2 && s[s.size() - 2] == '\\') break;
    s.pop_back();
  }
  // thousands separators
  replace_all(s, "{,}", "");
  if (is_thousands_number(remove_spaces(s))) {
    s = remove_spaces(s);
    s.erase(std::remove(s.begin(), s.end(), ','), s.end());
  }
  // "x \in [2,5)" -> "[2,5)"
  {
    std::size_t p = s.find("\\in");
    if (p != std::string::npos && p <= 3 && (p + 3 >= s.size() || !std::isalpha(static_cast<unsigned char>(s[p + 3]))))
      s = trim(s.substr(p + 3));
  }
  s = fix_short_args(s);
  s = trim(s);
  // multiple choice "(C)" -> "C"
  if (s.size() == 3 && s[0] == '(' && s[2] == ')' && std::isupper(static_cast<unsigned char>(s[1]))) s = s.substr(1, 1);
  return s;
}

MathJudgement math_equivalent(const std::string& gold, const std::string& pred, std::chrono::milliseconds limit) {
  MathJudgement j;
  Deadline dl(std::chrono::duration_cast<std::chrono::microseconds>(limit));
  try {
    std::string g = normalize_math_answer(gold), p = normalize_math_answer(pred);
    if (p.empty()) return j;
    if (remove_spaces(g) == remove_spaces(p)) {
      j.equivalent = true;
      j.method = "string";
      return j;
    }
    Checker c{dl, ""};
    Ans ga = parse_answer(expand_pm(g)), pa = parse_answer(expand_pm(p));
    j.equivalent = c.same(ga, pa);
    static const char* names[] = {"expression", "tuple", "list", "set", "matrix", "equation", "relation", "interval", "text"};
    j.method = names[ga.kind];
    if (ga.kind == Ans::Seq && (ga.open == '[' || ga.close == ']')) j.method = "interval";
  } catch (const DeadlineExceeded&) {
    j.equivalent = false;
    j.timed_out = true;
    j.method = "timeout";
  }
  return j;
}

}  // namespace dsv3::eval
