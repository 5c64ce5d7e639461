// Loading HF tokenizer.json (+ tokenizer_config.json) into Tokenizer::Impl. Everything
// this implementation does not reproduce exactly is rejected with the field's name.
#include <fmt/core.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/errors.hpp"
#include "model/tokenizer_bytes.hpp"
#include "model/tokenizer_impl.hpp"

namespace dsv3::model {
namespace {

using nlohmann::json;

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open tokenizer file", p.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Ctx {
  const std::string& file;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(fmt::format("{}: {}: {}", file, field, what));
  }
  bool get_bool(const json& j, const char* key, const std::string& field, bool dflt) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return dflt;
    if (!it->is_boolean()) fail(field + "." + key, "expected true or false");
    return it->get<bool>();
  }
  std::string type_of(const json& j, const std::string& field) const {
    if (!j.is_object()) fail(field, "expected an object");
    auto it = j.find("type");
    if (it == j.end() || !it->is_string()) fail(field + ".type", "missing or not a string");
    return it->get<std::string>();
  }
};

std::string regex_quote(const std::string& s) {
  // PCRE2 \Q...\E quotes everything up to \E; split any literal "\E" in s.
  std::string out = "\\Q";
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'E') {
      out += "\\E\\\\\\QE";
      ++i;
    } else {
      out += s[i];
    }
  }
  return out + "\\E";
}

SplitBehavior parse_behavior(const Ctx& c, const json& j, const std::string& field) {
  if (!j.is_string()) c.fail(field, "expected a string");
  auto s = j.get<std::string>();
  if (s == "Isolated") return SplitBehavior::Isolated;
  if (s == "Removed") return SplitBehavior::Removed;
  if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitBehavior::Contiguous;
  c.fail(field, fmt::format("unknown split behavior '{}'", s));
}

// Adds one pre-tokenizer to pre; sets saw_byte_level for ByteLevel.
void add_pre_tokenizer(const Ctx& c, const json& j, const std::string& field, PreTokenizer& pre, bool& saw_byte_level) {
  const std::string type = c.type_of(j, field);
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) c.fail(field + ".pretokenizers", "missing or not an array");
    for (size_t i = 0; i < it->size(); ++i)
      add_pre_tokenizer(c, (*it)[i], fmt::format("{}.pretokenizers[{}]", field, i), pre, saw_byte_level);
    return;
  }
  if (saw_byte_level) c.fail(field, "a pre-tokenizer after ByteLevel is not supported");
  if (type == "Split") {
    auto pat = j.find("pattern");
    if (pat == j.end() || !pat->is_object()) c.fail(field + ".pattern", "missing or not an object");
    std::string regex;
    if (auto r = pat->find("Regex"); r != pat->end() && r->is_string())
      regex = r->get<std::string>();
    else if (auto s = pat->find("String"); s != pat->end() && s->is_string())
      regex = regex_quote(s->get<std::string>());
    else
      c.fail(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    auto beh = j.find("behavior");
    if (beh == j.end()) c.fail(field + ".behavior", "missing");
    SplitStep step;
    step.regex = std::make_unique<SplitRegex>(regex, fmt::format("{}: {}.pattern", c.file, field));
    step.behavior = parse_behavior(c, *beh, field + ".behavior");
    step.invert = c.get_bool(j, "invert", field, false);
    pre.add_step(std::move(step));
    return;
  }
  if (type == "ByteLevel") {
    if (c.get_bool(j, "add_prefix_space", field, false))
      c.fail(field + ".add_prefix_space", "true is not supported (only false)");
    if (c.get_bool(j, "use_regex", field, true)) {
      SplitStep step;
      step.regex = std::make_unique<SplitRegex>(kByteLevelRegex, fmt::format("{}: {} (ByteLevel regex)", c.file, field));
      pre.add_step(std::move(step));
    }
    saw_byte_level = true;
    return;
  }
  c.fail(field + ".type", fmt::format("pre-tokenizer '{}' is not supported (Sequence, Split, ByteLevel are)", type));
}

void check_normalizer(const Ctx& c, const json& j) {
  if (j.is_null()) return;
  const std::string type = c.type_of(j, "normalizer");
  if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it != j.end() && it->is_array() && it->empty()) return;
  }
  c.fail("normalizer", fmt::format("normalizer '{}' is not supported (only none or an empty Sequence)", type));
}

