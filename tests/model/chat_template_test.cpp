// The chat template on hand-checked cases (model facts §6.3); byte parity with
// transformers' apply_chat_template is in chat_template_golden_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/chat_template.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "model/tokenizer.hpp"

using dsv3::model::ChatMessage;
using dsv3::model::render_chat;

TEST(ChatTemplate, SystemUserGenerationPrompt) {
  std::vector<ChatMessage> m = {{"system", "You are helpful.", {}}, {"user", "Hi", {}}};
  EXPECT_EQ(render_chat(m, true), "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>");
  EXPECT_EQ(render_chat(m, false), "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi");
}

TEST(ChatTemplate, MultiTurnAndSystemsJoined) {
  std::vector<ChatMessage> m = {{"system", "A", {}}, {"user", "q1", {}}, {"assistant", "a1", {}},
                                {"system", "B", {}}, {"user", "q2", {}}};
  EXPECT_EQ(render_chat(m, true),
            "<｜begin▁of▁sentence｜>A\n\nB<｜User｜>q1<｜Assistant｜>a1<｜end▁of▁sentence｜><｜User｜>q2<｜Assistant｜>");
}

TEST(ChatTemplate, UserHiIds) {
  auto tok = dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path());
  auto ids = tok.encode(render_chat({{"user", "Hi", {}}}, true));
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 128803, 23166, 128804}));
}

TEST(ChatTemplate, ToolCallsAndOutputs) {
  auto j = nlohmann::json::parse(R"([
    {"role":"user","content":"Weather?"},
    {"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"get","arguments":"{\"c\":1}"}}]},
    {"role":"tool","content":"sunny"},
    {"role":"tool","content":"warm"},
    {"role":"assistant","content":"It is sunny."}])");
  auto m = dsv3::model::chat_messages_from_json(j, "conv.json");
  EXPECT_EQ(render_chat(m, true),
            "<｜begin▁of▁sentence｜><｜User｜>Weather?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
            "<｜tool▁sep｜>get\n```json\n{\"c\":1}\n```<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>"
            "sunny<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>warm<｜tool▁output▁end｜><｜tool▁outputs▁end｜>It is "
            "sunny.<｜end▁of▁sentence｜><｜Assistant｜>");
}

TEST(ChatTemplate, BadMessagesAreInputErrors) {
  EXPECT_THROW(dsv3::model::chat_messages_from_json(nlohmann::json::parse(R"([{"content":"x"}])"), "c.json"),
               dsv3::InputError);
  EXPECT_THROW(dsv3::model::chat_messages_from_json(nlohmann::json::parse(R"([{"role":"user","content":null}])"), "c.json"),
               dsv3::InputError);
  EXPECT_THROW(dsv3::model::chat_messages_from_json(nlohmann::json::parse(R"({"a":1})"), "c.json"), dsv3::InputError);
}

TEST(ChatTemplate, ReleasedConfigCarriesThisTemplate) {
  auto tok = dsv3::model::Tokenizer::load(dsv3::model::default_tokenizer_path());
  EXPECT_EQ(tok.chat_template(), dsv3::model::deepseek_v3_chat_template());
}
