// dsv3 serve --model DIR [--port P]: an OpenAI-compatible HTTP server over the native engine
// (cpp-httplib). /v1/models, /v1/completions (logprobs, echo, stop, streaming) and
// /v1/chat/completions (DeepSeek-V3 chat template, streaming). Concurrent non-streaming
// requests are decoded together in batches.
#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/command.hpp"
#include "eval/native_model.hpp"
#include "model/errors.hpp"

namespace dsv3::cli {
namespace {

using nlohmann::json;

struct ServeOptions {
  std::string model, tokenizer, host = "127.0.0.1", name, device = "cpu";
  int port = 8000;
  int threads = 0;
  int max_batch = 16;
  int http_threads = 32;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(httplib::Response& res, int status, const std::string& msg) {
  res.status = status;
  res.set_content(dump({{"error", {{"message", msg}, {"type", status == 400 ? "invalid_request_error" : "server_error"}}}}),
                  "application/json");
}

std::vector<std::string> stop_list(const json& body) {
  std::vector<std::string> v;
  if (!body.contains("stop") || body["stop"].is_null()) return v;
  auto& s = body["stop"];
  if (s.is_string()) return {s.get<std::string>()};
  if (!s.is_array()) throw BadRequest("'stop' must be a string or an array of strings");
  for (auto& x : s) {
    if (!x.is_string()) throw BadRequest("'stop' must be a string or an array of strings");
    v.push_back(x.get<std::string>());
  }
  return v;
}

template <class T>
T get_or(const json& body, const char* key, T def) {
  if (!body.contains(key) || body[key].is_null()) return def;
  try {
    return body[key].get<T>();
  } catch (const json::exception&) {
    throw BadRequest(fmt::format("field '{}' has the wrong type", key));
  }
}

eval::CompletionRequest base_request(const json& body, int64_t default_max_tokens) {
  eval::CompletionRequest r;
  r.stop = stop_list(body);
  r.max_tokens = get_or<int64_t>(body, "max_tokens", default_max_tokens);
  if (body.contains("max_completion_tokens")) r.max_tokens = get_or<int64_t>(body, "max_completion_tokens", r.max_tokens);
  if (r.max_tokens < 1) throw BadRequest("'max_tokens' must be at least 1");
  r.sampling.temperature = get_or<double>(body, "temperature", 1.0);
  r.sampling.top_p = get_or<double>(body, "top_p", 1.0);
  r.sampling.top_k = get_or<int>(body, "top_k", 0);
  r.sampling.seed = get_or<uint64_t>(body, "seed", 0);
  if (r.sampling.temperature < 0) throw BadRequest("'temperature' must be >= 0");
  if (r.sampling.top_p <= 0 || r.sampling.top_p > 1) throw BadRequest("'top_p' must be in (0, 1]");
  if (get_or<int>(body, "n", 1) != 1) throw BadRequest("only n = 1 is supported");
  return r;
}

// Non-streaming requests from all connections, decoded together.
class Batcher {
 public:
  Batcher(eval::NativeModel& m, int max_batch) : m_(m), max_batch_(max_batch), thread_([this] { loop(); }) {}
  ~Batcher() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  eval::Completion run(eval::CompletionRequest r) {
    Job j{std::move(r), {}};
    auto f = j.result.get_future();
    {
      std::lock_guard lock(mu_);
      q_.push_back(std::move(j));
    }
    cv_.notify_one();
    return f.get();
  }

 private:
  struct Job {
    eval::CompletionRequest req;
    std::promise<eval::Completion> result;
  };
  void loop() {
    for (;;) {
      std::vector<Job> jobs;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_ || !q_.empty(); });
        if (q_.empty() && done_) return;
        while (!q_.empty() && static_cast<int>(jobs.size()) < max_batch_) {
          jobs.push_back(std::move(q_.front()));
          q_.pop_front();
        }
      }
      std::vector<eval::CompletionRequest> reqs;
      for (auto& j : jobs) reqs.push_back(j.req);
      try {
        auto res = m_.complete(reqs, max_batch_);
        for (size_t i = 0; i < jobs.size(); ++i) jobs[i].result.set_value(std::move(res[i]));
      } catch (...) {
        for (auto& j : jobs) j.result.set_exception(std::current_exception());
      }
    }
  }
  eval::NativeModel& m_;
  int max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> q_;
  bool done_ = false;
  std::thread thread_;
};