void check_decoder(const Ctx& c, const json& j) {
  if (j.is_null()) c.fail("decoder", "missing (a ByteLevel decoder is required)");
  const std::string type = c.type_of(j, "decoder");
  if (type == "ByteLevel") return;
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it != j.end() && it->is_array() && it->size() == 1 && c.type_of((*it)[0], "decoder.decoders[0]") == "ByteLevel")
      return;
  }
  c.fail("decoder.type", fmt::format("decoder '{}' is not supported (only ByteLevel)", type));
}

void check_post_processor(const Ctx& c, const json& j) {
  if (j.is_null()) return;
  const std::string type = c.type_of(j, "post_processor");
  if (type == "ByteLevel") return;  // adjusts offsets only
  c.fail("post_processor.type",
         fmt::format("post-processor '{}' is not supported (only none or ByteLevel; BOS is the caller's choice)", type));
}

std::string token_name(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object())
    if (auto it = j.find("content"); it != j.end() && it->is_string()) return it->get<std::string>();
  return {};
}


// Streams tokenizer.json: model.vocab and model.merges (nearly all of the file) go straight
// into flat vectors; everything else becomes a small DOM (json) for the checks below. In
// the DOM, vocab and merges are left as an empty object / array.
class LoadHandler {
 public:
  json root;
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool saw_vocab = false, saw_merges = false;
  std::string error;  // set when a handler call fails

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) {
    if (mode_ == Mode::Vocab) return vocab_id(v);
    return value(json(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (mode_ == Mode::Vocab) return vocab_id(v > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v));
    return value(json(v));
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    if (mode_ == Mode::Vocab) return vocab_id(-1);
    return value(json(v));
  }
  bool binary(json::binary_t&) { return fail("(file)", "binary values are not JSON text"); }
  bool string(json::string_t& v) {
    if (mode_ == Mode::Vocab) return vocab_id(-1);
    if (mode_ == Mode::Merges) {
      auto sp = v.find(' ');
      if (sp == std::string::npos || v.find(' ', sp + 1) != std::string::npos)
        return fail(fmt::format("model.merges[{}]", merges.size()), fmt::format("'{}' is not two tokens separated by one space", v));
      merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
      return true;
    }
    if (mode_ == Mode::MergePair) {
      pair_.push_back(std::move(v));
      return true;
    }
    return value(json(std::move(v)));
  }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool start_object(std::size_t) {
    if (mode_ != Mode::Dom) return fail(merge_field(), "expected \"a b\" or [\"a\", \"b\"]");
    if (at_model_field("vocab")) {
      saw_vocab = true;
      mode_ = Mode::Vocab;
      (*stack_.back())["vocab"] = json::object();
      return true;
    }
    return open(json::object());
  }
  bool end_object() {
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::Dom;
      return true;
    }
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    if (mode_ == Mode::Vocab) return vocab_id(-1);
    if (mode_ == Mode::Merges) {
      mode_ = Mode::MergePair;
      pair_.clear();
      return true;
    }
    if (mode_ == Mode::MergePair) return fail(merge_field(), "expected \"a b\" or [\"a\", \"b\"]");
    if (at_model_field("merges")) {
      saw_merges = true;
      mode_ = Mode::Merges;
      (*stack_.back())["merges"] = json::array();
      return true;
    }
    return open(json::array());
  }
  bool end_array() {
    if (mode_ == Mode::MergePair) {
      if (pair_.size() != 2) return fail(merge_field(), "expected \"a b\" or [\"a\", \"b\"]");
      merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::Merges;
      return true;
    }
    if (mode_ == Mode::Merges) {
      mode_ = Mode::Dom;
      return true;
    }
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& ex) {
    error = fmt::format("not valid JSON: {}", ex.what());
    return false;
  }

 private:
  enum class Mode { Dom, Vocab, Merges, MergePair };
  Mode mode_ = Mode::Dom;
  std::vector<json*> stack_;
  std::vector<std::string> keys_;  // the key each open container sits under
  std::string key_;
  std::vector<std::string> pair_;

  bool fail(const std::string& field, const std::string& what) {
    error = fmt::format("{}: {}", field, what);
    return false;
  }
  std::string merge_field() const { return fmt::format("model.merges[{}]", merges.size()); }
  bool vocab_id(int64_t id) {
    if (id < 0 || id > INT32_MAX) return fail(fmt::format("model.vocab[\"{}\"]", key_), "id is not a non-negative integer");
    vocab.emplace_back(std::move(key_), id);
    return true;
  }
  // True when the next value is field f of the top-level "model" object.
  bool at_model_field(const char* f) const {
    return stack_.size() == 2 && keys_[1] == "model" && stack_.back()->is_object() && key_ == f;
  }
  json* insert(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_object()) return &(top[key_] = std::move(v));
    top.push_back(std::move(v));
    return &top.back();
  }
  bool value(json v) {
    insert(std::move(v));
    return true;
  }
  bool open(json v) {
    std::string k = !stack_.empty() && stack_.back()->is_object() ? key_ : std::string();
    stack_.push_back(insert(std::move(v)));
    keys_.push_back(std::move(k));
    return true;
  }
};

}  // namespace

