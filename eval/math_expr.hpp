#pragma once
// A small LaTeX math-expression parser and evaluator for answer checking: numbers (exact
// rationals where possible), variables, + - * / ^, implicit products, \frac, \sqrt[n]{},
// \pi, e, i, \infty, trig/log functions, |x|, n!, \binom. Values are complex long doubles
// alongside an exact rational when the expression is rational.
#include <complex>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eval/deadline.hpp"

namespace dsv3::eval {

struct Rational {
  std::int64_t num = 0, den = 1;  // den > 0, reduced
};

struct ExprNode;
using ExprPtr = std::shared_ptr<const ExprNode>;

// Parses `latex` (already normalised); returns nullptr when it is not an expression this
// parser understands (text, relations, unbalanced brackets, ...).
ExprPtr parse_expr(const std::string& latex, Deadline& dl);

// Variables used by the expression (e.g. "x", "a_1").
std::set<std::string> expr_variables(const ExprPtr& e);

struct ExprValue {
  std::complex<long double> z;
  std::optional<Rational> exact;  // set when the value is an exact rational
  bool from_decimal = false;      // a decimal literal took part (tolerance applies)
  bool overflow = false;          // a finite computation left the long double range
};

ExprValue eval_expr(const ExprPtr& e, const std::map<std::string, std::complex<long double>>& vars, Deadline& dl);

// True when the two expressions agree: exactly for rationals, within 1e-6 relative
// otherwise, at several points when they have variables.
bool expr_equal(const ExprPtr& a, const ExprPtr& b, Deadline& dl);

// Numbers a and b agree within 1e-6 relative (1e-9 absolute near zero); equal infinities agree.
bool numbers_close(std::complex<long double> a, std::complex<long double> b);

}  // namespace dsv3::eval