std::string request_id(const char* prefix) {
  static std::atomic<uint64_t> n{0};
  return fmt::format("{}-{}", prefix, ++n);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

json logprobs_json(const eval::TokenScores& s, size_t first, size_t end, int64_t base_offset,
                   const model::Tokenizer& tok) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  for (size_t t = first; t < end && t < s.ids.size(); ++t) {
    tokens.push_back(s.tokens[t]);
    lps.push_back(s.logprobs[t]);
    tops.push_back(json{{tok.token_bytes(s.top_ids[t]), s.top_logprobs[t]}});
    offs.push_back(s.offsets[t] - base_offset);
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

void sse(httplib::DataSink& sink, const json& j) {
  std::string s = "data: " + dump(j) + "\n\n";
  sink.write(s.data(), s.size());
}

class Server {
 public:
  Server(const ServeOptions& o)
      : o_(o),
        m_({.model_dir = o.model, .tokenizer = o.tokenizer, .device = o.device, .threads = o.threads}),
        name_(o.name.empty() ? m_.name() : o.name),
        batcher_(m_, o.max_batch) {}

  void run() {
    httplib::Server svr;
    svr.new_task_queue = [n = o_.http_threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
    svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(dump({{"object", "list"},
                            {"data", json::array({{{"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "dsv3"},
                                                   {"max_model_len", m_.context_length()}}})}}),
                      "application/json");
    });
    svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, false);
    });
    svr.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
      handle(req, res, true);
    });
    int port = o_.port;
    if (port == 0) {
      port = svr.bind_to_any_port(o_.host);
    } else if (!svr.bind_to_port(o_.host, port)) {
      throw InputError(fmt::format("--port {}: cannot listen on {}:{} (in use?)", port, o_.host, port));
    }
    if (port < 0) throw InputError(fmt::format("--host {}: cannot listen", o_.host));
    fmt::print("dsv3 serve: {} on http://{}:{}/v1\n", name_, o_.host, port);
    std::fflush(stdout);
    g_stop = false;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::thread stopper([&] {
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      svr.stop();
    });
    svr.listen_after_bind();
    g_stop = true;
    stopper.join();
    fmt::print(stderr, "dsv3 serve: stopped\n");
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res, bool chat) {
    try {
      json body;
      try {
        body = json::parse(req.body);
      } catch (const json::parse_error& e) {
        throw BadRequest(fmt::format("request body is not JSON ({})", e.what()));
      }
      if (!body.is_object()) throw BadRequest("request body must be a JSON object");
      if (chat)
        chat_completion(body, res);
      else
        completion(body, res);
    } catch (const BadRequest& e) {
      send_error(res, 400, e.what());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    }
  }

  void completion(const json& body, httplib::Response& res) {
    if (!body.contains("prompt")) throw BadRequest("missing field 'prompt'");
    std::vector<std::string> prompts;
    if (body["prompt"].is_string()) {
      prompts.push_back(body["prompt"].get<std::string>());
    } else if (body["prompt"].is_array() && !body["prompt"].empty()) {
      for (auto& p : body["prompt"]) {
        if (!p.is_string()) throw BadRequest("'prompt' must be a string or an array of strings");
        prompts.push_back(p.get<std::string>());
      }
    } else {
      throw BadRequest("'prompt' must be a string or an array of strings");
    }
    auto base = base_request(body, 16);
    bool echo = get_or<bool>(body, "echo", false);
    int logprobs = body.contains("logprobs") && !body["logprobs"].is_null() ? get_or<int>(body, "logprobs", 0) : -1;
    bool stream = get_or<bool>(body, "stream", false);
    std::string id = request_id("cmpl");
    if (stream) {
      if (prompts.size() != 1 || logprobs >= 0 || echo) throw BadRequest("streaming takes one prompt, without logprobs or echo");
      auto r = base;
      r.prompt = m_.encode_prompt(prompts[0]);
      stream_out(res, r, id, false);
      return;
    }
    std::vector<eval::Completion> outs;
    for (auto& p : prompts) {
      auto r = base;
      r.prompt = m_.encode_prompt(p);
      outs.push_back(batcher_.run(std::move(r)));
      if (!outs.back().error.empty()) throw BadRequest(outs.back().error);
    }
    json choices = json::array();
    int64_t ptoks = 0, ctoks = 0;
    std::vector<std::string> full;
    for (size_t i = 0; i < prompts.size(); ++i) full.push_back(prompts[i] + outs[i].text);
    std::vector<eval::TokenScores> scores;
    if (logprobs >= 0) scores = m_.score(full);
    for (size_t i = 0; i < prompts.size(); ++i) {
      json c{{"index", i}, {"text", echo ? full[i] : outs[i].text}, {"finish_reason", outs[i].finish_reason}};
      if (logprobs >= 0) {
        auto& s = scores[i];
        size_t first = echo ? 0 : eval::first_continuation_token(s.offsets, static_cast<int64_t>(prompts[i].size()));
        c["logprobs"] = logprobs_json(s, first, s.ids.size(), echo ? 0 : static_cast<int64_t>(prompts[i].size()), m_.tokenizer());
      } else {
        c["logprobs"] = nullptr;
      }
      choices.push_back(c);
      ptoks += outs[i].prompt_tokens;
      ctoks += static_cast<int64_t>(outs[i].ids.size());
    }
    res.set_content(dump({{"id", id},
                          {"object", "text_completion"},
                          {"created", unix_now()},
                          {"model", name_},
                          {"choices", choices},
                          {"usage", {{"prompt_tokens", ptoks}, {"completion_tokens", ctoks}, {"total_tokens", ptoks + ctoks}}}}),
                    "application/json");
  }

  void chat_completion(const json& body, httplib::Response& res) {
    if (!body.contains("messages")) throw BadRequest("missing field 'messages'");
    auto msgs = model::chat_messages_from_json(body["messages"], "request");
    auto r = base_request(body, 1024);
    r.prompt = m_.encode_chat(msgs);
    std::string id = request_id("chatcmpl");
    if (get_or<bool>(body, "stream", false)) {
      stream_out(res, r, id, true);
      return;
    }
    auto c = batcher_.run(std::move(r));
    if (!c.error.empty()) throw BadRequest(c.error);
    auto ctoks = static_cast<int64_t>(c.ids.size());
    res.set_content(
        dump({{"id", id},
              {"object", "chat.completion"},
              {"created", unix_now()},
              {"model", name_},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", c.text}}},
                                        {"finish_reason", c.finish_reason}}})},
              {"usage", {{"prompt_tokens", c.prompt_tokens}, {"completion_tokens", ctoks}, {"total_tokens", c.prompt_tokens + ctoks}}}}),
        "application/json");
  }

  // Server-sent events: one chunk per piece of text, a last chunk with finish_reason, [DONE].
  void stream_out(httplib::Response& res, eval::CompletionRequest r, const std::string& id, bool chat) {
    if (static_cast<int64_t>(r.prompt.size()) + 3 > m_.context_length())
      throw BadRequest(fmt::format("prompt has {} tokens; the model's context is {} positions", r.prompt.size(),
                                   m_.context_length()));
    auto chunk = [this, id, chat](const json& delta_or_text, const json& finish) {
      json c{{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", unix_now()}, {"model", name_}};
      json choice{{"index", 0}, {"finish_reason", finish}};
      if (chat)
        choice["delta"] = delta_or_text;
      else
        choice["text"] = delta_or_text;
      c["choices"] = json::array({choice});
      return c;
    };
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, r, chunk, chat](size_t, httplib::DataSink& sink) {
      if (chat) sse(sink, chunk(json{{"role", "assistant"}, {"content", ""}}, nullptr));
      auto c = m_.complete_stream(r, [&](const std::string& piece) {
        sse(sink, chat ? chunk(json{{"content", piece}}, nullptr) : chunk(piece, nullptr));
      });
      sse(sink, chat ? chunk(json::object(), c.finish_reason) : chunk("", c.finish_reason));
      std::string done = "data: [DONE]\n\n";
      sink.write(done.data(), done.size());
      sink.done();
      return true;
    });
  }

  ServeOptions o_;
  eval::NativeModel m_;
  std::string name_;
  Batcher batcher_;
};

