#include "io/h5_calls.hpp"

#include "moesim/core/error.hpp"
#include "moesim/io/hdf5_errors.hpp"

#include <fmt/format.h>

#include <string>

namespace moesim::io::impl {

void fail(const char* call, const char* verb, const Where& where) {
    std::string stack = take_hdf5_error_stack();
    throw core::IoError(verb, std::string(where.file), std::string(where.object),
                        stack.empty() ? fmt::format("{} failed", call)
                                      : fmt::format("{} failed: {}", call, stack));
}

namespace {
hid_t checked_id(hid_t id, const char* call, const char* verb, const Where& where) {
    if (id < 0)
        fail(call, verb, where);
    return id;
}
void checked(herr_t status, const char* call, const char* verb, const Where& where) {
    if (status < 0)
        fail(call, verb, where);
}
bool checked_tri(htri_t value, const char* call, const char* verb, const Where& where) {
    if (value < 0)
        fail(call, verb, where);
    return value > 0;
}
} // namespace

Handle fcreate(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, const Where& where) {
    return Handle(
        checked_id(H5Fcreate(name, flags, fcpl, fapl), "H5Fcreate", "create file", where));
}

Handle fopen(const char* name, unsigned flags, hid_t fapl, const Where& where) {
    return Handle(checked_id(H5Fopen(name, flags, fapl), "H5Fopen", "open file", where));
}

void fflush(hid_t object, H5F_scope_t scope, const Where& where) {
    checked(H5Fflush(object, scope), "H5Fflush", "flush file", where);
}

void fclose(hid_t file, const Where& where) {
    checked(H5Fclose(file), "H5Fclose", "close file", where);
}

bool fis_hdf5(const char* name, const Where& where) {
    return checked_tri(H5Fis_hdf5(name), "H5Fis_hdf5", "check file format of", where);
}

Handle pcreate(hid_t cls, const Where& where) {
    return Handle(checked_id(H5Pcreate(cls), "H5Pcreate", "create property list for", where));
}

void pset_fapl_mpio(hid_t fapl, MPI_Comm comm, MPI_Info info, const Where& where) {
    checked(H5Pset_fapl_mpio(fapl, comm, info), "H5Pset_fapl_mpio", "set MPI-IO driver for", where);
}

void pset_all_coll_metadata_ops(hid_t plist, bool collective, const Where& where) {
    checked(H5Pset_all_coll_metadata_ops(plist, collective), "H5Pset_all_coll_metadata_ops",
            "set collective metadata reads for", where);
}

void pset_coll_metadata_write(hid_t fapl, bool collective, const Where& where) {
    checked(H5Pset_coll_metadata_write(fapl, collective), "H5Pset_coll_metadata_write",
            "set collective metadata writes for", where);
}

void pset_fclose_degree(hid_t fapl, H5F_close_degree_t degree, const Where& where) {
    checked(H5Pset_fclose_degree(fapl, degree), "H5Pset_fclose_degree", "set file close degree for",
            where);
}

void pset_create_intermediate_group(hid_t lcpl, bool create, const Where& where) {
    checked(H5Pset_create_intermediate_group(lcpl, create ? 1U : 0U),
            "H5Pset_create_intermediate_group", "set intermediate group creation for", where);
}

void pset_chunk(hid_t dcpl, const std::vector<hsize_t>& dims, const Where& where) {
    checked(H5Pset_chunk(dcpl, static_cast<int>(dims.size()), dims.data()), "H5Pset_chunk",
            "set chunk shape of", where);
}

void pset_fill_time(hid_t dcpl, H5D_fill_time_t fill_time, const Where& where) {
    checked(H5Pset_fill_time(dcpl, fill_time), "H5Pset_fill_time", "set fill time of", where);
}

void pset_dxpl_mpio(hid_t dxpl, H5FD_mpio_xfer_t mode, const Where& where) {
    checked(H5Pset_dxpl_mpio(dxpl, mode), "H5Pset_dxpl_mpio", "set MPI-IO transfer mode for",
            where);
}

H5D_mpio_actual_io_mode_t pget_mpio_actual_io_mode(hid_t dxpl, const Where& where) {
    H5D_mpio_actual_io_mode_t mode = H5D_MPIO_NO_COLLECTIVE;
    checked(H5Pget_mpio_actual_io_mode(dxpl, &mode), "H5Pget_mpio_actual_io_mode",
            "query MPI-IO mode of write to", where);
    return mode;
}

Handle screate(H5S_class_t type, const Where& where) {
    return Handle(checked_id(H5Screate(type), "H5Screate", "create dataspace for", where));
}

Handle screate_simple(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims,
                      const Where& where) {
    return Handle(checked_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                              maxdims.empty() ? nullptr : maxdims.data()),
                             "H5Screate_simple", "create dataspace for", where));
}

