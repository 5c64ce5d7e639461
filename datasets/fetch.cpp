#include "datasets/fetch.hpp"

#include <curl/curl.h>
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>

#include "datasets/sha256.hpp"
#include "datasets/tar_reader.hpp"
#include "datasets/verify.hpp"
#include "model/errors.hpp"

namespace dsv3::datasets {
namespace fs = std::filesystem;
namespace {

std::size_t write_cb(char* ptr, std::size_t size, std::size_t n, void* user) {
  return std::fwrite(ptr, size, n, static_cast<std::FILE*>(user)) * size;
}

void ensure_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void check_bytes(const fs::path& p, const ManifestFile& f, const std::string& from) {
  auto size = fs::file_size(p);
  std::string h = sha256_file(p);
  if (size != f.bytes || h != f.sha256) {
    fs::remove(p);
    throw InputError(fmt::format("{}: downloaded {} has {} bytes, sha256 {}; the manifest expects {} bytes, sha256 {}",
                                 from, f.path, size, h, f.bytes, f.sha256));
  }
}

}  // namespace

void download_url(const std::string& url, const fs::path& dest) {
  ensure_curl();
  fs::create_directories(dest.parent_path());
  fs::path part = dest;
  part += ".part";
  std::FILE* out = std::fopen(part.c_str(), "wb");
  if (!out) throw InputError(fmt::format("{}: cannot write", part.string()));
  CURL* c = curl_easy_init();
  if (!c) { std::fclose(out); throw std::runtime_error("curl_easy_init failed"); }
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "dsv3-lab datasets fetch");
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  bool write_ok = std::fclose(out) == 0;
  if (rc != CURLE_OK || !write_ok) {
    fs::remove(part);
    throw InputError(fmt::format("{}: download failed: {}", url, err[0] ? err : curl_easy_strerror(rc)));
  }
  fs::rename(part, dest);
}

std::vector<FetchResult> fetch_datasets(const fs::path& data_dir, const Manifest& m,
                                        const std::vector<std::string>& only,
                                        const std::function<void(const std::string&)>& log) {
  std::vector<FetchResult> out;
  for (auto& d : m.datasets) {
    if (!only.empty() && std::find(only.begin(), only.end(), d.name) == only.end()) continue;
    std::vector<const ManifestFile*> need_archive;
    for (auto& f : d.files) {
      FileCheck c = check_file(data_dir, d.name, f);
      if (c.status == "ok") { out.push_back({f.path, "present", ""}); continue; }
      if (!f.url.empty()) {
        log(fmt::format("{}: downloading {}", f.path, f.url));
        fs::path dest = data_dir / f.path;
        fs::path tmp = dest;
        tmp += ".download";
        download_url(f.url, tmp);
        check_bytes(tmp, f, f.url);
        fs::rename(tmp, dest);
        out.push_back({f.path, "downloaded", f.url});
      } else if (d.archive) {
        need_archive.push_back(&f);
      } else {
        out.push_back({f.path, "manual", fmt::format("no official download; {}", d.source)});
        log(fmt::format("{}: no official download; place it by hand ({})", f.path, c.status));
      }
    }
    if (need_archive.empty()) continue;
    const ManifestArchive& a = *d.archive;
    fs::path tmp = data_dir / (d.name + ".archive.download");
    log(fmt::format("{}: downloading {} for {} files", d.name, a.url, need_archive.size()));
    download_url(a.url, tmp);
    std::map<std::string, const ManifestFile*> wanted;  // member name -> file
    for (auto* f : need_archive) {
      if (f->path.rfind(a.dest, 0) != 0)
        throw InputError(fmt::format("{}: {} is not under the archive dest '{}'", m.file.string(), f->path, a.dest));
      wanted[a.member_prefix + f->path.substr(a.dest.size())] = f;
    }
    std::map<std::string, bool> done;
    try {
      for_each_tar_member(
          tmp, [&](const std::string& name) { return wanted.count(name) > 0; },
          [&](const std::string& name, const std::string& bytes) {
            const ManifestFile* f = wanted.at(name);
            fs::path dest = data_dir / f->path;
            fs::create_directories(dest.parent_path());
            fs::path part = dest;
            part += ".part";
            { std::ofstream o(part, std::ios::binary); o.write(bytes.data(), std::streamsize(bytes.size())); }
            check_bytes(part, *f, a.url + " member " + name);
            fs::rename(part, dest);
            done[name] = true;
          });
    } catch (...) {
      fs::remove(tmp);
      throw;
    }
    fs::remove(tmp);
    for (auto& [name, f] : wanted) {
      if (!done.count(name))
        throw InputError(fmt::format("{}: archive has no member '{}' (for {})", a.url, name, f->path));
      out.push_back({f->path, "extracted", a.url});
    }
  }
  return out;
}

}  // namespace dsv3::datasets