Registrar reg(60, [](CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  auto* c = root.add_subcommand("serve", "OpenAI-compatible HTTP server over the native engine "
                                         "(/v1/models, /v1/completions, /v1/chat/completions, SSE streaming)");
  c->add_option("--model", o->model, "checkpoint folder (config.json + safetensors)")->required();
  c->add_option("--tokenizer", o->tokenizer, "tokenizer.json (default: DIR/tokenizer.json, else the bundled one)");
  c->add_option("--host", o->host, "address to listen on (default 127.0.0.1)");
  c->add_option("--port", o->port, "port (default 8000; 0 picks a free one, printed on stdout)")->check(CLI::Range(0, 65535));
  c->add_option("--served-model-name", o->name, "the model id clients use (default: the folder name)");
  c->add_option("--threads", o->threads, "CPU threads for the model (0: all)")->check(CLI::Range(0, 1024));
  c->add_option("--max-batch", o->max_batch, "requests decoded together (default 16)")->check(CLI::Range(1, 1024));
  c->add_option("--http-threads", o->http_threads, "connections served at once (default 32)")->check(CLI::Range(1, 1024));
  c->add_option("--backend", o->device, "cpu or cuda (default cpu)")->check(CLI::IsMember({"cpu", "cuda"}));
  c->callback([o] { Server(*o).run(); });
});

}  // namespace
}  // namespace dsv3::cli
