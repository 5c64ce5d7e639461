#!/usr/bin/env python3
"""Writes the tokenizer golden corpus (tests/data/tokenizer/corpus.jsonl: one JSON string a
line) and the chat conversations (tests/data/tokenizer/chats.jsonl). Deterministic: the
same files every run. HF's ids for them come from scripts/tokenizer/hf_goldens.py.
Usage (repository root): python3 scripts/tokenizer/make_corpus.py
"""
import json
import random

rng = random.Random(20241226)
texts = []


def add(*items):
    texts.extend(items)


# --- languages --------------------------------------------------------------------------
add("Hello, world!",
    "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we'll see—won't we?",
    "Mr. O'Neil's students didn't know they'd already won: \"I've\" and 'you're' contractions.",
    "I'M SHOUTING. i'm not. WE'LL SEE. you've, he's, they're, I'd, we'VE",
    "DeepSeek-V3 is a Mixture-of-Experts (MoE) language model with 671B total parameters, 37B activated per token.",
    "你好，世界！こんにちは",
    "深度求索（DeepSeek）发布了新的混合专家模型，总参数量为6710亿，每个词元激活370亿参数。",
    "我们在14.8万亿个高质量词元上进行了预训练，随后进行监督微调和强化学习阶段。",
    "日本語のテキスト：東京は日本の首都です。カタカナ、ひらがな、漢字が混ざっています。",
    "ｶﾀｶﾅ（半角）とカタカナ（全角）、ＡＢＣ１２３（全角英数）。",
    "한국어 텍스트: 서울은 대한민국의 수도입니다. 안녕하세요!",
    "العربية: مرحبا بالعالم! هذه جملة باللغة العربية مع أرقام ١٢٣٤٥ و 12345.",
    "עברית: שלום עולם! זה טקסט בעברית.",
    "Русский текст: Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Українська: Ґанок, їжак, європейський. Беларуская: Ўсё добра.",
    "Ελληνικά: Γειά σου Κόσμε! Η γρήγορη καφέ αλεπού.",
    "हिन्दी: नमस्ते दुनिया! यह एक परीक्षण वाक्य है।",
    "ภาษาไทย: สวัสดีชาวโลก นี่คือประโยคทดสอบ",
    "Tiếng Việt: Xin chào thế giới! Đây là câu thử nghiệm có dấu.",
    "Deutsch: Größenmaßstäbe, Übergrößen und Straße. Français: garçon, élève, où, naïve, cœur.",
    "Español: ¿Dónde está la biblioteca? ¡Olé! Português: ação, coração, pão.",
    "Mixed: English 中文 日本語 한국어 العربية Русский 123 ４５６ 七八九 🚀",
    "中文数字：一二三四五六七八九十百千万亿；罗马数字：Ⅰ Ⅱ Ⅲ Ⅳ；带圈：① ② ③。",
    "CJK boundaries: 漢字一龥 龦 (U+9FA6 is outside the Split range) 〇 々 ぁゟ゠ヿ ㇰ",
    )

