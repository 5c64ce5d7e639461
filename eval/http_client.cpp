#include "eval/http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace dsv3::eval {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One easy handle per thread: keeps the connection alive between requests.
struct ThreadHandle {
  CURL* h = nullptr;
  ThreadHandle() { h = curl_easy_init(); }
  ~ThreadHandle() {
    if (h) curl_easy_cleanup(h);
  }
};

struct Transfer {
  std::string body;
  double retry_after = -1;
  const std::atomic<bool>* cancelled = nullptr;
};

size_t on_body(char* p, size_t size, size_t n, void* ud) {
  static_cast<Transfer*>(ud)->body.append(p, size * n);
  return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  std::string line(p, size * n);
  std::string lower = line;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.rfind("retry-after:", 0) == 0) {
    // seconds only (the HTTP-date form is treated as "no hint")
    char* end = nullptr;
    double v = std::strtod(line.c_str() + 12, &end);
    if (end != line.c_str() + 12 && v >= 0) static_cast<Transfer*>(ud)->retry_after = v;
  }
  return size * n;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(ud);
  return t->cancelled && t->cancelled->load() ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient(std::string base_url, HttpOptions opt) : base_(std::move(base_url)), opt_(std::move(opt)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  global_init();
}

HttpReply HttpClient::request(const std::string& path, const nlohmann::json& body) const {
  thread_local ThreadHandle th;
  CURL* h = th.h;
  const std::string url = base_ + path;
  const std::string payload = body.is_null() ? "" : body.dump();
  HttpReply r;
  for (int attempt = 0;; ++attempt) {
    r = HttpReply{};
    r.attempts = attempt + 1;
    Transfer t;
    t.cancelled = &cancelled_;
    curl_easy_reset(h);
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    std::string auth;
    if (!opt_.api_key.empty()) {
      auth = "Authorization: Bearer " + opt_.api_key;
      headers = curl_slist_append(headers, auth.c_str());
    }
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (!body.is_null()) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout_s * 1000));
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    bool retryable = false;
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      r.error = "cancelled";
      return r;
    }
    if (rc != CURLE_OK) {
      r.error = curl_easy_strerror(rc);
      retryable = true;
    } else {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
      if (r.status >= 200 && r.status < 300) {
        try {
          r.body = nlohmann::json::parse(t.body);
          return r;
        } catch (const nlohmann::json::parse_error&) {
          std::string head = t.body.substr(0, 80);
          for (auto& c : head)
            if (c == '\n' || c == '\r') c = ' ';
          r.error = fmt::format("malformed JSON in the answer (HTTP {}): '{}'", r.status, head);
          retryable = true;
        }
      } else {
        std::string msg = t.body.substr(0, 200);
        try {  // OpenAI-style {"error": {"message": ...}}
          auto j = nlohmann::json::parse(t.body);
          if (j.contains("error") && j["error"].is_object() && j["error"].contains("message"))
            msg = j["error"]["message"].get<std::string>();
        } catch (...) {
        }
        for (auto& c : msg)
          if (c == '\n' || c == '\r') c = ' ';
        r.error = fmt::format("HTTP {}: {}", r.status, msg);
        retryable = r.status == 429 || r.status >= 500;
      }
    }
    if (!retryable) return r;
    if (attempt >= opt_.retries || cancelled_) {
      r.fatal = !cancelled_;
      return r;
    }
    double wait = std::min(60.0, opt_.backoff_s * std::pow(2.0, attempt));
    if (t.retry_after >= 0) wait = std::max(wait, std::min(t.retry_after, opt_.max_retry_after_s));
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (std::chrono::steady_clock::now() < until && !cancelled_)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace dsv3::eval
