#pragma once
// Prompt templates and few-shot exemplars (pinned by the golden prompt tests).
#include <string>
#include <vector>

#include "datasets/mmlu.hpp"

namespace dsv3::eval {

struct Exemplar {
  std::string question;
  std::string answer;  // full worked answer as it appears in the prompt
};

// The 8 chain-of-thought exemplars of Wei et al. (2022), written from the paper's appendix.
const std::vector<Exemplar>& gsm8k_cot_exemplars();
// The 4 Minerva exemplars (Lewkowycz et al. 2022, appendix), written from the paper.
const std::vector<Exemplar>& minerva_math_exemplars();

// "The following are multiple choice questions (with answers) about <subject words>.\n\n";
// original = hendrycks/test (a leading space on the subject, so two spaces).
std::string mmlu_header(const std::string& subject, bool original);
// "<question>\nA. ..\nB. ..\nC. ..\nD. ..\nAnswer:" (+ " X\n\n" when with_answer).
std::string mmlu_question_block(const datasets::MmluItem& it, bool with_answer);

std::string gsm8k_cot_prompt(const std::string& question, int shots);
std::string minerva_math_prompt(const std::string& problem, int shots);

// Chat variants (0-shot, instructions ask for a final line or a boxed answer).
std::string mmlu_chat_prompt(const datasets::MmluItem& it);
std::string gsm8k_chat_prompt(const std::string& question);
std::string math_chat_prompt(const std::string& problem);
std::string humaneval_chat_prompt(const std::string& code_prompt);

}  // namespace dsv3::eval
