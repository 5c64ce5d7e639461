// Golden prompt tests: the rendered templates are pinned byte for byte (and by sha256).
#include <gtest/gtest.h>

#include "datasets/sha256.hpp"
#include "eval/prompts.hpp"
#include "eval/task.hpp"
#include "model/errors.hpp"
#include "support/test_support.hpp"

using namespace dsv3::eval;

namespace {
std::filesystem::path samples() { return dsv3::test::source_dir() / "datasets" / "samples"; }
}  // namespace

TEST(Prompts, Mmlu5ShotOriginalHeader) {
  auto docs = build_docs(find_task("mmlu"), samples());
  ASSERT_EQ(docs.size(), 5u);
  const std::string expected =
      "The following are multiple choice questions (with answers) about  astronomy.\n\n"
      "Which planet is closest to the Sun?\nA. Venus\nB. Mercury\nC. Earth\nD. Mars\nAnswer: B\n\n"
      "What is the name of our galaxy?\nA. Andromeda\nB. Triangulum\nC. Milky Way\nD. Sombrero\nAnswer: C\n\n"
      "Which body does the Moon orbit?\nA. Earth\nB. Mars\nC. The Sun\nD. Jupiter\nAnswer: A\n\n"
      "Which planet has the most prominent ring system?\nA. Mars\nB. Mercury\nC. Venus\nD. Saturn\nAnswer: D\n\n"
      "What kind of object is the Sun?\nA. A planet\nB. A star\nC. A comet\nD. A moon\nAnswer: B\n\n"
      "What is the largest planet in the Solar System?\nA. Earth\nB. Saturn\nC. Jupiter\nD. Neptune\nAnswer:";
  EXPECT_EQ(docs[0].prompt, expected);
  EXPECT_EQ(docs[0].prompt_sha256, dsv3::datasets::sha256_hex(expected));
  EXPECT_EQ(docs[0].choices, (std::vector<std::string>{" A", " B", " C", " D"}));
  EXPECT_EQ(docs[0].gold_index, 2);
  TaskOptions lm;
  lm.mmlu_header = "single-space";
  lm.shots = 0;
  auto zero = build_docs(find_task("mmlu"), samples(), lm);
  EXPECT_EQ(zero[2].prompt,
            "The following are multiple choice questions (with answers) about high school mathematics.\n\n"
            "What is the greatest common divisor of 12 and 18?\nA. 2\nB. 3\nC. 6\nD. 9\nAnswer:");
}

TEST(Prompts, Gsm8kCot8ShotAndShotCount) {
  auto docs = build_docs(find_task("gsm8k"), samples());
  ASSERT_EQ(docs.size(), 3u);
  const std::string& p = docs[0].prompt;
  EXPECT_EQ(p.rfind("Q: There are 15 trees in the grove.", 0), 0u);
  EXPECT_NE(p.find("\nA: There are 15 trees originally. Then there were 21 trees after some more were planted. So there "
                   "must have been 21 - 15 = 6. The answer is 6.\n\nQ: If there are 3 cars"),
            std::string::npos);
  const std::string tail =
            "The answer is 8.\n\nQ: A baker makes 24 muffins and sells 3 boxes of 6 muffins each. How many muffins are "
            "left?\nA:";
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  std::size_t qs = 0;
  for (std::size_t k = 0; (k = p.find("Q: ", k)) != std::string::npos; ++k) ++qs;
  EXPECT_EQ(qs, 9u);
  EXPECT_EQ(docs[0].prompt_sha256, "8da677a8e320cf0985dab5f7e702041ff5ff67a633671249b38ee38d50ae75b8");
  TaskOptions two;
  two.shots = 2;
  auto d2 = build_docs(find_task("gsm8k"), samples(), two);
  EXPECT_EQ(d2[0].prompt.find("Leah"), std::string::npos);
  EXPECT_NE(d2[0].prompt.find("3 cars"), std::string::npos);
  TaskOptions nine;
  nine.shots = 9;
  EXPECT_THROW(build_docs(find_task("gsm8k"), samples(), nine), dsv3::InputError);
}

TEST(Prompts, MinervaMath4Shot) {
  auto docs = build_docs(find_task("math"), samples());
  ASSERT_EQ(docs.size(), 3u);
  const std::string& p = docs[0].prompt;
  EXPECT_EQ(p.rfind("Problem:\nFind the domain of the expression $\\frac{\\sqrt{x-2}}{\\sqrt{5-x}}$.\n\nSolution:\n", 0), 0u);
  EXPECT_NE(p.find("Final Answer: The final answer is $24$. I hope it is correct.\n\nProblem:\nTerrell"), std::string::npos);
  const std::string tail = "I hope it is correct.\n\nProblem:\nWhat is $\\frac{1}{2} + \\frac{1}{3}$?\n\nSolution:";
  EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
  EXPECT_EQ(docs[0].prompt_sha256, "05eee3b4cf0df66921206fc9c42a79b6dbf7f34c211eaa7ecbd9fc2c1a9570d3");
  EXPECT_EQ(docs[0].gold, "\\frac{5}{6}");
  EXPECT_EQ(docs[0].stop, (std::vector<std::string>{"Problem:"}));
}

TEST(Prompts, ChatVariantsAndHumanEval) {
  auto m = build_docs(find_task("math500"), samples());
  EXPECT_EQ(m[1].prompt,
            "Solve the following math problem. Reason step by step, and put your final answer within \\boxed{}.\n\n"
            "Solve $x^2 - 5x + 6 = 0$. Enter all solutions, separated by commas.");
  EXPECT_EQ(m[1].gold, "2, 3");
  auto g = build_docs(find_task("gsm8k_chat"), samples());
  EXPECT_NE(g[0].prompt.find("'The answer is N'"), std::string::npos);
  auto c = build_docs(find_task("mmlu_chat"), samples());
  EXPECT_NE(c[0].prompt.find("'Answer: X'"), std::string::npos);
  EXPECT_NE(c[0].prompt.find("\nA) Earth\nB) Saturn"), std::string::npos);
  auto h = build_docs(find_task("humaneval"), samples());
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].prompt.rfind("def add(a: int, b: int) -> int:\n", 0), 0u);
  EXPECT_EQ(h[0].stop, (std::vector<std::string>{"\nclass", "\ndef", "\n#", "\nif", "\nprint"}));
  EXPECT_THROW(find_task("nope"), dsv3::InputError);
  EXPECT_EQ(task_prompt_hash(h), task_prompt_hash(build_docs(find_task("humaneval"), samples())));
}

TEST(Prompts, ScoreResponse) {
  auto& t = find_task("gsm8k");
  auto docs = build_docs(t, samples());
  auto s = score_response(t, docs[2], "1250 + 375 = 1,625 books. The answer is 1,625.");
  EXPECT_EQ(s.metrics["exact_match_strict"], 1);
  EXPECT_EQ(s.metrics["exact_match_flexible"], 1);
  s = score_response(t, docs[2], "They have 1625 books now");
  EXPECT_EQ(s.metrics["exact_match_strict"], 0);
  EXPECT_EQ(s.metrics["exact_match_flexible"], 1);
  auto& m = find_task("math500");
  auto md = build_docs(m, samples());
  EXPECT_EQ(score_response(m, md[1], "so $x \\in \\{3, 2\\}$, i.e. \\boxed{3,2}").metrics["exact_match"], 1);
  EXPECT_EQ(score_response(m, md[2], "\\boxed{(1,\\infty)}").metrics["exact_match"], 0);
}
