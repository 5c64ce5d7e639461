#pragma once
// GSM8K answers: the gold number after "#### ", and a response's prediction, strict (the
// number after "The answer is" / "#### ") and flexible (strict if present, else the last
// number). Numbers are compared after removing thousands commas, '$' and units, and
// canonicalising "18.00" to "18".
#include <optional>
#include <string>

namespace dsv3::eval {

// The number after the first "#### " of a reference solution, canonicalised.
std::optional<std::string> gsm8k_gold(const std::string& solution);

struct Gsm8kPrediction {
  std::optional<std::string> strict;    // "The answer is N" (or "#### N")
  std::optional<std::string> flexible;  // strict, else the last number in the response
};
Gsm8kPrediction gsm8k_extract(const std::string& response);

// "1,234.50" -> "1234.5", "$18" -> "18", "-0" -> "0"; nullopt when s holds no number.
std::optional<std::string> canonical_number(const std::string& s);

}  // namespace dsv3::eval