# --- code ---------------------------------------------------------------------------------
add("def f(x):\n    return x**2",
    "import numpy as np\n\n\nclass Model(nn.Module):\n    def __init__(self, dim: int = 7168) -> None:\n        super().__init__()\n        self.w = nn.Parameter(torch.zeros(dim))\n\n    def forward(self, x):\n        # comment with trailing spaces   \n        return x @ self.w  # matmul\n",
    "#include <cstdio>\nint main(int argc, char** argv) {\n\tfor (int i = 0; i < argc; ++i) {\n\t\tstd::printf(\"%s\\n\", argv[i]);\n\t}\n\treturn 0;\n}\n",
    "function add(a, b) {\r\n  return a + b; // CRLF line endings\r\n}\r\nconsole.log(add(1, 2));\r\n",
    "SELECT id, name FROM users WHERE age >= 18 AND email LIKE '%@example.com' ORDER BY id DESC;",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}",
    "<html>\n  <body>\n    <div class=\"a b\" id='x'>&amp; &lt;tag&gt; &#x1F600;</div>\n  </body>\n</html>",
    "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\\\"c\"}}",
    "$ git commit -m 'fix: off-by-one' && make -j8 2>&1 | tee build.log\n[ 42%] Building CXX object",
    "if __name__ == '__main__':\n\tmain()\n\n\n\n\t\t\n",
    "x=1;y=2;z=x+y;print(f'{z:>10.3f}');a[i][j]+=b[j][i]",
    "    deeply\n        indented\n            code\n                block\n",
    "~/path/to/file.txt C:\\Windows\\System32 https://example.com/a?b=c&d=e#frag user@host.org",
    "@decorator\n@property\ndef __repr__(self) -> str: ...\n",
    "!!!???...,,,;;;:::---___***&&&^^^%%%$$$###@@@",
    "a.b,c;d:e!f?g'h\"i(j)k[l]m{n}o<p>q|r\\s/t`u~v",
    "!abc ?Def .Ghi ,jkl @Mno #pqr $stu %vwx ^yz &ABC *DEF",
    )

# --- numbers ------------------------------------------------------------------------------
for n in range(1, 31):
    add("".join(str(rng.randint(0, 9)) for _ in range(n)))
add("The year 2024 has 12345678 digits.",
    "1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890",
    "3.14159265358979 -2.71828 +1e-10 6.022e23 0x1F 0b1010 1_000_000 1,000,000.00",
    "Phone: +1 (555) 123-4567; ISBN 978-3-16-148410-0; date 2024-12-26T12:34:56Z",
    "Arabic-Indic ٠١٢٣٤٥٦٧٨٩ Devanagari ०१२३४५६७८९ fullwidth ０１２３４５６７８９ superscript ²³¹ fractions ½ ¾",
    "x1y22z333w4444v55555", "v1.2.3-rc.4+build.567", "$1,234.56 €99,99 ¥10000 £5 ₹100")

# --- whitespace ---------------------------------------------------------------------------
add("  leading spaces\n\nnew lines\r\n",
    " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n\n", "\r\n\r\n", " \n", "\n ", " \n ",
    "a b  c   d    e     f      g       h        i         j          k",
    "trailing spaces   ", "   leading", "\ttab\tseparated\tvalues\t", "mixed \t \t whitespace",
    "line1\nline2\r\nline3\rline4\n\rline5", "para1\n\n\npara2\n\n\n\n\npara3",
    "spaces before newline   \n   and after", "x" + " " * 40 + "y", "\n" * 25, " " * 100,
    "\u00a0non-breaking\u00a0space\u2003em\u2009thin\u3000ideographic\u202fnarrow",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom", "mongolian\u180evowel sep", "next\u0085line",
    "form\x0cfeed\x0bvtab", "control\x00\x01\x02\x1b[31mred\x1b[0m\x7f",
    "  12  34\n  56", "\n\n123\n\n", " \t\n\r\n \t")

# --- emoji --------------------------------------------------------------------------------
add("🤖🎉🚀 emoji", "👨‍👩‍👧‍👦 family ZWJ", "👍🏽 skin tone", "🇺🇸🇯🇵🇨🇳 flags", "1️⃣ #️⃣ keycaps",
    "❤️ ✔️ ☺️ variation selectors", "🏳️‍🌈 🏴‍☠️", "Text🙂with😀no😃spaces", "🧑🏻‍💻 技术 🧑🏿‍🔬",
    "Unicode 15/16: 🫨 🩷 🫎 🪭 🪿 (2023) and 🫩 🫆 🪾 🫜 (2024); Kawi 𑼄𑼅 digits 𑽐𑽑 ; CJK-I 𮯰𮯱 ; 𑛐")

