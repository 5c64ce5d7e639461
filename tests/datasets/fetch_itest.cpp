// `dsv3 datasets fetch` and `verify` against a real HTTP server on loopback and file:// URLs.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fmt/core.h>
#include <thread>

#include "datasets/sha256.hpp"
#include "datasets/verify.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
namespace ds = dsv3::datasets;
using dsv3::test::read_file;
using dsv3::test::run_dsv3;
using dsv3::test::TempDir;
using dsv3::test::write_file;

namespace {

fs::path samples() { return dsv3::test::source_dir() / "datasets" / "samples"; }

class Server {
 public:
  explicit Server(const fs::path& root) {
    svr_.Get(R"(/(.+))", [this, root](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      fs::path p = root / req.matches[1].str();
      if (!fs::is_regular_file(p)) { res.status = 404; return; }
      res.set_content(read_file(p), "application/octet-stream");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Server() {
    svr_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const { return fmt::format("http://127.0.0.1:{}/{}", port_, path); }
  std::atomic<int> requests{0};

 private:
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

std::string file_entry(const fs::path& file, const std::string& rel, const std::string& url, long items,
                       const std::string& format, const std::string& sha_override = "") {
  std::string s = fmt::format("      - path: {}\n", rel);
  if (!url.empty()) s += fmt::format("        url: {}\n", url);
  s += fmt::format("        bytes: {}\n        sha256: {}\n        items: {}\n        format: {}\n", fs::file_size(file),
                   sha_override.empty() ? ds::sha256_file(file) : sha_override, items, format);
  return s;
}

// A manifest over the samples: humaneval and gsm8k by URL, MMLU from a tar, MATH by hand.
std::string sample_manifest(const Server& srv, const fs::path& tar, const std::string& gsm_sha = "") {
  std::string m = "version: 1\ndatasets:\n";
  m += "  - name: humaneval\n    source: samples\n    files:\n";
  m += file_entry(samples() / "humaneval/HumanEval.jsonl", "humaneval/HumanEval.jsonl",
                  srv.url("humaneval/HumanEval.jsonl"), 3, "humaneval");
  m += "  - name: gsm8k\n    source: samples\n    files:\n";
  m += file_entry(samples() / "gsm8k/test.jsonl", "gsm8k/test.jsonl", srv.url("gsm8k/test.jsonl"), 3, "gsm8k", gsm_sha);
  m += "  - name: math\n    source: by hand\n    files:\n";
  m += file_entry(samples() / "math/test.jsonl", "math/test.jsonl", "", 3, "math");
  m += fmt::format("  - name: mmlu\n    source: samples tar\n    archive:\n      url: {}\n      type: tar\n"
                   "      member_prefix: data/\n      dest: mmlu/data/\n    files:\n",
                   srv.url(tar.filename().string()));
  for (const char* f : {"dev/astronomy_dev.csv", "test/astronomy_test.csv", "test/high_school_mathematics_test.csv"})
    m += file_entry(samples() / "mmlu/data" / f, std::string("mmlu/data/") + f, "", f[0] == 'd' ? 5 : (f[5] == 'a' ? 2 : 3),
                    "mmlu");
  return m;
}

}  // namespace

TEST(Fetch, DownloadsExtractsAndVerifiesOverLoopbackHttp) {
  TempDir serve, data;
  fs::copy(samples(), serve.path(), fs::copy_options::recursive);
  auto tr = dsv3::test::run({"tar", "-C", (samples() / "mmlu").string(), "-cf", (serve / "mmlu.tar").string(), "data"});
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  Server srv(serve.path());
  write_file(data / "manifest.yaml", sample_manifest(srv, serve / "mmlu.tar"));
  auto r = run_dsv3({"datasets", "fetch", "--data-dir", (data / "d").string(), "--manifest", (data / "manifest.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("downloaded humaneval/HumanEval.jsonl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("extracted  mmlu/data/test/astronomy_test.csv"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("manual     math/test.jsonl"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(data / "d/mmlu/data/test/astronomy_test.csv"), read_file(samples() / "mmlu/data/test/astronomy_test.csv"));
  EXPECT_FALSE(fs::exists(data / "d/mmlu.archive.download"));
  int after_first = srv.requests;
  EXPECT_EQ(after_first, 3);
  // verify: everything but the hand-placed MATH file
  auto v = run_dsv3({"datasets", "verify", "--data-dir", (data / "d").string(), "--manifest", (data / "manifest.yaml").string()});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("5 ok, 1 missing, 0 not matching"), std::string::npos) << v.out;
  // a second fetch downloads nothing
  r = run_dsv3({"datasets", "fetch", "--data-dir", (data / "d").string(), "--manifest", (data / "manifest.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(srv.requests, after_first);
  // a corrupted file is reported by verify
  write_file(data / "d/gsm8k/test.jsonl", read_file(samples() / "gsm8k/test.jsonl") + "\n");
  v = run_dsv3({"datasets", "verify", "--data-dir", (data / "d").string(), "--manifest", (data / "manifest.yaml").string()});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_NE(v.out.find("size       gsm8k/test.jsonl"), std::string::npos) << v.out;
}

TEST(Fetch, HashMismatchAndHttpErrorsAreBadInput) {
  TempDir serve, data;
  fs::copy(samples(), serve.path(), fs::copy_options::recursive);
  Server srv(serve.path());
  write_file(data / "manifest.yaml", sample_manifest(srv, serve / "missing.tar", std::string(64, 'a')));
  auto r = run_dsv3({"datasets", "fetch", "--data-dir", (data / "d").string(), "--manifest",
                     (data / "manifest.yaml").string(), "--datasets", "gsm8k"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the manifest expects"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(data / "d/gsm8k/test.jsonl"));
  EXPECT_FALSE(fs::exists(data / "d/gsm8k/test.jsonl.download"));
  r = run_dsv3({"datasets", "fetch", "--data-dir", (data / "d").string(), "--manifest", (data / "manifest.yaml").string(),
                "--datasets", "mmlu"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.tar: download failed"), std::string::npos) << r.err;
}

TEST(Fetch, FileUrl) {
  TempDir data;
  std::string m = "version: 1\ndatasets:\n  - name: gsm8k\n    source: local\n    files:\n" +
                  file_entry(samples() / "gsm8k/test.jsonl", "gsm8k/test.jsonl",
                             "file://" + (samples() / "gsm8k/test.jsonl").string(), 3, "gsm8k");
  write_file(data / "m.yaml", m);
  auto r = run_dsv3({"datasets", "fetch", "--data-dir", (data / "d").string(), "--manifest", (data / "m.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(data / "d/gsm8k/test.jsonl"), read_file(samples() / "gsm8k/test.jsonl"));
}

TEST(Manifest, ShippedManifestParsesAndUnknownKeysAreRejected) {
  auto m = ds::load_manifest(ds::default_manifest_path());
  ASSERT_EQ(m.datasets.size(), 4u);
  std::size_t files = 0;
  for (auto& d : m.datasets) files += d.files.size();
  EXPECT_EQ(files, 177u);
  TempDir t;
  write_file(t / "m.yaml", "version: 1\ndatasets:\n  - name: x\n    source: s\n    colour: red\n    files: []\n");
  auto r = run_dsv3({"datasets", "verify", "--data-dir", t.path().string(), "--manifest", (t / "m.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'colour'"), std::string::npos) << r.err;
}
