// `dsv3 serve` over the tiny fixture model, and the HTTP backend against it: the same
// per-sample results as the native backend (greedy), plus the server's own endpoints
// (/v1/models, echo + logprobs, chat, SSE streaming, errors).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "eval_server_fixture.hpp"
#include "reports/run_report.hpp"

namespace dsv3::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path tiny_model() { return test_data_dir() / "models/tiny-bf16"; }
fs::path tiny_tokenizer() { return test_data_dir() / "eval/tiny-tokenizer/tokenizer.json"; }

// `dsv3 serve` on a free port; the URL comes from its first stdout line.
class ServeProcess {
 public:
  explicit ServeProcess(const TempDir& d, int max_batch = 1)
      : child_({"serve", "--model", tiny_model().string(), "--tokenizer", tiny_tokenizer().string(), "--port", "0",
                "--threads", "1", "--max-batch", std::to_string(max_batch)},
               d / "serve.out", d / "serve.err") {
    bool up = wait_for([&] { return fs::exists(d / "serve.out") && read_file(d / "serve.out").find("/v1\n") != std::string::npos; }, 60);
    std::string out = read_file(d / "serve.out");
    if (!up) throw std::runtime_error("dsv3 serve did not start: " + read_file(d / "serve.err"));
    auto a = out.find("http://");
    url_ = out.substr(a, out.find('\n', a) - a);
    auto colon = url_.rfind(':');
    port_ = std::stoi(url_.substr(colon + 1));
  }
  ~ServeProcess() {
    child_.signal(SIGTERM);
    child_.wait(10);
  }
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  Child child_;
  std::string url_;
  int port_ = 0;
};

TEST(EvalServe, HttpBackendMatchesNativeBackendGreedy) {
  TempDir d;
  write_tiny_benchmarks(d / "data", 4);
  ServeProcess serve(d);
  std::vector<std::string> common = {"--tasks", "mmlu,gsm8k", "--data-dir", (d / "data").string(), "--shots", "0",
                                     "--max-tokens", "12", "--format", "json"};
  auto args = [&](std::vector<std::string> a) {
    std::vector<std::string> v = {"eval"};
    v.insert(v.end(), common.begin(), common.end());
    v.insert(v.end(), a.begin(), a.end());
    return v;
  };
  auto native = run_dsv3(args({"--model", tiny_model().string(), "--tokenizer", tiny_tokenizer().string(), "--threads", "1",
                               "--batch", "1", "--out", (d / "native.h5").string()}));
  ASSERT_EQ(native.exit_code, 0) << native.err;
  auto http = run_dsv3(args({"--model", serve.url(), "--concurrency", "4", "--out", (d / "http.h5").string()}));
  ASSERT_EQ(http.exit_code, 0) << http.err;
  auto a = reports::read_run(d / "native.h5"), b = reports::read_run(d / "http.h5");
  EXPECT_EQ(a.provenance.backend, "native");
  EXPECT_EQ(b.provenance.backend, "http");
  EXPECT_EQ(b.provenance.endpoint, serve.url());
  ASSERT_EQ(a.tasks.size(), 2u);
  ASSERT_EQ(b.tasks.size(), 2u);
  for (size_t t = 0; t < 2; ++t) {
    std::map<std::string, reports::SampleRecord> bs;
    for (auto& s : b.tasks[t].samples) bs[s.id] = s;
    ASSERT_EQ(a.tasks[t].samples.size(), bs.size());
    ASSERT_GT(bs.size(), 0u);
    for (auto& s : a.tasks[t].samples) {
      SCOPED_TRACE(a.tasks[t].info.name + " " + s.id);
      ASSERT_TRUE(bs.count(s.id));
      auto& o = bs[s.id];
      EXPECT_EQ(s.error, "");
      EXPECT_EQ(o.error, "");
      EXPECT_EQ(s.extracted, o.extracted);
      EXPECT_EQ(s.correct, o.correct);
      EXPECT_EQ(s.prompt_sha256, o.prompt_sha256);
      EXPECT_EQ(s.tokens_in, o.tokens_in);
      EXPECT_EQ(s.tokens_out, o.tokens_out);
      if (a.tasks[t].info.name == "mmlu") {
        auto x = json::parse(s.response), y = json::parse(o.response);
        ASSERT_EQ(x.size(), 4u);
        ASSERT_EQ(y.size(), 4u);
        for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(x[k].get<double>(), y[k].get<double>(), 1e-4);
      } else {
        EXPECT_EQ(s.response, o.response);
      }
    }
  }
  // the summaries agree too
  auto sa = json::parse(native.out)["tasks"], sb = json::parse(http.out)["tasks"];
  EXPECT_EQ(sa["mmlu"]["score"], sb["mmlu"]["score"]);
  EXPECT_EQ(sa["gsm8k"]["score"], sb["gsm8k"]["score"]);
  EXPECT_EQ(sa["mmlu"]["subjects"].size(), 2u);
}