# --- LaTeX --------------------------------------------------------------------------------
add(r"$$\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt{\pi}}{2}$$",
    r"\begin{align} a^2 + b^2 &= c^2 \\ \sum_{i=1}^{n} i &= \frac{n(n+1)}{2} \end{align}",
    r"The answer is $\boxed{\dfrac{3}{4}}$. Since $x \in \mathbb{R}$ and $\|x\|_2 \leq 1$, we have $\alpha\beta\gamma$.",
    r"\left( \frac{a}{b} \right)^{-1} \cdot \mathbf{v}^\top \mathbf{W}_{ij} \quad \text{for } i \neq j",
    "∀x∈ℝ, ∃y: x² + y² ≥ 0; ∑ᵢ aᵢ ≈ ∫ f(x) dx; √2 ≠ π; A ⊆ B ∪ C ∩ D; ¬p ∧ q ∨ r → s ⇔ t",
    r"\sqrt[3]{x} + \log_2(8) = \lim_{n\to\infty} \left(1 + \frac{1}{n}\right)^n")

# --- special tokens in text ----------------------------------------------------------------
specials = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>", "<｜Assistant｜>",
            "<|EOT|>", "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>", "<｜tool▁calls▁begin｜>",
            "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁outputs▁begin｜>",
            "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>", "<｜tool▁sep｜>",
            "<｜place▁holder▁no▁0｜>", "<｜place▁holder▁no▁42｜>", "<｜place▁holder▁no▁799｜>"]
add("".join(specials), " ".join(specials), "\n".join(specials))
for s in specials:
    add("text" + s + "text", " " + s + " ", "\n" + s + "\n", s + s, "123" + s + "456")
add("<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>",
    "<｜User｜", "｜User｜>", "<|User|>", "<｜user｜>", "< ｜User｜>", "<<｜User｜>>", "<｜User｜><｜User｜",
    "<｜place▁holder▁no▁800｜>", "<｜place▁holder▁no▁｜>", "<|EOT|><|EOT|><|EO", "prefix<|EOT|>suffix",
    "<｜fim▁begin｜>def f():\n    <｜fim▁hole｜>\n    return 1<｜fim▁end｜>")

# --- assorted -------------------------------------------------------------------------------
add("Combining: e\u0301 a\u0308 n\u0303 \u0915\u093f q\u0323\u0307 Z\u0335\u0321\u0322a\u0337l\u0336g\u0338o",
    "Private use \ue000\uf8ff, supplementary 𝒜𝓑𝔠 𝟘𝟙𝟚, ancient 𐌰𐌱𐌲, Linear B 𐀀𐀁",
    "Quotes: “double” ‘single’ «guillemets» „low“ 「括弧」『二重』【隅付き】",
    "Dashes – — ― and ellipsis … bullets • ‣ ◦ and arrows ← → ↑ ↓ ⇒",
    "Currency ¢ £ ¤ ¥ ₩ ₪ ₫ € ₹ ₽ ₿ and marks © ® ™ ° § ¶ † ‡",
    "Box ┌─┬─┐ │ │ │ └─┴─┘ blocks ░▒▓█ braille ⠁⠃⠉",
    "ＡＢＣ ａｂｃ！？ full width",
    "Tab\tseparated\tand\u3000ideographic\u3000space and\u00a0nbsp",
    "A" * 300, "ab" * 200, "😀" * 50, "中" * 120, "-" * 80, "=" * 33 + "\n" + "#" * 17,
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
    "Supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "CamelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_CASE __dunder__",
    "", "a", "Z", "0", "!", "中", "😀")

# random mixes of the above material (deterministic)
alphabet = [" ", "  ", "\n", "\r\n", "\t", "a", "Ab", "the", " The", "123", "4567", "中文", "ひらがな", "カタカナ", "한글",
            "кот", "عربي", "😀", "👍🏽", ".", ",", "!?", "(", ")", "\\frac", "$", "{", "}", "’", "—", "\u00a0", "\u3000",
            "<｜User｜>", "<|EOT|>", "e\u0301", "١٢٣", "ＡＢ", "_", "__init__", "0.5", "-", "'s", "'LL"]
