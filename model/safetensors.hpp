#pragma once
// Safetensors checkpoints, memory-mapped: one file, or shards listed in
// model.safetensors.index.json. Nothing is copied at open; tensors point into the maps.
//
// File layout (huggingface/safetensors): u64 little-endian header size N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the
// data buffer; offsets are relative to the buffer, which the tensors cover without holes.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/dtype.hpp"

namespace dsv3::model {

struct TensorInfo {
  std::string name;
  std::string dtype_name;  // as written in the header
  bool dtype_known = false;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // into the mapped file
  int64_t nbytes = 0;
  std::string file;  // path, for error messages
  int64_t numel() const;
  std::string shape_str() const;
};

// One mapped .safetensors file.
class SafetensorsFile {
 public:
  // Throws dsv3::InputError naming the file for a missing file, a truncated file or a bad header.
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  int64_t size() const { return size_; }

 private:
  std::string path_;
  void* map_ = nullptr;
  int64_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint folder (or a single .safetensors file).
class Checkpoint {
 public:
  // DIR/model.safetensors.index.json, else DIR/model.safetensors, else every DIR/*.safetensors;
  // or the file itself. Throws dsv3::InputError.
  static std::shared_ptr<Checkpoint> open(const std::filesystem::path& path);

  bool has(const std::string& name) const { return index_.count(name) != 0; }
  // Throws InputError "missing tensor NAME in CHECKPOINT".
  const TensorInfo& get(const std::string& name) const;
  // get() plus a shape check and a dtype check (one of `allowed`); errors name the tensor and file.
  const TensorInfo& expect(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<DType>& allowed) const;
  std::vector<std::string> names() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  int64_t mapped_bytes() const;
  const std::string& description() const { return description_; }

 private:
  std::string description_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> index_;
};

}  // namespace dsv3::model
