#pragma once
// Reading helpers shared by the serial readers and inspect.

#include "io/h5_calls.hpp"
#include "moesim/io/handle.hpp"

#include <string>
#include <vector>

namespace moesim::io::impl {

/// Opens `path` read-only with the default (serial) driver; a missing file or a non-HDF5 file
/// is an IoError saying so. Local.
Handle open_read_only(const std::string& path);

/// Reads a string attribute or scalar string dataset (fixed or variable length). Local.
std::string read_string_attribute(hid_t attr, const Where& where);
std::string read_string_dataset(hid_t dataset, const Where& where);

/// Formats any attribute: strings as is, numbers with {:.6g} / integers exactly, arrays
/// "[a, b]". Local.
std::string attribute_text(hid_t attr, const Where& where);

/// "float64", "int32", "uint64", "string", ... Local.
std::string dtype_name(hid_t type, const Where& where);

/// Shape of a dataspace: "scalar", "null", or "[a][b]". Local.
std::string shape_text(hid_t space, const Where& where);

/// Reads all of `dataset` converted to `mem_type` (whose C type is T) into `out`, resized to
/// the element count; returns the shape (empty for a scalar). Local.
template <class T>
std::vector<hsize_t> read_all(hid_t dataset, hid_t mem_type, std::vector<T>& out,
                              const Where& where) {
    Handle space = dget_space(dataset, where);
    std::vector<hsize_t> dims;
    const H5S_class_t cls = sget_simple_extent_type(space.id(), where);
    std::size_t count = cls == H5S_NULL ? 0 : 1;
    if (cls == H5S_SIMPLE) {
        dims = sget_simple_extent_dims(space.id(), where);
        for (hsize_t d : dims)
            count *= static_cast<std::size_t>(d);
    }
    out.resize(count);
    if (count > 0)
        dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data(), where);
    return dims;
}

} // namespace moesim::io::impl