void sselect_hyperslab(hid_t space, H5S_seloper_t op, const std::vector<hsize_t>& start,
                       const std::vector<hsize_t>& count, const Where& where) {
    checked(H5Sselect_hyperslab(space, op, start.data(), nullptr, count.data(), nullptr),
            "H5Sselect_hyperslab", "select hyperslab of", where);
}

void sselect_none(hid_t space, const Where& where) {
    checked(H5Sselect_none(space), "H5Sselect_none", "select nothing of", where);
}

H5S_class_t sget_simple_extent_type(hid_t space, const Where& where) {
    const H5S_class_t type = H5Sget_simple_extent_type(space);
    if (type == H5S_NO_CLASS)
        fail("H5Sget_simple_extent_type", "query dataspace of", where);
    return type;
}

int sget_simple_extent_ndims(hid_t space, const Where& where) {
    const int ndims = H5Sget_simple_extent_ndims(space);
    if (ndims < 0)
        fail("H5Sget_simple_extent_ndims", "query rank of", where);
    return ndims;
}

std::vector<hsize_t> sget_simple_extent_dims(hid_t space, const Where& where) {
    std::vector<hsize_t> dims(static_cast<std::size_t>(sget_simple_extent_ndims(space, where)));
    if (H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0)
        fail("H5Sget_simple_extent_dims", "query shape of", where);
    return dims;
}

Handle tcopy(hid_t type, const Where& where) {
    return Handle(checked_id(H5Tcopy(type), "H5Tcopy", "copy datatype for", where));
}

void tset_size(hid_t type, std::size_t size, const Where& where) {
    checked(H5Tset_size(type, size), "H5Tset_size", "set datatype size for", where);
}

void tset_strpad(hid_t type, H5T_str_t pad, const Where& where) {
    checked(H5Tset_strpad(type, pad), "H5Tset_strpad", "set string padding for", where);
}

void tset_cset(hid_t type, H5T_cset_t cset, const Where& where) {
    checked(H5Tset_cset(type, cset), "H5Tset_cset", "set character set for", where);
}

H5T_class_t tget_class(hid_t type, const Where& where) {
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_NO_CLASS)
        fail("H5Tget_class", "query datatype class of", where);
    return cls;
}

std::size_t tget_size(hid_t type, const Where& where) {
    const std::size_t size = H5Tget_size(type);
    if (size == 0)
        fail("H5Tget_size", "query datatype size of", where);
    return size;
}

H5T_sign_t tget_sign(hid_t type, const Where& where) {
    const H5T_sign_t sign = H5Tget_sign(type);
    if (sign == H5T_SGN_ERROR)
        fail("H5Tget_sign", "query integer sign of", where);
    return sign;
}

bool tis_variable_str(hid_t type, const Where& where) {
    return checked_tri(H5Tis_variable_str(type), "H5Tis_variable_str", "query string type of",
                       where);
}

Handle gcreate(hid_t loc, const char* name, hid_t lcpl, const Where& where) {
    return Handle(checked_id(H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2",
                             "create group", where));
}

Handle oopen(hid_t loc, const char* name, const Where& where) {
    return Handle(checked_id(H5Oopen(loc, name, H5P_DEFAULT), "H5Oopen", "open object", where));
}

bool lexists(hid_t loc, const char* name, const Where& where) {
    return checked_tri(H5Lexists(loc, name, H5P_DEFAULT), "H5Lexists", "look up link", where);
}

