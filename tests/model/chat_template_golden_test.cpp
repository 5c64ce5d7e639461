// Byte parity of render_chat with transformers' apply_chat_template (the template text of
// the released tokenizer_config.json), on tests/data/tokenizer/chats.jsonl; HF's output in
// chats_hf.jsonl (scripts/tokenizer/hf_goldens.py, run on the GPU machine).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "model/chat_template.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "model/tokenizer.hpp"
#include "support/test_support.hpp"

using nlohmann::json;

namespace {
std::vector<json> read_jsonl(const std::string& name) {
  std::istringstream in(dsv3::test::read_file(dsv3::test::test_data_dir() / "tokenizer" / name));
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}
}  // namespace

TEST(ChatTemplateGolden, RenderedTextAndIdsMatchTransformers) {
  auto tok = dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path());
  auto chats = read_jsonl("chats.jsonl");
  auto hf = read_jsonl("chats_hf.jsonl");
  ASSERT_EQ(chats.size(), hf.size());
  size_t compared = 0;
  for (size_t i = 0; i < chats.size(); ++i) {
    auto messages = dsv3::model::chat_messages_from_json(chats[i]["messages"], "chats.jsonl");
    bool gen = chats[i]["add_generation_prompt"].get<bool>();
    if (hf[i].contains("error")) {  // the template itself fails in HF: so must we
      EXPECT_THROW(dsv3::model::render_chat(messages, gen, tok.bos_token()), dsv3::InputError)
          << "chat " << i + 1 << ": HF said " << hf[i]["error"];
      continue;
    }
    std::string text = dsv3::model::render_chat(messages, gen, tok.bos_token());
    EXPECT_EQ(text, hf[i]["text"].get<std::string>()) << "chat " << i + 1;
    EXPECT_EQ(tok.encode(text), hf[i]["ids"].get<std::vector<int32_t>>()) << "chat " << i + 1;
    ++compared;
  }
  EXPECT_GE(compared, 15u);
}
