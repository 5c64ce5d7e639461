#include "reports/h5_file.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "model/errors.hpp"

namespace dsv3::reports::h5 {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("HDF5: " + what); }

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}
void check(herr_t rc, const char* what, const std::string& name) {
  if (rc < 0) fail(fmt::format("{} '{}' failed", what, name));
}

Handle str_type() {
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"));
  H5Tset_size(t.id(), H5T_VARIABLE);
  H5Tset_cset(t.id(), H5T_CSET_UTF8);
  return t;
}

hid_t native(ColType t) {
  switch (t) {
    case ColType::i8: return H5T_NATIVE_INT8;
    case ColType::i32: return H5T_NATIVE_INT32;
    case ColType::i64: return H5T_NATIVE_INT64;
    case ColType::f64: return H5T_NATIVE_DOUBLE;
    case ColType::str: break;
  }
  return H5T_NATIVE_INT64;
}

Handle open_ds(hid_t loc, const std::string& name) {
  hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (d < 0) throw InputError(fmt::format("missing dataset '{}'", name));
  return Handle(d);
}

size_t ds_len(hid_t ds) {
  Handle sp(H5Dget_space(ds));
  int nd = H5Sget_simple_extent_ndims(sp.id());
  if (nd != 1) fail("expected a 1-D dataset");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp.id(), &n, nullptr);
  return static_cast<size_t>(n);
}

// Grows ds by one element and returns the file space selecting the new element.
Handle grow_one(hid_t ds, size_t& index) {
  index = ds_len(ds);
  hsize_t n = index + 1;
  if (H5Dset_extent(ds, &n) < 0) fail("H5Dset_extent");
  Handle fs(H5Dget_space(ds));
  hsize_t start = index, count = 1;
  H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  return fs;
}

Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR)); }

Handle open_attr_replacing(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  return Handle(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "H5Acreate " + name));
}

Handle open_attr(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) throw InputError(fmt::format("missing attribute '{}'", name));
  return Handle(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "H5Aopen " + name));
}

}  // namespace

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle create_file(const std::filesystem::path& p) {
  quiet_errors();
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw InputError(fmt::format("{}: cannot create HDF5 file", p.string()));
  return Handle(f);
}

Handle open_file(const std::filesystem::path& p, bool writable) {
  quiet_errors();
  if (!std::filesystem::exists(p)) throw InputError(fmt::format("{}: no such file", p.string()));
  if (H5Fis_hdf5(p.c_str()) <= 0) throw InputError(fmt::format("{}: not an HDF5 file", p.string()));
  hid_t f = H5Fopen(p.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw InputError(fmt::format("{}: cannot open HDF5 file (damaged?)", p.string()));
  return Handle(f);
}

void flush(const Handle& file) {
  if (H5Fflush(file.id(), H5F_SCOPE_GLOBAL) < 0) fail("H5Fflush");
}

bool exists(hid_t loc, const std::string& path) {
  // Check each component so a missing intermediate group is not an error.
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (!cur.empty()) cur += '/';
    cur += path.substr(pos, next - pos);
    if (H5Lexists(loc, cur.c_str(), H5P_DEFAULT) <= 0) return false;
    pos = next + 1;
  }
  return true;
}

Handle open_group(hid_t loc, const std::string& path) {
  hid_t g = H5Gopen2(loc, path.c_str(), H5P_DEFAULT);
  if (g < 0) throw InputError(fmt::format("missing group '{}'", path));
  return Handle(g);
}

Handle create_group(hid_t loc, const std::string& path) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.id(), 1);
  H5Pset_char_encoding(lcpl.id(), H5T_CSET_UTF8);
  return Handle(check(H5Gcreate2(loc, path.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), "create group " + path));
}

Handle ensure_group(hid_t loc, const std::string& path) {
  return exists(loc, path) ? open_group(loc, path) : create_group(loc, path);
}

std::vector<std::string> list_children(hid_t group) {
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

void remove_link(hid_t loc, const std::string& name) {
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0) check(H5Ldelete(loc, name.c_str(), H5P_DEFAULT), "H5Ldelete", name);
}

void set_attr(hid_t obj, const std::string& name, const std::string& v) {
  auto t = str_type();
  auto sp = scalar_space();
  auto a = open_attr_replacing(obj, name, t.id(), sp.id());
  const char* p = v.c_str();
  check(H5Awrite(a.id(), t.id(), &p), "H5Awrite", name);
}

void set_attr(hid_t obj, const std::string& name, int64_t v) {
  auto sp = scalar_space();
  auto a = open_attr_replacing(obj, name, H5T_NATIVE_INT64, sp.id());
  check(H5Awrite(a.id(), H5T_NATIVE_INT64, &v), "H5Awrite", name);
}

void set_attr(hid_t obj, const std::string& name, double v) {
  auto sp = scalar_space();
  auto a = open_attr_replacing(obj, name, H5T_NATIVE_DOUBLE, sp.id());
  check(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, &v), "H5Awrite", name);
}