for _ in range(60):
    add("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))

with open("tests/data/tokenizer/corpus.jsonl", "w", encoding="utf-8") as f:
    for t in texts:
        f.write(json.dumps(t, ensure_ascii=False) + "\n")

# --- conversations ---------------------------------------------------------------------------
def call(name, args, type_="function"):
    return {"type": type_, "function": {"name": name, "arguments": args}}


chats = [
    ([{"role": "user", "content": "Hi"}], True),
    ([{"role": "user", "content": "Hi"}], False),
    ([{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi"}], True),
    ([{"role": "system", "content": "A"}, {"role": "system", "content": "B"}, {"role": "user", "content": "q"}], True),
    ([{"role": "system", "content": "You are a math tutor."}, {"role": "user", "content": "What is 2+2?"},
      {"role": "assistant", "content": "2+2 = 4."}, {"role": "user", "content": "And 3×3?"}], True),
    ([{"role": "user", "content": "多轮对话：你好"}, {"role": "assistant", "content": "你好！有什么可以帮你？"},
      {"role": "user", "content": "写一首诗。"}, {"role": "assistant", "content": "床前明月光，\n疑是地上霜。"}], False),
    ([{"role": "user", "content": "Code?"}, {"role": "assistant", "content": "```python\ndef f():\n    return 1\n```"}], True),
    ([{"role": "user", "content": "  spaces  \n\n and newlines \r\n"}, {"role": "assistant", "content": "\n"}], True),
    ([{"role": "user", "content": ""}, {"role": "assistant", "content": ""}], True),
    ([{"role": "assistant", "content": "I start."}, {"role": "user", "content": "ok"}], True),
    ([{"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": None, "tool_calls": [call("get_weather", "{\"city\": \"Paris\"}")]},
      {"role": "tool", "content": "{\"temp\": 21}"},
      {"role": "assistant", "content": "It is 21 °C in Paris."}], True),
    ([{"role": "user", "content": "Two calls"},
      {"role": "assistant", "content": None,
       "tool_calls": [call("a", "{}"), call("b", "{\"x\": [1, 2]}"), call("c", "{\"s\": \"中文\"}")]},
      {"role": "tool", "content": "ra"}, {"role": "tool", "content": "rb"}, {"role": "tool", "content": "rc"}], True),
    ([{"role": "user", "content": "q1"},
      {"role": "assistant", "content": None, "tool_calls": [call("f", "{\"n\": 1}")]},
      {"role": "tool", "content": "r1"},
      {"role": "assistant", "content": "a1"},
      {"role": "user", "content": "q2"},
      {"role": "assistant", "content": None, "tool_calls": [call("f", "{\"n\": 2}")]},
      {"role": "tool", "content": "r2"},
      {"role": "assistant", "content": "a2"}], True),
    ([{"role": "user", "content": "tool then user"},
      {"role": "assistant", "content": None, "tool_calls": [call("f", "{}")]},
      {"role": "tool", "content": "out"},
      {"role": "user", "content": "next"}], True),
    ([{"role": "system", "content": "sys"}, {"role": "user", "content": "u"},
      {"role": "assistant", "content": None, "tool_calls": [call("f", "{}")]},
      {"role": "tool", "content": "out"}], False),
    ([{"role": "system", "content": "You can call tools."}, {"role": "user", "content": "search"},
      {"role": "assistant", "content": None, "tool_calls": [call("search", "{\"q\": \"deepseek v3\"}", "custom")]},
      {"role": "tool", "content": "result 1\nresult 2"}], True),
    ([{"role": "user", "content": "Special <｜User｜> inside <|EOT|> content"},
      {"role": "assistant", "content": "Reply with <｜end▁of▁sentence｜> inside"}], True),
    ([{"role": "user", "content": "emoji 🤖 and math $\\frac{1}{2}$"}, {"role": "developer", "content": "ignored role"}], True),
    ([{"role": "system", "content": "only system"}], True),
    ([], True),
]
with open("tests/data/tokenizer/chats.jsonl", "w", encoding="utf-8") as f:
    for msgs, gen in chats:
        f.write(json.dumps({"messages": msgs, "add_generation_prompt": gen}, ensure_ascii=False) + "\n")
print(len(texts), "texts,", len(chats), "chats")
