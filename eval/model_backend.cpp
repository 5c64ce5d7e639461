#include "eval/model_backend.hpp"

#include <fmt/format.h>

namespace dsv3::eval {

std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop) {
  size_t cut = std::string::npos;
  for (auto& s : stop)
    if (!s.empty()) cut = std::min(cut, text.find(s));
  return cut == std::string::npos ? text : text.substr(0, cut);
}

std::unique_ptr<ModelBackend> make_model_backend(const std::string& spec, const BackendOptions& opt) {
  if (spec.empty()) throw InputError("--model: empty (a checkpoint folder, http://host:port/v1 or replay:FILE.jsonl)");
  if (spec.rfind("replay:", 0) == 0) return make_replay_backend(spec.substr(7), opt);
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0) return make_http_backend(spec, opt);
  return make_native_backend(spec, opt);
}

}  // namespace dsv3::eval