TEST(EvalServe, EndpointsModelsCompletionsChatStreaming) {
  TempDir d;
  ServeProcess serve(d, 4);
  httplib::Client cli("127.0.0.1", serve.port());
  cli.set_read_timeout(60, 0);
  auto models = cli.Get("/v1/models");
  ASSERT_TRUE(models);
  ASSERT_EQ(models->status, 200);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "tiny-bf16");

  // echo + logprobs: offsets cover the prompt, the first token's offset is 0
  json req{{"prompt", "Answer: A"}, {"max_tokens", 1}, {"temperature", 0}, {"echo", true}, {"logprobs", 1}};
  auto r = cli.Post("/v1/completions", req.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json::parse(r->body);
  auto& lp = j["choices"][0]["logprobs"];
  EXPECT_EQ(lp["text_offset"][0], 0);
  std::string joined;
  for (auto& t : lp["tokens"]) joined += t.get<std::string>();
  EXPECT_EQ(joined, j["choices"][0]["text"].get<std::string>());
  EXPECT_EQ(joined.rfind("Answer: A", 0), 0u);

  // chat: streamed pieces add up to the non-streamed answer
  json chat{{"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}, {"max_tokens", 10}, {"temperature", 0}};
  auto c1 = cli.Post("/v1/chat/completions", chat.dump(), "application/json");
  ASSERT_TRUE(c1);
  ASSERT_EQ(c1->status, 200) << c1->body;
  std::string whole = json::parse(c1->body)["choices"][0]["message"]["content"];
  chat["stream"] = true;
  auto c2 = cli.Post("/v1/chat/completions", chat.dump(), "application/json");
  ASSERT_TRUE(c2);
  ASSERT_EQ(c2->status, 200);
  std::string streamed, finish;
  size_t pos = 0;
  bool done = false;
  while ((pos = c2->body.find("data: ", pos)) != std::string::npos) {
    auto e = c2->body.find("\n\n", pos);
    std::string data = c2->body.substr(pos + 6, e - pos - 6);
    pos = e;
    if (data == "[DONE]") {
      done = true;
      break;
    }
    auto chunk = json::parse(data);
    auto& ch = chunk["choices"][0];
    if (ch["delta"].contains("content")) streamed += ch["delta"]["content"].get<std::string>();
    if (!ch["finish_reason"].is_null()) finish = ch["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(streamed, whole);
  EXPECT_FALSE(finish.empty());

  // bad requests get 400 with a message
  auto bad = cli.Post("/v1/completions", "{not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["error"]["message"].get<std::string>().find("not JSON"), std::string::npos);
  std::string huge(2000, 'x');
  auto longp = cli.Post("/v1/completions", json{{"prompt", huge}, {"max_tokens", 4}}.dump(), "application/json");
  ASSERT_TRUE(longp);
  EXPECT_EQ(longp->status, 400);
  EXPECT_NE(longp->body.find("context"), std::string::npos);
}

}  // namespace
}  // namespace dsv3::test
