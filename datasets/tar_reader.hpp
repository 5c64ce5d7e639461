#pragma once
// Reads the regular-file members of a POSIX tar archive (ustar, GNU long names, pax path).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace dsv3::datasets {

// Calls want(name) for each regular file member; when it returns true, the member's bytes
// are passed to take(name, bytes). Throws InputError naming the archive on a corrupt header.
void for_each_tar_member(const std::filesystem::path& archive,
                         const std::function<bool(const std::string& name)>& want,
                         const std::function<void(const std::string& name, const std::string& bytes)>& take);

}  // namespace dsv3::datasets
