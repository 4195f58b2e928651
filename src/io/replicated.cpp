#include "moesim/io/replicated.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/impl/h5_calls.hpp"
#include "moesim/par/communicator.hpp"

#include <fmt/format.h>

#include <functional>
#include <numeric>

namespace moesim::io {

namespace {
// H5Lexists fails on a path whose parent group is missing, so test each prefix in turn.
bool exists(hid_t file, const std::string& path, const impl::Where& where) {
    for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
        const std::string prefix = path.substr(0, end);
        if (!impl::lexists(file, prefix.c_str(), where))
            return false;
        if (end == std::string::npos)
            return true;
    }
}
} // namespace

void write_replicated(OutputFile& file, const std::string& path,
                      const std::vector<std::uint64_t>& shape, std::span<const double> values) {
    core::require(file.is_open(), "write_replicated on a closed file");
    const auto& comm = file.comm();
    const std::uint64_t n = std::accumulate(shape.begin(), shape.end(), std::uint64_t{1},
                                            std::multiplies<std::uint64_t>());
    // Checked collectively, so a wrong size on one rank is the same error everywhere.
    if (par::any(comm, values.size() != n))
        throw core::InternalError(fmt::format("write_replicated '{}' in '{}': a rank passed {} "
                                              "values (this rank: {}), expected {}",
                                              path, file.path(), "the wrong number of",
                                              values.size(), n));
    const impl::Where where{file.path(), path};
    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    Handle file_space =
        dims.empty() ? impl::screate(H5S_SCALAR, where) : impl::screate_simple(dims, {}, where);
    // A restarted run writes its estimates again over those of the interrupted one. Every
    // rank sees the same file structure, so all take the same branch.
    Handle dataset;
    if (exists(file.id(), path, where)) {
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
        dataset = impl::dcreate(file.id(), path.c_str(), H5T_IEEE_F64LE, file_space.id(), lcpl.id(),
                                H5P_DEFAULT, where);
    }
    // A collective write of nothing fails in HDF5 1.10.8 ("addr overflow"); n is the same
    // on every rank, so all skip together.
    if (n > 0) {
        Handle dxpl = impl::pcreate(H5P_DATASET_XFER, where);
        impl::pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE, where);
        Handle mem_space = impl::screate_simple({n}, {}, where);
        if (comm.rank() != 0) {
            impl::sselect_none(file_space.id(), where);
            impl::sselect_none(mem_space.id(), where);
        }
        impl::dwrite(dataset.id(), H5T_NATIVE_DOUBLE, mem_space.id(), file_space.id(), dxpl.id(),
                     values.data(), where);
    }
    file.flush();
}

} // namespace moesim::io