void set_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& v) {
  hsize_t n = v.size();
  Handle sp(H5Screate_simple(1, &n, nullptr));
  auto a = open_attr_replacing(obj, name, H5T_NATIVE_INT64, sp.id());
  if (!v.empty()) check(H5Awrite(a.id(), H5T_NATIVE_INT64, v.data()), "H5Awrite", name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string attr_str(hid_t obj, const std::string& name) {
  auto a = open_attr(obj, name);
  Handle ft(H5Aget_type(a.id()));
  if (H5Tget_class(ft.id()) != H5T_STRING) throw InputError(fmt::format("attribute '{}' is not a string", name));
  if (H5Tis_variable_str(ft.id()) > 0) {
    auto t = str_type();
    char* p = nullptr;
    check(H5Aread(a.id(), t.id(), &p), "H5Aread", name);
    std::string s = p ? p : "";
    if (p) H5free_memory(p);
    return s;
  }
  size_t n = H5Tget_size(ft.id());
  std::string s(n, '\0');
  check(H5Aread(a.id(), ft.id(), s.data()), "H5Aread", name);
  s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
  return s;
}

std::string attr_str_or(hid_t obj, const std::string& name, const std::string& dflt) {
  return has_attr(obj, name) ? attr_str(obj, name) : dflt;
}

int64_t attr_int(hid_t obj, const std::string& name) {
  auto a = open_attr(obj, name);
  int64_t v = 0;
  check(H5Aread(a.id(), H5T_NATIVE_INT64, &v), "H5Aread", name);
  return v;
}

double attr_double(hid_t obj, const std::string& name) {
  auto a = open_attr(obj, name);
  double v = 0;
  check(H5Aread(a.id(), H5T_NATIVE_DOUBLE, &v), "H5Aread", name);
  return v;
}

std::optional<double> attr_double_opt(hid_t obj, const std::string& name) {
  if (!has_attr(obj, name)) return std::nullopt;
  return attr_double(obj, name);
}

std::vector<int64_t> attr_ints(hid_t obj, const std::string& name) {
  auto a = open_attr(obj, name);
  Handle sp(H5Aget_space(a.id()));
  hssize_t n = H5Sget_simple_extent_npoints(sp.id());
  std::vector<int64_t> v(static_cast<size_t>(std::max<hssize_t>(n, 0)));
  if (!v.empty()) check(H5Aread(a.id(), H5T_NATIVE_INT64, v.data()), "H5Aread", name);
  return v;
}

namespace {
template <class T>
void write_fixed(hid_t loc, const std::string& name, hid_t type, const T* data, size_t n) {
  remove_link(loc, name);
  hsize_t dims = n;
  Handle sp(H5Screate_simple(1, &dims, nullptr));
  Handle ds(check(H5Dcreate2(loc, name.c_str(), type, sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create " + name));
  if (n) check(H5Dwrite(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "H5Dwrite", name);
}
}  // namespace

void write_column(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
  std::vector<const char*> p;
  for (auto& s : v) p.push_back(s.c_str());
  auto t = str_type();
  write_fixed(loc, name, t.id(), p.data(), p.size());
}
void write_column(hid_t loc, const std::string& name, const std::vector<double>& v) {
  write_fixed(loc, name, H5T_NATIVE_DOUBLE, v.data(), v.size());
}
void write_column(hid_t loc, const std::string& name, const std::vector<int64_t>& v) {
  write_fixed(loc, name, H5T_NATIVE_INT64, v.data(), v.size());
}

void write_matrix(hid_t loc, const std::string& name, const std::vector<double>& v, size_t rows, size_t cols) {
  if (v.size() != rows * cols) throw std::logic_error("write_matrix: size mismatch for " + name);
  remove_link(loc, name);
  hsize_t dims[2] = {rows, cols};
  Handle sp(H5Screate_simple(2, dims, nullptr));
  Handle ds(check(H5Dcreate2(loc, name.c_str(), H5T_NATIVE_DOUBLE, sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "create " + name));
  if (!v.empty()) check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "H5Dwrite", name);
}

void create_column(hid_t loc, const std::string& name, ColType t, size_t chunk) {
  hsize_t zero = 0, unlimited = H5S_UNLIMITED, ch = chunk;
  Handle sp(H5Screate_simple(1, &zero, &unlimited));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.id(), 1, &ch);
  Handle st = str_type();
  hid_t type = t == ColType::str ? st.id() : native(t);
  Handle ds(check(H5Dcreate2(loc, name.c_str(), type, sp.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT), "create " + name));
}

void append(hid_t loc, const std::string& name, const std::string& v) {
  auto ds = open_ds(loc, name);
  size_t i = 0;
  auto fs = grow_one(ds.id(), i);
  hsize_t one = 1;
  Handle ms(H5Screate_simple(1, &one, nullptr));
  auto t = str_type();
  const char* p = v.c_str();
  check(H5Dwrite(ds.id(), t.id(), ms.id(), fs.id(), H5P_DEFAULT, &p), "append", name);
}

void append(hid_t loc, const std::string& name, int64_t v) {
  auto ds = open_ds(loc, name);
  size_t i = 0;
  auto fs = grow_one(ds.id(), i);
  hsize_t one = 1;
  Handle ms(H5Screate_simple(1, &one, nullptr));
  check(H5Dwrite(ds.id(), H5T_NATIVE_INT64, ms.id(), fs.id(), H5P_DEFAULT, &v), "append", name);
}

void append(hid_t loc, const std::string& name, double v) {
  auto ds = open_ds(loc, name);
  size_t i = 0;
  auto fs = grow_one(ds.id(), i);
  hsize_t one = 1;
  Handle ms(H5Screate_simple(1, &one, nullptr));
  check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, ms.id(), fs.id(), H5P_DEFAULT, &v), "append", name);
}

namespace {
Handle grow_by(hid_t ds, size_t rows) {
  hsize_t start = ds_len(ds), n = start + rows, count = rows;
  if (H5Dset_extent(ds, &n) < 0) fail("H5Dset_extent");
  Handle fs(H5Dget_space(ds));
  H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  return fs;
}
template <class T>
void append_n(hid_t loc, const std::string& name, hid_t type, const T* data, size_t n) {
  if (n == 0) return;
  auto ds = open_ds(loc, name);
  auto fs = grow_by(ds.id(), n);
  hsize_t count = n;
  Handle ms(H5Screate_simple(1, &count, nullptr));
  check(H5Dwrite(ds.id(), type, ms.id(), fs.id(), H5P_DEFAULT, data), "append", name);
}
}  // namespace

void append_rows(hid_t loc, const std::string& name, const std::vector<std::string>& v) {
  std::vector<const char*> p;
  for (auto& s : v) p.push_back(s.c_str());
  auto t = str_type();
  append_n(loc, name, t.id(), p.data(), p.size());
}
void append_rows(hid_t loc, const std::string& name, const std::vector<int64_t>& v) {
  append_n(loc, name, H5T_NATIVE_INT64, v.data(), v.size());
}
void append_rows(hid_t loc, const std::string& name, const std::vector<double>& v) {
  append_n(loc, name, H5T_NATIVE_DOUBLE, v.data(), v.size());
}

size_t column_length(hid_t loc, const std::string& name) {
  auto ds = open_ds(loc, name);
  return ds_len(ds.id());
}

void truncate_column(hid_t loc, const std::string& name, size_t n) {
  auto ds = open_ds(loc, name);
  hsize_t d = n;
  if (H5Dset_extent(ds.id(), &d) < 0) fail("H5Dset_extent " + name);
}

std::vector<std::string> read_strings(hid_t loc, const std::string& name) {
  auto ds = open_ds(loc, name);
  size_t n = ds_len(ds.id());
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  Handle ft(H5Dget_type(ds.id()));
  if (H5Tget_class(ft.id()) != H5T_STRING) throw InputError(fmt::format("dataset '{}' is not a string column", name));
  if (H5Tis_variable_str(ft.id()) > 0) {
    auto t = str_type();
    std::vector<char*> p(n, nullptr);
    check(H5Dread(ds.id(), t.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "H5Dread", name);
    for (auto* s : p) out.emplace_back(s ? s : "");
    Handle sp(H5Dget_space(ds.id()));
    H5Dvlen_reclaim(t.id(), sp.id(), H5P_DEFAULT, p.data());
  } else {
    size_t w = H5Tget_size(ft.id());
    std::string buf(n * w, '\0');
    check(H5Dread(ds.id(), ft.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "H5Dread", name);
    for (size_t i = 0; i < n; ++i) {
      std::string s = buf.substr(i * w, w);
      s.resize(s.find('\0') == std::string::npos ? s.size() : s.find('\0'));
      out.push_back(s);
    }
  }
  return out;
}

std::vector<int64_t> read_ints(hid_t loc, const std::string& name) {
  auto ds = open_ds(loc, name);
  std::vector<int64_t> v(ds_len(ds.id()));
  if (!v.empty()) check(H5Dread(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "H5Dread", name);
  return v;
}

std::vector<double> read_doubles(hid_t loc, const std::string& name) {
  auto ds = open_ds(loc, name);
  std::vector<double> v(ds_len(ds.id()));
  if (!v.empty()) check(H5Dread(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "H5Dread", name);
  return v;
}

std::vector<double> read_matrix(hid_t loc, const std::string& name, size_t& rows, size_t& cols) {
  auto ds = open_ds(loc, name);
  Handle sp(H5Dget_space(ds.id()));
  int nd = H5Sget_simple_extent_ndims(sp.id());
  if (nd != 2) throw InputError(fmt::format("dataset '{}' is not 2-D", name));
  hsize_t d[2];
  H5Sget_simple_extent_dims(sp.id(), d, nullptr);
  rows = d[0];
  cols = d[1];
  std::vector<double> v(rows * cols);
  if (!v.empty()) check(H5Dread(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "H5Dread", name);
  return v;
}

}  // namespace dsv3::reports::h5
