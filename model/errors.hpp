#pragma once
// Error types shared by every library. Throw at the point of failure, naming the file,
// the field (or line) and what is wrong; the CLI turns InputError into one line on
// stderr and exit code 2, anything else into exit code 1.
#include <stdexcept>
#include <string>

namespace dsv3 {

// Bad user input: a file, a field, a flag or a value the user can fix.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dsv3
