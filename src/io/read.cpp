#include "moesim/io/read.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/hdf5_errors.hpp"

#include "io/read_impl.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <functional>

namespace moesim::io {

namespace impl {

Handle open_read_only(const std::string& path) {
    silence_hdf5_errors();
    const Where where{path, ""};
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw core::IoError("open", path, "", "no such file");
    if (!fis_hdf5(path.c_str(), where))
        throw core::IoError("open", path, "", "not an HDF5 file");
    return fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT, where);
}

namespace {

std::size_t element_count(hid_t space, const Where& where) {
    const H5S_class_t cls = sget_simple_extent_type(space, where);
    if (cls == H5S_NULL)
        return 0;
    std::size_t count = 1;
    if (cls == H5S_SIMPLE) {
        for (hsize_t d : sget_simple_extent_dims(space, where))
            count *= static_cast<std::size_t>(d);
    }
    return count;
}

using RawRead = std::function<void(hid_t mem_type, void* buf)>;

// Reads `count` string elements of file type `type` through `raw_read` (H5Aread or H5Dread).
std::vector<std::string> read_strings(hid_t type, std::size_t count, const RawRead& raw_read,
                                      const Where& where) {
    std::vector<std::string> strings;
    if (count == 0)
        return strings;
    Handle mem_type = tcopy(type, where);
    if (tis_variable_str(type, where)) {
        std::vector<char*> pointers(count, nullptr);
        raw_read(mem_type.id(), pointers.data());
        for (char* p : pointers) {
            strings.emplace_back(p ? p : "");
            if (p)
                free_memory(p, where);
        }
        return strings;
    }
    const std::size_t size = tget_size(type, where);
    std::vector<char> buffer(size * count, '\0');
    raw_read(mem_type.id(), buffer.data());
    for (std::size_t i = 0; i < count; ++i) {
        std::string s(buffer.data() + i * size, size);
        if (auto nul = s.find('\0'); nul != std::string::npos)
            s.resize(nul);
        strings.push_back(std::move(s));
    }
    return strings;
}

std::string join_list(const std::vector<std::string>& items) {
    if (items.size() == 1)
        return items.front();
    return fmt::format("[{}]", fmt::join(items, ", "));
}

} // namespace

std::string read_string_attribute(hid_t attr, const Where& where) {
    Handle type = aget_type(attr, where);
    Handle space = aget_space(attr, where);
    auto strings = read_strings(
        type.id(), element_count(space.id(), where),
        [&](hid_t mem_type, void* buf) { aread(attr, mem_type, buf, where); }, where);
    return strings.empty() ? std::string() : join_list(strings);
}

std::string read_string_dataset(hid_t dataset, const Where& where) {
    Handle type = dget_type(dataset, where);
    if (tget_class(type.id(), where) != H5T_STRING)
        throw core::IoError("read string", std::string(where.file), std::string(where.object),
                            "dataset does not hold strings");
    Handle space = dget_space(dataset, where);
    auto strings = read_strings(
        type.id(), element_count(space.id(), where),
        [&](hid_t mem_type, void* buf) {
            dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf, where);
        },
        where);
    return strings.empty() ? std::string() : join_list(strings);
}

std::string attribute_text(hid_t attr, const Where& where) {
    Handle type = aget_type(attr, where);
    Handle space = aget_space(attr, where);
    const std::size_t count = element_count(space.id(), where);
    std::vector<std::string> items;
    switch (tget_class(type.id(), where)) {
    case H5T_STRING:
        return read_string_attribute(attr, where);
    case H5T_INTEGER:
        if (tget_sign(type.id(), where) == H5T_SGN_NONE) {
            std::vector<std::uint64_t> values(count);
            if (count > 0)
                aread(attr, H5T_NATIVE_UINT64, values.data(), where);
            for (auto v : values)
                items.push_back(fmt::format("{}", v));
        } else {
            std::vector<std::int64_t> values(count);
            if (count > 0)
                aread(attr, H5T_NATIVE_INT64, values.data(), where);
            for (auto v : values)
                items.push_back(fmt::format("{}", v));
        }
        break;
    case H5T_FLOAT: {
        std::vector<double> values(count);
        if (count > 0)
            aread(attr, H5T_NATIVE_DOUBLE, values.data(), where);
        for (auto v : values)
            items.push_back(fmt::format("{}", v));
        break;
    }
    default:
        return fmt::format("<{}>", dtype_name(type.id(), where));
    }
    if (items.empty())
        return "[]";
    return join_list(items);
}

