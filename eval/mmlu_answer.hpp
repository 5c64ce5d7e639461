#pragma once
// MMLU scoring: log-likelihood of the continuations " A".." D" (acc: argmax of the sum of
// log-probabilities; acc_norm: argmax after dividing by the continuation's length in bytes,
// as lm-evaluation-harness does), and letter extraction from a generated response.
#include <array>
#include <optional>
#include <string>

namespace dsv3::eval {

// The continuations scored for MMLU (target delimiter " " + letter).
inline constexpr std::array<const char*, 4> kMmluContinuations = {" A", " B", " C", " D"};

struct ChoiceScore {
  int pred = -1;       // argmax of log-likelihoods
  int pred_norm = -1;  // argmax of log-likelihood / byte length
  bool acc = false;
  bool acc_norm = false;
};
// loglik[k]: sum of log-probabilities of continuation k; byte_len[k]: its length in bytes.
ChoiceScore score_choices(const std::array<double, 4>& loglik, const std::array<int, 4>& byte_len, int gold);

// The letter a response picks: "Answer: C", "answer is (C)", "**C**", "C." / "C)" at the
// start, or a lone letter. nullopt when none is found.
std::optional<char> mmlu_extract_letter(const std::string& response);

}  // namespace dsv3::eval