bool path_exists(hid_t file, const std::string& path, const Where& where) {
    for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
        const std::string prefix = path.substr(0, end);
        if (!lexists(file, prefix.c_str(), where))
            return false;
        if (end == std::string::npos)
            return true;
    }
}

void literate(hid_t group, H5_index_t index, H5_iter_order_t order, H5L_iterate_t op, void* data,
              const Where& where) {
    checked(H5Literate(group, index, order, nullptr, op, data), "H5Literate", "list group", where);
}

H5I_type_t iget_type(hid_t id, const Where& where) {
    const H5I_type_t type = H5Iget_type(id);
    if (type == H5I_BADID)
        fail("H5Iget_type", "query object type of", where);
    return type;
}

Handle dcreate(hid_t loc, const char* name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
               const Where& where) {
    return Handle(checked_id(H5Dcreate2(loc, name, type, space, lcpl, dcpl, H5P_DEFAULT),
                             "H5Dcreate2", "create dataset", where));
}

Handle dopen(hid_t loc, const char* name, const Where& where) {
    return Handle(checked_id(H5Dopen2(loc, name, H5P_DEFAULT), "H5Dopen2", "open dataset", where));
}

void dset_extent(hid_t dataset, const std::vector<hsize_t>& dims, const Where& where) {
    checked(H5Dset_extent(dataset, dims.data()), "H5Dset_extent", "extend dataset", where);
}

Handle dget_space(hid_t dataset, const Where& where) {
    return Handle(
        checked_id(H5Dget_space(dataset), "H5Dget_space", "get dataspace of dataset", where));
}

Handle dget_type(hid_t dataset, const Where& where) {
    return Handle(
        checked_id(H5Dget_type(dataset), "H5Dget_type", "get datatype of dataset", where));
}

void dwrite(hid_t dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl,
            const void* buf, const Where& where) {
    checked(H5Dwrite(dataset, mem_type, mem_space, file_space, dxpl, buf), "H5Dwrite",
            "write dataset", where);
}

void dread(hid_t dataset, hid_t mem_type, hid_t mem_space, hid_t file_space, hid_t dxpl, void* buf,
           const Where& where) {
    checked(H5Dread(dataset, mem_type, mem_space, file_space, dxpl, buf), "H5Dread", "read dataset",
            where);
}

Handle acreate(hid_t loc, const char* name, hid_t type, hid_t space, const Where& where) {
    return Handle(checked_id(H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT),
                             "H5Acreate2", "create attribute", where));
}

Handle aopen(hid_t loc, const char* name, const Where& where) {
    return Handle(checked_id(H5Aopen(loc, name, H5P_DEFAULT), "H5Aopen", "open attribute", where));
}

void awrite(hid_t attr, hid_t mem_type, const void* buf, const Where& where) {
    checked(H5Awrite(attr, mem_type, buf), "H5Awrite", "write attribute", where);
}

void aread(hid_t attr, hid_t mem_type, void* buf, const Where& where) {
    checked(H5Aread(attr, mem_type, buf), "H5Aread", "read attribute", where);
}

Handle aget_space(hid_t attr, const Where& where) {
    return Handle(
        checked_id(H5Aget_space(attr), "H5Aget_space", "get dataspace of attribute", where));
}

Handle aget_type(hid_t attr, const Where& where) {
    return Handle(checked_id(H5Aget_type(attr), "H5Aget_type", "get datatype of attribute", where));
}

void aiterate(hid_t loc, H5_index_t index, H5_iter_order_t order, H5A_operator2_t op, void* data,
              const Where& where) {
    checked(H5Aiterate2(loc, index, order, nullptr, op, data), "H5Aiterate2", "list attributes of",
            where);
}

void free_memory(void* buf, const Where& where) {
    checked(H5free_memory(buf), "H5free_memory", "free library memory for", where);
}

std::string get_libversion(const Where& where) {
    unsigned major = 0, minor = 0, release = 0;
    checked(H5get_libversion(&major, &minor, &release), "H5get_libversion",
            "query HDF5 version for", where);
    return fmt::format("{}.{}.{}", major, minor, release);
}

} // namespace moesim::io::impl
