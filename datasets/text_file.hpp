#pragma once
// Reading dataset files: whole text (gzip-compressed when the name ends in .gz), JSON Lines
// with line numbers, and RFC 4180 CSV records with the line each record starts on.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsv3::datasets {

// The file's bytes; *.gz files are decompressed. Throws InputError naming the file.
std::string read_text(const std::filesystem::path& path);

// Calls fn(object, line_number) for each non-blank line. A line that is not a JSON object is
// an InputError "<file>:<line>: ...".
void for_each_jsonl(const std::filesystem::path& path,
                    const std::function<void(const nlohmann::json&, int line)>& fn);

struct CsvRecord {
  int line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};
// Parses CSV text (quoted fields may hold commas, doubled quotes and newlines). `name` is
// used in errors ("<name>:<line>: unterminated quoted field").
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& name);

// Required string field of a JSON object; InputError "<file>:<line>: field 'k' ..." otherwise.
std::string json_string(const nlohmann::json& obj, const char* key, const std::filesystem::path& file,
                        int line);

}  // namespace dsv3::datasets
