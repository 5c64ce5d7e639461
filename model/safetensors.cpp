#include "model/safetensors.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/errors.hpp"

namespace dsv3::model {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_str() const { return fmt::format("[{}]", fmt::join(shape, ", ")); }

namespace {
constexpr int64_t kMaxHeader = 100 * 1000 * 1000;  // the reference reader's cap

[[noreturn]] void bad(const std::string& file, const std::string& what) {
  throw InputError(fmt::format("{}: {}", file, what));
}
}  // namespace

SafetensorsFile::SafetensorsFile(const fs::path& path) : path_(path.string()) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) bad(path_, fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    bad(path_, "cannot stat");
  }
  size_ = st.st_size;
  if (size_ < 8) {
    ::close(fd);
    bad(path_, fmt::format("truncated safetensors file: {} bytes, shorter than the 8-byte header size", size_));
  }
  map_ = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    bad(path_, fmt::format("mmap failed: {}", std::strerror(errno)));
  }
  const auto* base = static_cast<const uint8_t*>(map_);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
  if (n > static_cast<uint64_t>(kMaxHeader))
    bad(path_, fmt::format("bad safetensors header: header size {} exceeds the 100 MB limit (not a safetensors file?)", n));
  if (static_cast<int64_t>(8 + n) > size_)
    bad(path_, fmt::format("truncated safetensors file: header of {} bytes but the file has {} bytes", n, size_));
  const char* hdr = reinterpret_cast<const char*>(base + 8);
  if (n == 0 || hdr[0] != '{') bad(path_, "bad safetensors header: does not start with '{'");
  json j;
  try {
    j = json::parse(hdr, hdr + n);
  } catch (const json::parse_error& e) {
    bad(path_, fmt::format("bad safetensors header: invalid JSON at byte {}", e.byte));
  }
  if (!j.is_object()) bad(path_, "bad safetensors header: not a JSON object");
  const int64_t data_start = 8 + static_cast<int64_t>(n);
  const int64_t data_len = size_ - data_start;
  int64_t max_end = 0, total = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) bad(path_, "bad safetensors header: __metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m)
        if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const std::string& name = it.key();
    const json& e = *it;
    auto fail = [&](const std::string& what) { bad(path_, fmt::format("bad safetensors header: tensor '{}': {}", name, what)); };
    if (!e.is_object()) fail("entry is not an object");
    if (!e.contains("dtype") || !e["dtype"].is_string()) fail("missing 'dtype'");
    if (!e.contains("shape") || !e["shape"].is_array()) fail("missing 'shape'");
    if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2 ||
        !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
      fail("missing or malformed 'data_offsets'");
    TensorInfo t;
    t.name = name;
    t.file = path_;
    t.dtype_name = e["dtype"].get<std::string>();
    t.dtype_known = parse_dtype(t.dtype_name, &t.dtype);
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) fail("shape entries must be non-negative integers");
      t.shape.push_back(d.get<int64_t>());
    }
    const int64_t b = e["data_offsets"][0].get<int64_t>(), en = e["data_offsets"][1].get<int64_t>();
    if (en < b) fail(fmt::format("data_offsets [{}, {}] are reversed", b, en));
    if (t.dtype_known && en - b != t.numel() * dtype_size(t.dtype))
      fail(fmt::format("data_offsets [{}, {}] hold {} bytes but {} {} needs {}", b, en, en - b, t.dtype_name,
                       t.shape_str(), t.numel() * dtype_size(t.dtype)));
    if (en > data_len)
      bad(path_, fmt::format("truncated safetensors file: tensor '{}' ends at byte {} of the data buffer but only {} bytes follow the header",
                             name, en, data_len));
    t.data = base + data_start + b;
    t.nbytes = en - b;
    max_end = std::max(max_end, en);
    total += en - b;
    tensors_.emplace(name, std::move(t));
  }
  if (total != max_end) bad(path_, "bad safetensors header: tensors overlap or leave holes in the data buffer");
  if (max_end != data_len)
    bad(path_, fmt::format("bad safetensors file: {} bytes follow the tensors' data", data_len - max_end));
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, static_cast<size_t>(size_));
}

