#pragma once
// DeepSeek-V3's chat template, written out in C++ (no Jinja engine). The output is
// byte-identical to transformers' apply_chat_template with the template text of the
// released tokenizer_config.json (the original V3 one; deepseek_v3_chat_template() holds
// it so callers can check that a config carries exactly this template):
//
//   BOS + every system message's content joined by "\n\n"
//   user       -> <｜User｜>content
//   assistant  -> <｜Assistant｜>content<｜end▁of▁sentence｜>
//   assistant with tool_calls and no content, tool results, and
//   add_generation_prompt -> a trailing <｜Assistant｜>
//
// The template's quirks are kept on purpose (they are what the model was trained on and
// what HF renders): the first tool call of the whole conversation opens with
// <｜Assistant｜><｜tool▁calls▁begin｜>, later ones start with "\n" and each closes with
// <｜tool▁calls▁end｜><｜end▁of▁sentence｜>; tool outputs are closed by
// <｜tool▁outputs▁end｜> only before an assistant message or at the end.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsv3::model {

struct ToolCall {
  std::string type = "function";
  std::string name;
  std::string arguments;  // the JSON text of the arguments, as written into the prompt
};

struct ChatMessage {
  std::string role;                    // system, user, assistant, tool (others are ignored)
  std::optional<std::string> content;  // null only for an assistant message with tool calls
  std::vector<ToolCall> tool_calls;
};

// Renders messages as the template does. bos_token is written first.
std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        std::string_view bos_token = "<｜begin▁of▁sentence｜>");

// Messages from OpenAI-style JSON: an array of {"role", "content", "tool_calls": [{"type",
// "function": {"name", "arguments"}}]} (or an object with a "messages" array). where names
// the source in errors (InputError naming the message index and field).
std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& j, const std::string& where);

// The chat_template text of DeepSeek-V3's released tokenizer_config.json, which
// render_chat reproduces.
const std::string& deepseek_v3_chat_template();

}  // namespace dsv3::model
