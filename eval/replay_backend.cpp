// The replay backend: scores responses recorded earlier. Lines {"id": …, "response": …} or
// human-eval's {"task_id": …, "completion": …}; the k-th line of an id is its sample k.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "eval/model_backend.hpp"

namespace dsv3::eval {
namespace {

std::string field(const nlohmann::json& j, const char* key, const std::string& file, int line) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(fmt::format("{}:{}: missing field '{}'", file, line, key));
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw InputError(fmt::format("{}:{}: field '{}' must be a string", file, line, key));
}

class ReplayBackend : public ModelBackend {
 public:
  ReplayBackend(const std::string& file, const BackendOptions& o) : file_(file), parallel_(std::max(1, o.concurrency)) {
    std::ifstream in(file);
    if (!in) throw InputError(fmt::format("replay:{}: cannot read the file", file));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error&) {
        throw InputError(fmt::format("{}:{}: not valid JSON", file, n));
      }
      if (!j.is_object()) throw InputError(fmt::format("{}:{}: expected a JSON object", file, n));
      bool he = j.contains("task_id");
      std::string id = field(j, he ? "task_id" : "id", file, n);
      std::string resp = field(j, he ? "completion" : "response", file, n);
      responses_[id].push_back(std::move(resp));
      ++count_;
    }
    if (count_ == 0) throw InputError(fmt::format("{}: no responses", file));
  }
  std::string kind() const override { return "replay"; }
  std::string model_name() const override { return "replay:" + file_; }
  int max_batch() const override { return 64; }
  int max_parallel() const override { return parallel_; }
  bool supports_loglikelihood() const override { return false; }

  std::vector<GenResult> generate(const std::vector<GenRequest>& reqs) override {
    std::vector<GenResult> out(reqs.size());
    for (size_t i = 0; i < reqs.size(); ++i) {
      auto it = responses_.find(reqs[i].id);
      auto k = static_cast<size_t>(reqs[i].sample_index);
      if (it == responses_.end() || k >= it->second.size())
        out[i].error = fmt::format("{} has no response for id '{}' sample {}", file_, reqs[i].id, k);
      else
        out[i].text = it->second[k];
    }
    return out;
  }
  std::vector<LoglikResult> loglikelihood(const std::vector<LoglikRequest>&) override {
    throw InputError(fmt::format("replay:{}: recorded responses have no log-likelihoods", file_));
  }

 private:
  std::string file_;
  int parallel_;
  size_t count_ = 0;
  std::unordered_map<std::string, std::vector<std::string>> responses_;
};

}  // namespace

std::unique_ptr<ModelBackend> make_replay_backend(const std::string& file, const BackendOptions& opt) {
  return std::make_unique<ReplayBackend>(file, opt);
}

}  // namespace dsv3::eval
