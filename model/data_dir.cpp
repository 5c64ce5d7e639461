#include "model/data_dir.hpp"

#include <cstdlib>

namespace dsv3::model {

std::filesystem::path default_data_dir() {
  if (const char* env = std::getenv("DSV3_DATA_DIR"); env && *env) return env;
  return std::filesystem::path(DSV3_SOURCE_DIR) / "data";
}

std::filesystem::path default_tokenizer_path() {
  return default_data_dir() / "tokenizer" / "tokenizer.json";
}

std::filesystem::path source_path(const std::filesystem::path& relative) {
  return std::filesystem::path(DSV3_SOURCE_DIR) / relative;
}

}  // namespace dsv3::model
