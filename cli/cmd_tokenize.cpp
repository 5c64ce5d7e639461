// dsv3 tokenize: text <-> token ids with the DeepSeek-V3 tokenizer (or any supported
// tokenizer.json), and chat rendering.
//
//   dsv3 tokenize --jsonl            each stdin line a JSON string -> a JSON array of ids
//   dsv3 tokenize --jsonl --decode   each stdin line a JSON array of ids -> a JSON string
//   dsv3 tokenize [TEXT]             a table of ids and tokens (TEXT or all of stdin)
//   dsv3 tokenize --decode 1,2,3     the text of ids
//   dsv3 tokenize --chat FILE        a conversation (JSON messages) rendered / tokenized
#include <fmt/core.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"
#include "model/chat_template.hpp"
#include "model/data_dir.hpp"
#include "model/errors.hpp"
#include "model/tokenizer.hpp"

namespace dsv3::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  bool jsonl = false;
  bool decode = false;
  bool bos = false;
  bool skip_special = false;
  bool ids_only = false;
  std::string chat;
  bool add_generation_prompt = false;
  bool render = false;
  std::string text;
};

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::string ids_json(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "]";
}

std::vector<int32_t> parse_id_list(const std::string& s, const std::string& where) {
  std::vector<int32_t> ids;
  std::string cur;
  auto flush = [&] {
    if (cur.empty()) return;
    try {
      size_t used = 0;
      long long v = std::stoll(cur, &used);
      if (used != cur.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(cur);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      throw InputError(fmt::format("{}: '{}' is not a token id", where, cur));
    }
    cur.clear();
  };
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '[' || c == ']')
      flush();
    else
      cur += c;
  }
  flush();
  return ids;
}

// A token for people: its bytes as text with control characters and broken UTF-8 escaped.
std::string printable(const std::string& raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  // Bytes that do not form UTF-8 on their own (part of a character) are shown as \xNN.
  std::string fixed;
  size_t i = 0;
  while (i < out.size()) {
    auto b = static_cast<unsigned char>(out[i]);
    size_t n = b < 0x80 ? 1 : (b >= 0xC2 && b <= 0xDF) ? 2 : (b >= 0xE0 && b <= 0xEF) ? 3 : (b >= 0xF0 && b <= 0xF4) ? 4 : 0;
    bool ok = n > 0 && i + n <= out.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(out[i + k]) & 0xC0) == 0x80;
    if (ok) {
      fixed.append(out, i, n);
      i += n;
    } else {
      fixed += fmt::format("\\x{:02x}", b);
      ++i;
    }
  }
  return fixed;
}

void run_jsonl(const model::Tokenizer& tok, const TokenizeOptions& o) {
  std::string line;
  size_t lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) throw InputError(fmt::format("stdin line {}: empty (expected one JSON value a line)", lineno));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(fmt::format("stdin line {}: not JSON: {}", lineno, e.what()));
    }
    if (o.decode) {
      if (!j.is_array()) throw InputError(fmt::format("stdin line {}: expected a JSON array of token ids", lineno));
      std::vector<int32_t> ids;
      for (const auto& v : j) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
          throw InputError(fmt::format("stdin line {}: {} is not a token id", lineno, v.dump()));
        ids.push_back(v.get<int32_t>());
      }
      std::string text;
      try {
        text = tok.decode(ids, o.skip_special);
      } catch (const InputError& e) {
        throw InputError(fmt::format("stdin line {}: {}", lineno, e.what()));
      }
      std::cout << json_string(text) << '\n';
    } else {
      if (!j.is_string()) throw InputError(fmt::format("stdin line {}: expected a JSON string", lineno));
      std::vector<int32_t> ids;
      try {
        ids = tok.encode(j.get_ref<const std::string&>(), o.bos);
      } catch (const InputError& e) {
        throw InputError(fmt::format("stdin line {}: {}", lineno, e.what()));
      }
      std::cout << ids_json(ids) << '\n';
    }
  }
}

void print_table(const model::Tokenizer& tok, const std::vector<int32_t>& ids) {
  fmt::print("{:>6}  {:>7}  {:<24}  {}\n", "index", "id", "token", "text");
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& s = tok.id_to_token(ids[i]);
    std::string flag = tok.is_special(ids[i]) ? "  (special)" : tok.is_added(ids[i]) ? "  (added)" : "";
    fmt::print("{:>6}  {:>7}  {:<24}  {}{}\n", i, ids[i], s, printable(tok.token_bytes(ids[i])), flag);
  }
  fmt::print("{} tokens\n", ids.size());
}

void run(const TokenizeOptions& o) {
  const std::string path = o.tokenizer.empty() ? model::default_tokenizer_path().string() : o.tokenizer;
  model::Tokenizer tok = model::Tokenizer::load(path);

  if (!o.chat.empty()) {
    std::ifstream in(o.chat, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot open chat file", o.chat));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(fmt::format("{}: not JSON: {}", o.chat, e.what()));
    }
    std::string text = model::render_chat(model::chat_messages_from_json(j, o.chat), o.add_generation_prompt,
                                          tok.bos_token());
    if (o.render) {
      std::cout << text;
      return;
    }
    auto ids = tok.encode(text);
    if (o.ids_only)
      std::cout << ids_json(ids) << '\n';
    else
      print_table(tok, ids);
    return;
  }
  if (o.jsonl) {
    run_jsonl(tok, o);
    return;
  }
  std::string input = o.text;
  if (input.empty()) {
    std::ostringstream all;
    all << std::cin.rdbuf();
    input = all.str();
  }
  if (o.decode) {
    std::cout << tok.decode(parse_id_list(input, o.text.empty() ? "stdin" : "--decode argument"), o.skip_special);
    return;
  }
  auto ids = tok.encode(input, o.bos);
  if (o.ids_only)
    std::cout << ids_json(ids) << '\n';
  else
    print_table(tok, ids);
}

const Registrar reg(60, [](CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* cmd = root.add_subcommand("tokenize", "Text <-> token ids with the DeepSeek-V3 tokenizer (HF tokenizer.json)");
  cmd->add_option("--tokenizer", o->tokenizer, "tokenizer.json (default: the one scripts/setup.sh installs)");
  cmd->add_flag("--jsonl", o->jsonl, "stdin lines are JSON strings; print one JSON array of ids per line");
  cmd->add_flag("--decode", o->decode, "the reverse: ids (JSON arrays with --jsonl, else a list) to text");
  cmd->add_flag("--bos", o->bos, "put the BOS id first when encoding");
  cmd->add_flag("--skip-special", o->skip_special, "leave special tokens out when decoding");
  cmd->add_flag("--ids", o->ids_only, "print only the JSON array of ids (no table)");
  cmd->add_option("--chat", o->chat, "a JSON file of chat messages to render with DeepSeek-V3's chat template");
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt, "with --chat: end with <｜Assistant｜>");
  cmd->add_flag("--render", o->render, "with --chat: print the rendered text instead of ids");
  cmd->add_option("text", o->text, "text to tokenize, or ids to decode (default: all of stdin)");
  cmd->callback([o] { run(*o); });
});

}  // namespace
}  // namespace dsv3::cli
