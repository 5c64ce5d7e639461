// GSM8K extraction, MMLU letters and scoring, MATH extraction, normalisation and equivalence.
#include <gtest/gtest.h>

#include <thread>

#include "eval/gsm8k_answer.hpp"
#include "eval/math_answer.hpp"
#include "eval/mmlu_answer.hpp"

using namespace dsv3::eval;

TEST(Gsm8k, GoldAndPredictions) {
  EXPECT_EQ(*gsm8k_gold("She pays 2*3=<<2*3=6>>6.\n#### 6"), "6");
  EXPECT_EQ(*gsm8k_gold("...\n#### 1,625"), "1625");
  EXPECT_EQ(*gsm8k_gold("#### -3"), "-3");
  EXPECT_FALSE(gsm8k_gold("no marker 5").has_value());
  auto p = gsm8k_extract("So 5 + 4 = 9. The answer is 18.");
  EXPECT_EQ(*p.strict, "18");  // not "1" (the lm-eval trailing-dot quirk)
  EXPECT_EQ(*p.flexible, "18");
  p = gsm8k_extract("The answer is $1,234.50 dollars");
  EXPECT_EQ(*p.strict, "1234.5");
  p = gsm8k_extract("I think she has 3 apples and 12 pears, so 15 pieces of fruit.");
  EXPECT_FALSE(p.strict.has_value());
  EXPECT_EQ(*p.flexible, "15");
  p = gsm8k_extract("The loss is -$7.");
  EXPECT_EQ(*p.flexible, "-7");
  p = gsm8k_extract("The answer is 18.00");
  EXPECT_EQ(*p.strict, "18");
  EXPECT_FALSE(gsm8k_extract("no numbers here").flexible.has_value());
  EXPECT_EQ(*canonical_number("007"), "7");
  EXPECT_EQ(*canonical_number("-0.0"), "0");
}

TEST(Mmlu, LetterExtractionAndLoglikScoring) {
  EXPECT_EQ(*mmlu_extract_letter("Let me think. B is wrong.\nAnswer: C"), 'C');
  EXPECT_EQ(*mmlu_extract_letter("The answer is (D)."), 'D');
  EXPECT_EQ(*mmlu_extract_letter("**Answer: A**"), 'A');
  EXPECT_EQ(*mmlu_extract_letter("B. Paris"), 'B');
  EXPECT_EQ(*mmlu_extract_letter("\\boxed{C}"), 'C');
  EXPECT_FALSE(mmlu_extract_letter("A lot of things are unclear").has_value());  // the article "A"
  EXPECT_FALSE(mmlu_extract_letter("I do not know").has_value());
  auto s = score_choices({-3.0, -1.0, -2.0, -5.0}, {2, 2, 2, 2}, 1);
  EXPECT_EQ(s.pred, 1);
  EXPECT_TRUE(s.acc);
  EXPECT_TRUE(s.acc_norm);
  s = score_choices({-4.0, -3.0, -2.0, -5.0}, {8, 2, 2, 2}, 0);  // length normalisation changes the pick
  EXPECT_EQ(s.pred, 2);
  EXPECT_EQ(s.pred_norm, 0);
  EXPECT_FALSE(s.acc);
  EXPECT_TRUE(s.acc_norm);
}

TEST(MathExtract, BoxedFboxMinervaAnswerIs) {
  EXPECT_EQ(*last_boxed("a \\boxed{1} then \\boxed{\\frac{1}{\\sqrt{2}}}."), "\\frac{1}{\\sqrt{2}}");
  EXPECT_EQ(*last_boxed("\\boxed{1} \\fbox{x^{2}}"), "x^{2}");
  EXPECT_EQ(*last_boxed("$\\boxed 5$"), "5");
  EXPECT_FALSE(last_boxed("\\boxed{unbalanced").has_value());
  EXPECT_FALSE(last_boxed("nothing").has_value());
  EXPECT_EQ(*extract_math_answer("Final Answer: The final answer is $-\\frac{2}{3}$. I hope it is correct."), "-\\frac{2}{3}");
  EXPECT_EQ(*extract_math_answer("So the answer is $42$."), "42");
}

struct Case {
  const char* gold;
  const char* pred;
  bool equal;
};

class MathEquiv : public ::testing::TestWithParam<Case> {};

