#include "moesim/io/table.hpp"

#include "io/h5_calls.hpp"
#include "moesim/core/error.hpp"
#include "moesim/par/communicator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <numeric>

namespace moesim::io {

namespace {

void write_table(OutputFile& file, const std::string& path, const std::vector<std::uint64_t>& shape,
                 const void* values, std::size_t n_values, hid_t file_type, hid_t mem_type) {
    core::require(file.is_open(), "write_replicated on a closed file");
    const std::uint64_t n_elements = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1},
                                                     std::multiplies<std::uint64_t>());
    // Checked collectively, so a wrong size on one rank is the same error everywhere.
    if (par::any(file.comm(), n_values != n_elements))
        throw core::InternalError(
            fmt::format("write_replicated '{}' in '{}': a rank passed {} values (this rank: {}), "
                        "expected {}",
                        path, file.path(), "the wrong number of", n_values, n_elements));
    const impl::Where where{file.path(), path};
    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    Handle file_space =
        dims.empty() ? impl::screate(H5S_SCALAR, where) : impl::screate_simple(dims, {}, where);
    // Every rank sees the same file structure, so all take the same branch.
    Handle dataset;
    if (impl::path_exists(file.id(), path, where)) {
        dataset = impl::dopen(file.id(), path.c_str(), where);
        Handle existing = impl::dget_space(dataset.id(), where);
        const auto existing_dims = impl::sget_simple_extent_type(existing.id(), where) == H5S_SCALAR
                                       ? std::vector<hsize_t>{}
                                       : impl::sget_simple_extent_dims(existing.id(), where);
        if (existing_dims != dims)
            throw core::IoError("overwrite dataset", file.path(), path,
                                "it exists with another shape", core::Scope::collective);
    } else {
        Handle lcpl = impl::pcreate(H5P_LINK_CREATE, where);
        impl::pset_create_intermediate_group(lcpl.id(), true, where);
        dataset = impl::dcreate(file.id(), path.c_str(), file_type, file_space.id(), lcpl.id(),
                                H5P_DEFAULT, where);
    }
    // n_elements is the same on every rank, so all skip a zero-size write together.
    if (n_elements > 0) {
        Handle dxpl = impl::pcreate(H5P_DATASET_XFER, where);
        impl::pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE, where);
        const bool writer = file.comm().rank() == 0;
        Handle mem_space = impl::screate_simple({writer ? n_elements : 1}, {}, where);
        if (!writer) {
            impl::sselect_none(file_space.id(), where);
            impl::sselect_none(mem_space.id(), where);
        }
        const double dummy = 0.0; // H5Dwrite wants a buffer even for an empty selection
        impl::dwrite(dataset.id(), mem_type, mem_space.id(), file_space.id(), dxpl.id(),
                     writer ? values : &dummy, where);
    }
    file.flush();
}

} // namespace

void write_replicated_strings(OutputFile& file, const std::string& path,
                              std::span<const std::string> values) {
    // The width is the longest string plus its NUL; every rank passes the same strings.
    std::size_t width = 1;
    for (const auto& v : values)
        width = std::max(width, v.size() + 1);
    std::vector<char> buffer(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i)
        values[i].copy(buffer.data() + i * width, values[i].size());
    const impl::Where where{file.path(), path};
    Handle type = impl::tcopy(H5T_C_S1, where);
    impl::tset_size(type.id(), width, where);
    impl::tset_strpad(type.id(), H5T_STR_NULLPAD, where);
    write_table(file, path, {values.size()}, buffer.data(), values.size(), type.id(), type.id());
}

void write_replicated(OutputFile& file, const std::string& path, std::vector<std::uint64_t> shape,
                      std::span<const double> values) {
    write_table(file, path, shape, values.data(), values.size(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE);
}

void write_replicated(OutputFile& file, const std::string& path, std::vector<std::uint64_t> shape,
                      std::span<const std::int64_t> values) {
    write_table(file, path, shape, values.data(), values.size(), H5T_STD_I64LE, H5T_NATIVE_INT64);
}

} // namespace moesim::io
