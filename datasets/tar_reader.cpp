#include "datasets/tar_reader.hpp"

#include <fmt/core.h>

#include <fstream>
#include <vector>

#include "model/errors.hpp"

namespace dsv3::datasets {
namespace {

std::uint64_t octal(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n && p[i]; ++i) {
    if (p[i] == ' ') continue;
    if (p[i] < '0' || p[i] > '7') return UINT64_MAX;
    v = v * 8 + std::uint64_t(p[i] - '0');
  }
  return v;
}

std::string field(const char* p, int n) {
  int len = 0;
  while (len < n && p[len]) ++len;
  return std::string(p, std::size_t(len));
}

}  // namespace

void for_each_tar_member(const std::filesystem::path& archive, const std::function<bool(const std::string&)>& want,
                         const std::function<void(const std::string&, const std::string&)>& take) {
  std::ifstream in(archive, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open archive", archive.string()));
  std::string pending_name;
  char h[512];
  std::uint64_t offset = 0;
  for (;;) {
    in.read(h, 512);
    if (in.gcount() == 0) break;
    if (in.gcount() != 512) throw InputError(fmt::format("{}: truncated tar header at byte {}", archive.string(), offset));
    offset += 512;
    bool zero = true;
    for (char c : h) if (c) { zero = false; break; }
    if (zero) break;
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    if (octal(h + 148, 8) != sum)
      throw InputError(fmt::format("{}: bad tar header checksum at byte {}", archive.string(), offset - 512));
    std::uint64_t size = octal(h + 124, 12);
    if (size == UINT64_MAX) throw InputError(fmt::format("{}: bad member size at byte {}", archive.string(), offset - 512));
    char type = h[156];
    std::string name = field(h, 100);
    if (std::string(h + 257, 5) == "ustar") {
      std::string prefix = field(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!pending_name.empty()) { name = pending_name; pending_name.clear(); }
    std::uint64_t padded = (size + 511) / 512 * 512;
    bool is_file = (type == '0' || type == '\0');
    bool read_body = type == 'L' || type == 'x' || (is_file && want(name));
    if (read_body) {
      std::string body(size, '\0');
      in.read(body.data(), std::streamsize(size));
      if (std::uint64_t(in.gcount()) != size) throw InputError(fmt::format("{}: truncated member '{}'", archive.string(), name));
      in.ignore(std::streamsize(padded - size));
      if (type == 'L') {
        pending_name = body.c_str();
      } else if (type == 'x') {
        std::size_t p = 0;  // records "<len> key=value\n"
        while (p < body.size()) {
          std::size_t sp = body.find(' ', p);
          if (sp == std::string::npos) break;
          std::size_t len = std::stoul(body.substr(p, sp - p));
          std::string rec = body.substr(sp + 1, len - (sp - p) - 2);
          if (rec.rfind("path=", 0) == 0) pending_name = rec.substr(5);
          p += len;
        }
      } else {
        take(name, body);
      }
    } else {
      in.seekg(std::streamoff(padded), std::ios::cur);
    }
    offset += padded;
  }
}

}  // namespace dsv3::datasets
