#pragma once
#include <filesystem>

namespace dsv3::model {

// The folder that holds the data the program finds by default (tokenizer/, set up by
// scripts/setup.sh). In order: $DSV3_DATA_DIR; <repo>/data of the source tree this
// binary was built from.
std::filesystem::path default_data_dir();

// The default tokenizer.json: <data dir>/tokenizer/tokenizer.json.
std::filesystem::path default_tokenizer_path();

// Files shipped in the source tree (model/configs, sim/scenarios, ...): <repo>/<relative>.
std::filesystem::path source_path(const std::filesystem::path& relative);

}  // namespace dsv3::model
