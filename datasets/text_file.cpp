#include "datasets/text_file.hpp"

#include <fmt/core.h>
#include <zlib.h>

#include <fstream>
#include <sstream>

#include "model/errors.hpp"

namespace dsv3::datasets {

std::string read_text(const std::filesystem::path& path) {
  std::string p = path.string();
  if (!std::filesystem::is_regular_file(path)) throw InputError(fmt::format("{}: no such file", p));
  if (p.size() > 3 && p.compare(p.size() - 3, 3, ".gz") == 0) {
    gzFile f = gzopen(p.c_str(), "rb");
    if (!f) throw InputError(fmt::format("{}: cannot open gzip file", p));
    std::string out;
    char buf[1 << 16];
    for (;;) {
      int n = gzread(f, buf, sizeof buf);
      if (n < 0) {
        int err = 0;
        std::string msg = gzerror(f, &err);
        gzclose(f);
        throw InputError(fmt::format("{}: corrupt gzip data ({})", p, msg));
      }
      if (n == 0) break;
      out.append(buf, std::size_t(n));
    }
    gzclose(f);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open file", p));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(const nlohmann::json&, int line)>& fn) {
  std::string text = read_text(path);
  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::string_view s(text.data() + pos, end - pos);
    pos = end + 1;
    if (s.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(fmt::format("{}:{}: not valid JSON ({})", path.string(), line, e.what()));
    }
    if (!j.is_object()) throw InputError(fmt::format("{}:{}: expected a JSON object", path.string(), line));
    fn(j, line);
  }
}

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& name) {
  std::vector<CsvRecord> out;
  std::size_t i = 0, n = text.size();
  int line = 1;
  while (i < n) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool record_done = false;
    while (!record_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        int start_line = line;
        ++i;
        for (;;) {
          if (i >= n) throw InputError(fmt::format("{}:{}: unterminated quoted field", name, start_line));
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') { field += '"'; i += 2; continue; }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        // Like Python's csv module: characters after the closing quote join the field.
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n') {
          if (text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n')) { ++i; continue; }
          field += text[i++];
        }
      }
      if (i < n && text[i] == '\r') ++i;
      rec.fields.push_back(field);
      if (i >= n) { record_done = true; }
      else if (text[i] == ',') { ++i; }
      else if (text[i] == '\n') { ++i; ++line; record_done = true; }
    }
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // blank line
    out.push_back(std::move(rec));
  }
  return out;
}

std::string json_string(const nlohmann::json& obj, const char* key, const std::filesystem::path& file,
                        int line) {
  auto it = obj.find(key);
  if (it == obj.end())
    throw InputError(fmt::format("{}:{}: missing field '{}'", file.string(), line, key));
  if (!it->is_string())
    throw InputError(fmt::format("{}:{}: field '{}' must be a string", file.string(), line, key));
  return it->get<std::string>();
}

}  // namespace dsv3::datasets
