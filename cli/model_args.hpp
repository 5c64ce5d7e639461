#pragma once
// Options shared by `dsv3 model forward` and `dsv3 generate`: token id lists and the
// backend choice.
#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/errors.hpp"

namespace dsv3::cli {

// "1,2,3" -> ids. `flag` names the option in errors.
inline std::vector<int32_t> parse_token_ids(const std::string& s, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t at = 0;
  while (at <= s.size()) {
    size_t end = s.find(',', at);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(at, end - at);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty()) throw InputError(fmt::format("{}: empty item in '{}'", flag, s));
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0 || v > INT32_MAX) throw InputError(fmt::format("{}: '{}' is not a token id", flag, item));
    ids.push_back(static_cast<int32_t>(v));
    at = end + 1;
  }
  return ids;
}

}  // namespace dsv3::cli