std::string dtype_name(hid_t type, const Where& where) {
    const std::size_t bits = tget_size(type, where) * 8;
    switch (tget_class(type, where)) {
    case H5T_INTEGER:
        return fmt::format("{}int{}", tget_sign(type, where) == H5T_SGN_NONE ? "u" : "", bits);
    case H5T_FLOAT:
        return fmt::format("float{}", bits);
    case H5T_STRING:
        return "string";
    case H5T_COMPOUND:
        return "compound";
    case H5T_ENUM:
        return "enum";
    case H5T_ARRAY:
        return "array";
    case H5T_VLEN:
        return "vlen";
    default:
        return "other";
    }
}

std::string shape_text(hid_t space, const Where& where) {
    switch (sget_simple_extent_type(space, where)) {
    case H5S_SCALAR:
        return "scalar";
    case H5S_NULL:
        return "null";
    default:
        break;
    }
    std::string text;
    for (hsize_t d : sget_simple_extent_dims(space, where))
        text += fmt::format("[{}]", d);
    return text;
}

} // namespace impl

namespace {
template <class T>
Array<T> read_numbers(const std::string& path, const std::string& dataset, hid_t mem_type) {
    Handle file = impl::open_read_only(path);
    const impl::Where where{path, dataset};
    Handle dset = impl::dopen(file.id(), dataset.c_str(), where);
    Handle type = impl::dget_type(dset.id(), where);
    const H5T_class_t cls = impl::tget_class(type.id(), where);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        throw core::IoError(
            "read", path, dataset,
            fmt::format("dataset holds {}, not numbers", impl::dtype_name(type.id(), where)));
    Array<T> array;
    for (hsize_t d : impl::read_all(dset.id(), mem_type, array.values, where))
        array.shape.push_back(static_cast<std::uint64_t>(d));
    return array;
}
} // namespace

std::vector<std::uint64_t> dataset_shape(const std::string& path, const std::string& dataset) {
    const impl::Where where{path, dataset};
    Handle file = impl::open_read_only(path);
    Handle data = impl::dopen(file.id(), dataset.c_str(), where);
    Handle space = impl::dget_space(data.id(), where);
    const auto dims = impl::sget_simple_extent_dims(space.id(), where);
    return {dims.begin(), dims.end()};
}

Array<double> read_float64(const std::string& path, const std::string& dataset) {
    return read_numbers<double>(path, dataset, H5T_NATIVE_DOUBLE);
}

std::vector<double> read_float64_rows(const std::string& path, const std::string& dataset,
                                      std::uint64_t frame, std::uint64_t first_row,
                                      std::uint64_t n_rows) {
    const impl::Where where{path, dataset};
    Handle file = impl::open_read_only(path);
    Handle data = impl::dopen(file.id(), dataset.c_str(), where);
    Handle file_space = impl::dget_space(data.id(), where);
    const auto dims = impl::sget_simple_extent_dims(file_space.id(), where);
    if (dims.size() < 2 || frame >= dims[0] || first_row + n_rows > dims[1])
        throw core::IoError("read rows of", path, dataset,
                            fmt::format("frame {} rows [{}, {}) are outside its shape [{}]", frame,
                                        first_row, first_row + n_rows, fmt::join(dims, "][")));
    std::uint64_t row_elements = 1;
    for (std::size_t i = 2; i < dims.size(); ++i)
        row_elements *= dims[i];
    std::vector<double> rows(n_rows * row_elements);
    if (rows.empty())
        return rows;
    std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
    start[0] = frame;
    count[0] = 1;
    start[1] = first_row;
    count[1] = n_rows;
    impl::sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, count, where);
    Handle mem_space = impl::screate_simple({rows.size()}, {}, where);
    impl::dread(data.id(), H5T_NATIVE_DOUBLE, mem_space.id(), file_space.id(), H5P_DEFAULT,
                rows.data(), where);
    return rows;
}

Array<std::int64_t> read_int64(const std::string& path, const std::string& dataset) {
    return read_numbers<std::int64_t>(path, dataset, H5T_NATIVE_INT64);
}

std::string read_string(const std::string& path, const std::string& dataset) {
    Handle file = impl::open_read_only(path);
    const impl::Where where{path, dataset};
    Handle dset = impl::dopen(file.id(), dataset.c_str(), where);
    return impl::read_string_dataset(dset.id(), where);
}

std::string read_attribute_text(const std::string& path, const std::string& object,
                                const std::string& name) {
    Handle file = impl::open_read_only(path);
    const std::string full = object == "/" ? "/" + name : object + "/" + name;
    const impl::Where where{path, full};
    Handle obj = impl::oopen(file.id(), object.c_str(), where);
    Handle attr = impl::aopen(obj.id(), name.c_str(), where);
    return impl::attribute_text(attr.id(), where);
}

} // namespace moesim::io