std::shared_ptr<Checkpoint> Checkpoint::open(const fs::path& path) {
  auto ck = std::make_shared<Checkpoint>();
  std::vector<fs::path> files;
  std::map<std::string, std::string> weight_map;
  fs::path index_path;
  if (fs::is_regular_file(path)) {
    files.push_back(path);
    ck->description_ = path.string();
  } else if (fs::is_directory(path)) {
    ck->description_ = path.string();
    index_path = path / "model.safetensors.index.json";
    if (fs::exists(index_path)) {
      std::ifstream f(index_path);
      json j;
      try {
        j = json::parse(f);
      } catch (const json::parse_error& e) {
        bad(index_path.string(), fmt::format("invalid JSON at byte {}", e.byte));
      }
      if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        bad(index_path.string(), "field 'weight_map': missing or not an object");
      std::vector<std::string> names;
      for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it->is_string()) bad(index_path.string(), fmt::format("field 'weight_map.{}': expected a file name", it.key()));
        weight_map[it.key()] = it->get<std::string>();
        names.push_back(it->get<std::string>());
      }
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
      for (const auto& n : names) files.push_back(path / n);
    } else if (fs::exists(path / "model.safetensors")) {
      files.push_back(path / "model.safetensors");
    } else {
      for (const auto& e : fs::directory_iterator(path))
        if (e.path().extension() == ".safetensors") files.push_back(e.path());
      std::sort(files.begin(), files.end());
    }
    if (files.empty()) bad(path.string(), "no model.safetensors.index.json and no *.safetensors files");
  } else {
    bad(path.string(), "no such checkpoint file or folder");
  }
  for (const auto& f : files) {
    if (!fs::exists(f)) bad(f.string(), index_path.empty() ? "missing" : fmt::format("missing (listed in {})", index_path.string()));
    ck->files_.push_back(std::make_unique<SafetensorsFile>(f));
  }
  for (const auto& file : ck->files_) {
    for (const auto& [name, t] : file->tensors()) {
      if (!weight_map.empty()) {
        auto it = weight_map.find(name);
        if (it == weight_map.end() || (fs::path(ck->description_) / it->second).string() != file->path()) continue;
      }
      auto [pos, fresh] = ck->index_.emplace(name, &t);
      if (!fresh) bad(file->path(), fmt::format("tensor '{}' also appears in {}", name, pos->second->file));
    }
  }
  for (const auto& [name, file] : weight_map)
    if (!ck->index_.count(name))
      bad((fs::path(ck->description_) / file).string(),
          fmt::format("missing tensor '{}' (listed in {})", name, index_path.string()));
  return ck;
}

const TensorInfo& Checkpoint::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw InputError(fmt::format("{}: missing tensor '{}'", description_, name));
  return *it->second;
}

const TensorInfo& Checkpoint::expect(const std::string& name, const std::vector<int64_t>& shape,
                                     const std::vector<DType>& allowed) const {
  const TensorInfo& t = get(name);
  if (t.shape != shape)
    throw InputError(fmt::format("{}: tensor '{}' has shape {}, expected [{}]", t.file, name, t.shape_str(),
                                 fmt::join(shape, ", ")));
  bool ok = t.dtype_known && std::find(allowed.begin(), allowed.end(), t.dtype) != allowed.end();
  if (!ok) {
    std::vector<std::string> names;
    for (DType d : allowed) names.push_back(dtype_name(d));
    throw InputError(fmt::format("{}: tensor '{}' has dtype {}, expected {}", t.file, name, t.dtype_name,
                                 fmt::join(names, " or ")));
  }
  return t;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> v;
  for (const auto& [n, t] : index_) v.push_back(n);
  return v;
}

int64_t Checkpoint::mapped_bytes() const {
  int64_t s = 0;
  for (const auto& f : files_) s += f->size();
  return s;
}

}  // namespace dsv3::model