TEST_P(MathEquiv, Judges) {
  auto c = GetParam();
  auto j = math_equivalent(c.gold, c.pred);
  EXPECT_EQ(j.equivalent, c.equal) << c.gold << " vs " << c.pred << " (" << j.method << ")";
  EXPECT_FALSE(j.timed_out);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MathEquiv,
    ::testing::Values(
        // normalisation
        Case{"\\frac{1}{2}", "\\dfrac12", true}, Case{"\\frac12", "\\tfrac{1}{2}", true}, Case{"0.5", "\\frac{1}{2}", true},
        Case{"10", "10.", true}, Case{"10", "10\\%", true}, Case{"30", "30^\\circ", true}, Case{"30", "30^{\\circ}", true},
        Case{"5", "5\\text{ cm}", true}, Case{"12", "12 square units", true}, Case{"4", "\\mbox{4 inches}", false},
        Case{"\\left(1,2\\right)", "(1, 2)", true}, Case{"5", "x = 5", true}, Case{"x=5", "5", true},
        Case{"\\text{(C)}", "C", true}, Case{"\\text{Monday}", "monday", true}, Case{"1000", "1,000", true},
        Case{"10000", "10{,}000", true}, Case{"\\sqrt3", "\\sqrt{3}", true}, Case{"\\$18.90", "18.90", true},
        // numbers
        Case{"\\frac{6}{4}", "\\frac{3}{2}", true}, Case{"\\frac{1}{3}", "0.333", false}, Case{"\\frac{1}{3}", "0.3333333", true},
        Case{"2^{40}", "1099511627776", true}, Case{"2^{40}", "1099511627777", false},
        Case{"\\frac{1}{2004!}", "\\frac{1}{2006!}", false}, Case{"-\\frac{2}{3}", "\\frac{-2}{3}", true},
        Case{"2\\frac{1}{2}", "\\frac{5}{2}", true}, Case{"1", "2", false},
        // radicals, pi, complex
        Case{"2\\sqrt{3}", "\\sqrt{12}", true}, Case{"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt3", true},
        Case{"\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", true}, Case{"\\sqrt[3]{-8}", "-2", true},
        Case{"2\\pi", "6.283185307", true}, Case{"\\pi", "3.14", false}, Case{"3+4i", "4i+3", true},
        Case{"\\sqrt{2}", "\\sqrt{3}", false},
        // expressions with variables
        Case{"x^2+2x+1", "(x+1)^2", true}, Case{"x^2+2x+1", "(x-1)^2", false}, Case{"\\frac{a}{b}", "a/b", true},
        Case{"2\\sin x \\cos x", "\\sin 2x", false}, Case{"\\log_2 8", "3", true},
        // intervals, tuples, sets, lists
        Case{"[2,5)", "x \\in [2, 5)", true}, Case{"[2,5)", "(2,5]", false}, Case{"(1,2)", "(2,1)", false},
        Case{"(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,0)", true},
        Case{"(-\\infty, 0]", "(-\\infty, 0)", false}, Case{"\\{1,2\\}", "\\{2, 1\\}", true}, Case{"1, -2", "-2,1", true},
        Case{"1, -2", "1, 2", false}, Case{"1, 2, 3", "1, 2", false}, Case{"(3, \\frac{\\pi}{2})", "(3,\\pi/2)", true},
        Case{"\\pm 2", "2, -2", true},
        // matrices
        Case{"\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", true},
        Case{"\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}", "\\begin{bmatrix} 1 & 0 \\\\ 0 & 0.999 \\end{bmatrix}", false},
        Case{"\\begin{pmatrix} 1/2 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 2 \\end{pmatrix}", true},
        // equations and inequalities
        Case{"y = 2x + 3", "2x - y + 3 = 0", true}, Case{"y = 2x + 3", "y = 3x + 2", false},
        Case{"x \\le 3", "3 \\ge x", true}, Case{"x < 3", "x \\le 3", false},
        // text
        Case{"\\text{Evelyn}", "\\text{Evelny}", false}, Case{"\\text{yes}", "no", false}));

TEST(MathEquivLimits, TimeLimitWithoutSignals) {
  std::string big = "1";
  for (int k = 0; k < 20000; ++k) big += "+x^{2}";
  auto t0 = std::chrono::steady_clock::now();
  auto j = math_equivalent(big, big + "+1", std::chrono::milliseconds(1));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(j.timed_out);
  EXPECT_FALSE(j.equivalent);
  EXPECT_LT(took, std::chrono::seconds(5));  // generous: the point is that it returns at all
  // deep nesting is refused, not a stack overflow
  std::string deep(100000, '(');
  EXPECT_FALSE(math_equivalent(deep + "1" + std::string(100000, ')'), "1").equivalent);
}

TEST(MathEquivLimits, ThreadSafe) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt3"}, {"x^2+2x+1", "(x+1)^2"}, {"[2,5)", "(2,5]"}, {"1, -2", "-2,1"}};
  std::vector<bool> serial;
  for (auto& [g, p] : cases) serial.push_back(math_equivalent(g, p).equivalent);
  std::vector<std::thread> ts;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int rep = 0; rep < 200; ++rep)
        for (std::size_t k = 0; k < cases.size(); ++k)
          if (math_equivalent(cases[k].first, cases[k].second).equivalent != serial[k]) ++mismatches;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(mismatches, 0);
}
