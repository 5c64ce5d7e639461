#pragma once
// MATH answers: extraction of the final answer from a solution or a model response, a
// normaliser (units, \text, \left/\right, dfrac/tfrac, spaces, trailing '.', ^\circ, ...)
// and an equivalence checker that goes beyond string match: exact rationals, radicals and
// pi, numbers within 1e-6 relative, intervals, tuples, sets and lists, matrices, equations
// and inequalities. Thread-safe; each check has its own time limit (no signals).
#include <chrono>
#include <optional>
#include <string>

namespace dsv3::eval {

// Content of the last \boxed{...} or \fbox{...} (nested braces included), or of "\boxed X".
std::optional<std::string> last_boxed(const std::string& text);
// "Final Answer: The final answer is X. I hope it is correct." (Minerva format) -> X.
std::optional<std::string> minerva_final_answer(const std::string& text);
// The answer a response gives: last \boxed{}, else the Minerva final-answer line, else the
// text after the last "answer is".
std::optional<std::string> extract_math_answer(const std::string& response);

// Canonical string form used for the string comparison step.
std::string normalize_math_answer(const std::string& answer);

struct MathJudgement {
  bool equivalent = false;
  bool timed_out = false;
  std::string method;  // "string", "expression", "tuple", "interval", "set", "list", "matrix", "equation", ...
};

// Is `pred` the same answer as `gold`? Both are bare answers (not whole solutions).
MathJudgement math_equivalent(const std::string& gold, const std::string& pred,
                              std::chrono::milliseconds limit = std::chrono::milliseconds(2000));

}  // namespace dsv3::eval