Tokenizer Tokenizer::load(const std::filesystem::path& tokenizer_json) {
  std::string text = read_text(tokenizer_json);
  std::string config;
  auto cfg_path = tokenizer_json.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(cfg_path)) config = read_text(cfg_path);
  return from_json(text, config, tokenizer_json.string());
}

Tokenizer Tokenizer::from_json(std::string_view tokenizer_json, std::string_view config_json, const std::string& name) {
  auto impl = std::make_shared<Impl>();
  impl->source = name;
  Ctx c{name};
  LoadHandler sax;
  if (!json::sax_parse(tokenizer_json, &sax)) throw InputError(fmt::format("{}: {}", name, sax.error));
  const json& j = sax.root;
  if (!j.is_object()) c.fail("(top level)", "expected a JSON object");
  for (const char* k : {"truncation", "padding"})
    if (auto it = j.find(k); it != j.end() && !it->is_null()) c.fail(k, "must be null (truncation/padding are not supported)");

  // --- model ---------------------------------------------------------------
  auto mit = j.find("model");
  if (mit == j.end() || !mit->is_object()) c.fail("model", "missing or not an object");
  const json& m = *mit;
  if (auto t = m.find("type"); t != m.end() && !(t->is_string() && t->get<std::string>() == "BPE"))
    c.fail("model.type", fmt::format("model '{}' is not supported (only BPE)", t->dump()));
  if (auto d = m.find("dropout"); d != m.end() && !d->is_null() && !(d->is_number() && d->get<double>() == 0.0))
    c.fail("model.dropout", "BPE dropout is not supported");
  if (c.get_bool(m, "byte_fallback", "model", false)) c.fail("model.byte_fallback", "true is not supported");
  for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (auto it = m.find(k); it != m.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      c.fail(std::string("model.") + k, "is not supported (must be null)");
  const bool fuse_unk = c.get_bool(m, "fuse_unk", "model", false);
  impl->ignore_merges = c.get_bool(m, "ignore_merges", "model", false);

  if (!sax.saw_vocab) c.fail("model.vocab", "missing or not an object");
  int32_t max_id = -1;
  impl->vocab.reserve(sax.vocab.size());
  for (auto& [token, id] : sax.vocab) {
    max_id = std::max(max_id, static_cast<int32_t>(id));
    impl->vocab.add(std::move(token), static_cast<int32_t>(id));
  }
  sax.vocab = {};

  // --- added tokens ----------------------------------------------------------
  if (auto at = j.find("added_tokens"); at != j.end() && !at->is_null()) {
    if (!at->is_array()) c.fail("added_tokens", "expected an array");
    for (size_t i = 0; i < at->size(); ++i) {
      const json& a = (*at)[i];
      std::string field = fmt::format("added_tokens[{}]", i);
      if (!a.is_object()) c.fail(field, "expected an object");
      AddedToken t;
      auto id = a.find("id");
      auto content = a.find("content");
      if (id == a.end() || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > INT32_MAX)
        c.fail(field + ".id", "missing or not a non-negative integer");
      if (content == a.end() || !content->is_string() || content->get<std::string>().empty())
        c.fail(field + ".content", "missing, empty or not a string");
      t.id = id->get<int32_t>();
      t.content = content->get<std::string>();
      t.special = c.get_bool(a, "special", field, false);
      t.single_word = c.get_bool(a, "single_word", field, false);
      t.lstrip = c.get_bool(a, "lstrip", field, false);
      t.rstrip = c.get_bool(a, "rstrip", field, false);
      t.normalized = c.get_bool(a, "normalized", field, !t.special);
      if (bytes::find_invalid_utf8(t.content)) c.fail(field + ".content", "not valid UTF-8");
      max_id = std::max(max_id, t.id);
      impl->added.push_back(t);
    }
  }

  // --- id tables -------------------------------------------------------------
  const size_t n = static_cast<size_t>(max_id + 1);
  impl->token_str.assign(n, {});
  impl->token_raw.assign(n, {});
  impl->flags.assign(n, 0);
  auto set_token = [&](int32_t id, const std::string& s) {
    impl->token_str[id] = s;
    auto raw = bytes::unmap_byte_level(s);
    impl->token_raw[id] = raw ? *raw : s;  // as HF's ByteLevel decoder
    impl->flags[id] |= Impl::kValid;
  };
  impl->vocab.build();
  for (const auto& e : impl->vocab.entries()) set_token(e.id, e.token);
  for (const auto& t : impl->added) {
    set_token(t.id, t.content);
    impl->flags[t.id] |= Impl::kAdded;
    if (t.special) impl->flags[t.id] |= Impl::kSpecial;
    impl->added_by_str[t.content] = t.id;
    (t.normalized ? impl->norm_matcher : impl->raw_matcher).add(t);
  }

  // --- merges ----------------------------------------------------------------
  if (!sax.saw_merges) c.fail("model.merges", "missing or not an array");
  std::vector<BpeModel::Merge> merges;
  merges.reserve(sax.merges.size());
  std::string joined;
  for (size_t i = 0; i < sax.merges.size(); ++i) {
    const auto& [a, b] = sax.merges[i];
    joined.assign(a);
    joined.append(b);
    int32_t ia = impl->vocab.find(a), ib = impl->vocab.find(b), ij = impl->vocab.find(joined);
    if (ia < 0 || ib < 0 || ij < 0)
      c.fail(fmt::format("model.merges[{}]", i),
             fmt::format("token '{}' is not in model.vocab", ia < 0 ? a : ib < 0 ? b : joined));
    merges.push_back({ia, ib, ij});
  }
  sax.merges = {};

  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    std::string s;
    bytes::append_utf8(s, bytes::byte_to_codepoint(static_cast<uint8_t>(b)));
    byte_ids[b] = impl->vocab.find(s);
  }
  int32_t unk_id = -1;
  if (auto u = m.find("unk_token"); u != m.end() && !u->is_null()) {
    if (!u->is_string()) c.fail("model.unk_token", "expected a string or null");
    unk_id = impl->vocab.find(u->get<std::string>());
    if (unk_id < 0) c.fail("model.unk_token", fmt::format("token '{}' is not in model.vocab", u->get<std::string>()));
  }
  impl->bpe = std::make_unique<BpeModel>(byte_ids, merges, unk_id, fuse_unk);

  // --- pipeline --------------------------------------------------------------
  check_normalizer(c, j.value("normalizer", json()));
  bool saw_byte_level = false;
  if (auto p = j.find("pre_tokenizer"); p != j.end() && !p->is_null())
    add_pre_tokenizer(c, *p, "pre_tokenizer", impl->pre, saw_byte_level);
  if (!saw_byte_level) c.fail("pre_tokenizer", "no ByteLevel pre-tokenizer: only byte-level BPE is supported");
  check_decoder(c, j.value("decoder", json()));
  check_post_processor(c, j.value("post_processor", json()));

  // --- tokenizer_config.json -------------------------------------------------
  std::string bos = "<｜begin▁of▁sentence｜>", eos = "<｜end▁of▁sentence｜>";
  if (!config_json.empty()) {
    std::string cfg_name = (std::filesystem::path(name).parent_path() / "tokenizer_config.json").string();
    json cfg;
    try {
      cfg = json::parse(config_json);
    } catch (const json::parse_error& e) {
      throw InputError(fmt::format("{}: not valid JSON: {}", cfg_name, e.what()));
    }
    if (!cfg.is_object()) throw InputError(fmt::format("{}: expected a JSON object", cfg_name));
    if (auto it = cfg.find("bos_token"); it != cfg.end()) bos = token_name(*it);
    if (auto it = cfg.find("eos_token"); it != cfg.end()) eos = token_name(*it);
    if (auto it = cfg.find("chat_template"); it != cfg.end()) {
      if (it->is_string()) {
        impl->chat_template = it->get<std::string>();
      } else if (it->is_array()) {
        for (const auto& t : *it)
          if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string())
            impl->chat_template = t["template"].get<std::string>();
      }
    }
  }
  auto find_id = [&](const std::string& s) -> int32_t {
    if (s.empty()) return -1;
    if (auto it = impl->added_by_str.find(s); it != impl->added_by_str.end()) return it->second;
    if (int32_t id = impl->vocab.find(s); id >= 0) return id;
    return -1;
  };
  impl->bos_id = find_id(bos);
  impl->eos_id = find_id(eos);
  if (impl->bos_id >= 0) impl->bos_token = bos;
  if (impl->eos_id >= 0) impl->eos_token = eos;
  return Tokenizer(std::move(impl));
}

}  // namespace dsv3::model
