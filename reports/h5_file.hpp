#pragma once
// A thin RAII layer over the HDF5 C API for the report files: create/open files and groups,
// scalar and array attributes, and appendable 1-D column datasets (chunked, unlimited) of
// native numbers or variable-length UTF-8 strings. Everything it writes opens in h5py with
// no plugin. Errors throw: dsv3::InputError for a file the user named that is not a valid
// report, std::runtime_error for library failures.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dsv3::reports::h5 {

// Owns one hid_t and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) { reset(); id_ = o.id_; o.id_ = H5I_INVALID_HID; }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Silences HDF5's own error printing for the life of the process (errors become exceptions).
void quiet_errors();

Handle create_file(const std::filesystem::path& p);                    // truncates
Handle open_file(const std::filesystem::path& p, bool writable);      // InputError if not HDF5
void flush(const Handle& file);

bool exists(hid_t loc, const std::string& path);  // link exists (intermediate groups too)
Handle open_group(hid_t loc, const std::string& path);
Handle create_group(hid_t loc, const std::string& path);  // creates intermediate groups
Handle ensure_group(hid_t loc, const std::string& path);
std::vector<std::string> list_children(hid_t group);        // link names, in name order
void remove_link(hid_t loc, const std::string& name);

// Attributes (written over when present).
void set_attr(hid_t obj, const std::string& name, const std::string& v);
void set_attr(hid_t obj, const std::string& name, int64_t v);
void set_attr(hid_t obj, const std::string& name, double v);
void set_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& v);
bool has_attr(hid_t obj, const std::string& name);
std::string attr_str(hid_t obj, const std::string& name);   // throws when absent
int64_t attr_int(hid_t obj, const std::string& name);
double attr_double(hid_t obj, const std::string& name);
std::vector<int64_t> attr_ints(hid_t obj, const std::string& name);
std::string attr_str_or(hid_t obj, const std::string& name, const std::string& dflt);
std::optional<double> attr_double_opt(hid_t obj, const std::string& name);

// Whole 1-D datasets, written at once (fixed size).
void write_column(hid_t loc, const std::string& name, const std::vector<std::string>& v);
void write_column(hid_t loc, const std::string& name, const std::vector<double>& v);
void write_column(hid_t loc, const std::string& name, const std::vector<int64_t>& v);
void write_matrix(hid_t loc, const std::string& name, const std::vector<double>& v, size_t rows, size_t cols);

// Appendable columns: create empty (chunked, unlimited), then append one value at a time.
enum class ColType { str, i8, i32, i64, f64 };
void create_column(hid_t loc, const std::string& name, ColType t, size_t chunk = 256);
void append(hid_t loc, const std::string& name, const std::string& v);
void append(hid_t loc, const std::string& name, int64_t v);  // any integer column
void append(hid_t loc, const std::string& name, double v);
// Several rows at once (one extent change and one write per column).
void append_rows(hid_t loc, const std::string& name, const std::vector<std::string>& v);
void append_rows(hid_t loc, const std::string& name, const std::vector<int64_t>& v);  // any integer column
void append_rows(hid_t loc, const std::string& name, const std::vector<double>& v);
size_t column_length(hid_t loc, const std::string& name);
void truncate_column(hid_t loc, const std::string& name, size_t n);

// Reading whole columns (any 1-D dataset of the matching class).
std::vector<std::string> read_strings(hid_t loc, const std::string& name);
std::vector<int64_t> read_ints(hid_t loc, const std::string& name);
std::vector<double> read_doubles(hid_t loc, const std::string& name);
// 2-D double dataset: values row-major, dims out.
std::vector<double> read_matrix(hid_t loc, const std::string& name, size_t& rows, size_t& cols);

}  // namespace dsv3::reports::h5
